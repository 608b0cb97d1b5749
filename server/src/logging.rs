//! Structured JSON logs on stdout, filtered by `--log` / `STRATA_LOG`, and optional
//! OpenTelemetry trace export over OTLP/HTTP when `--otlp-endpoint` is set (off by default:
//! with no endpoint nothing is built and nothing is sent).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Flushes exported spans when dropped (at the end of `main`).
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            // The exporter's HTTP client is a blocking one: shut it down off any runtime.
            let _ = std::thread::spawn(move || provider.shutdown()).join();
        }
    }
}

/// The OTLP/HTTP traces URL for a collector's base URL (`http://collector:4318`).
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

fn provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    let url = traces_url(endpoint);
    // Built on a thread of its own: the blocking HTTP client may not be made inside the
    // async runtime.
    std::thread::spawn(move || {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(url)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("strata")
                    .build(),
            )
            .build())
    })
    .join()
    .map_err(|_| "the OTLP exporter could not be built".to_owned())?
}

/// Installs the global subscriber; a second call (in tests) is a no-op.
pub fn init(filter: &str, otlp_endpoint: Option<&str>) -> Telemetry {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false);
    let (otel, provider, failed) = match otlp_endpoint.map(provider) {
        Some(Ok(p)) => (
            Some(tracing_opentelemetry::layer().with_tracer(p.tracer("strata"))),
            Some(p),
            None,
        ),
        Some(Err(e)) => (None, None, Some(e)),
        None => (None, None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(otel)
        .try_init();
    if let Some(e) = failed {
        tracing::error!(error = %e, "OpenTelemetry export is off: the exporter could not start");
    } else if let Some(endpoint) = otlp_endpoint {
        tracing::info!(endpoint = %traces_url(endpoint), "exporting traces over OTLP/HTTP");
    }
    Telemetry(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_once() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            traces_url("http://c:4318/v1/traces"),
            "http://c:4318/v1/traces"
        );
    }
}
