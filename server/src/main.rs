//! `strata`: parse the command line, run, and turn a failure into a message and exit code 1.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = server::Cli::parse();
    match server::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
