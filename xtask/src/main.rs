//! `cargo xtask`: the project's two commands, plus the setup they share.
//!
//! - `cargo xtask run`: install what is missing, build the site, run Strata on its defaults.
//! - `cargo xtask test`: install what is missing, then fmt, the release build and the other
//!   targets with clippy's lints as errors, Rust tests on SQLite and PostgreSQL, and the
//!   Playwright suite in Debian's Chromium.
//! - `cargo xtask setup`: only the installs.
//! - `cargo xtask build`: only the release build (the site in target/site, the server in
//!   target/release), installing only what it needs (no system packages).
//! - `cargo xtask bench`: the load benchmark (server/benches/load.rs) on a release build;
//!   `--soak MINUTES` adds the memory soak.
//!
//! Every install step checks first and does nothing when the tool is already there, so a second
//! run goes straight to the work. Only the standard library is used, so this builds in seconds.
// Allowed here: a build tool waits for real processes (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod setup;
mod steps;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let result = match command.as_str() {
        "setup" => setup::all(setup::Need::Test),
        "run" => steps::run(&rest),
        "build" => steps::build(),
        "test" => steps::test(),
        "bench" => steps::bench(&rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <run|test|setup|build|bench>\n\n  run    install what is missing, build, and run Strata (extra args go to `strata serve`)\n  test   install what is missing and run every check and test\n  setup  install what is missing\n  build  the release site and server only\n  bench  the load benchmark on a release build (--soak MINUTES adds the memory soak)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}
