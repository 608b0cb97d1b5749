//! The outside programs the build runs (Tailwind, esbuild, wasm-opt from node_modules), and its
//! progress lines.

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};

/// Runs `cmd` to the end; its output is shown only when it fails, with `what` it was doing.
pub fn run(mut cmd: Command, what: &str) -> Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().with_context(|| {
        format!(
            "cannot run {program} (is node_modules/.bin on PATH? `cargo xtask setup` installs it)"
        )
    })?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// A line saying how far the build got, `started` being when it began.
pub fn progress(what: &str, started: Instant) {
    eprintln!(
        "strata-site: {what} at {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
