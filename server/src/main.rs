//! `strata`: parse the command line, run, and turn a failure into a message and exit code 1.

/// mimalloc instead of glibc's malloc: under load glibc's allocator was a fifth of the server's
/// CPU (`perf` during the load benchmark: `_int_malloc`, `malloc_consolidate`, `unlink_chunk`)
/// and kept freed memory in per-thread arenas (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let (cli, sources) = match server::layered::load(
        std::env::args_os().collect(),
        std::env::var_os("STRATA_CONFIG"),
    ) {
        Ok(loaded) => loaded,
        Err(server::layered::ConfigError::Args(e)) => e.exit(),
        Err(e) => {
            eprintln!("strata: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if cli.command == Some(server::Command::Config(server::config::ConfigCommand::Show)) {
        print!("{}", server::layered::show(&cli, &sources));
        return std::process::ExitCode::SUCCESS;
    }
    if let Some(done) = cli.command.as_ref().and_then(server::client::dispatch) {
        return match done {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("strata: {}", e.message);
                std::process::ExitCode::from(e.code)
            }
        };
    }
    match server::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
