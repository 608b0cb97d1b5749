//! Structured JSON logs on stdout, filtered by `--log` / `STRATA_LOG`.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber; a second call (in tests) is a no-op.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false),
        )
        .try_init();
}
