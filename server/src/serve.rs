//! Start-up and shutdown: open the control plane, bind, serve until SIGINT or SIGTERM.

use axum::serve::ListenerExt;
use control::{Control, ControlConfig};
use leptos::prelude::LeptosOptions;
use model::EventTransport;
use std::path::Path;

use crate::{router, AppState, Cli, Command, Config};

/// Why `strata` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the data directory could not be prepared: {0}")]
    DataDir(#[from] std::io::Error),
    #[error(transparent)]
    Start(#[from] control::db::StartError),
    #[error("could not apply migrations: {0}")]
    Migrate(#[source] sea_orm::DbErr),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(#[source] std::io::Error),
    #[error("{0}")]
    Authz(String),
    #[error("agent: {0}")]
    Agent(String),
}

pub async fn run(cli: Cli) -> Result<(), RunError> {
    let command = cli.command.unwrap_or(Command::Serve);
    // The authz tools print their answers on stdout; log lines would get in the way.
    let _telemetry = if !matches!(command, Command::Authz(_) | Command::Config(_)) {
        Some(crate::logging::init(
            &cli.config.log,
            cli.config.otlp_endpoint.as_deref(),
        ))
    } else {
        None
    };
    match command {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(&cli.config).await,
        Command::Authz(cmd) => crate::authz_cli::run(&cli.config, cmd).await,
        Command::Agent(args) => crate::agent_cmd::run(&cli.config, args, shutdown_signal()).await,
        // Handled in main before anything starts.
        Command::Config(_)
        | Command::Login(_)
        | Command::Vm(_)
        | Command::Service(_)
        | Command::Operation(_)
        | Command::Token(_)
        | Command::Completions { .. } => Ok(()),
    }
}

async fn migrate(config: &Config) -> Result<(), RunError> {
    let url = config.database_url()?;
    let applied = control::db::migrate(&url)
        .await
        .map_err(RunError::Migrate)?;
    tracing::info!(applied, "migrations applied");
    Ok(())
}

/// Leptos settings derived from our own configuration.
pub fn leptos_options(site_root: &Path) -> LeptosOptions {
    // The site build (tools/site) writes hash.txt beside the binary when it hashed asset names.
    let hashed = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt").exists()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name("strata")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .hash_files(hashed)
        .env(leptos::config::Env::PROD)
        .build()
}

async fn serve(config: Config) -> Result<(), RunError> {
    // One socket per agent and per open page: the usual soft limit of 1,024 is too few.
    agent::raise_fd_limit();
    let database_url = config.database_url()?;
    let control = Control::start(
        &ControlConfig {
            database_url,
            events: if config.redis_url.is_some() {
                EventTransport::Redis
            } else {
                EventTransport::InProcess
            },
            redis_url: config.redis_url.clone(),
            auth: config.auth(),
            compute: config.compute(),
        },
        control::clock::system_now(),
    )
    .await?;
    tracing::info!(backend = ?control.backend(), "database ready");
    // Operations queued before a restart (or a crash) resume here; VMs still running are
    // adopted by the first sweep.
    control.spawn_runner();
    // Grant changes reach open pages (they refetch what they show).
    control.spawn_access_watch();
    // New audit rows reach the audit pages of those who may see them.
    control.spawn_audit_watch();
    // Nodes that fall silent reach the Nodes page when they become unreachable.
    control.spawn_node_watch();
    // Usage of running VMs, every five seconds, for charts.
    control.spawn_usage_sampler();
    // Histogram samples are folded into buckets whether or not anyone scrapes /metrics.
    crate::metrics::spawn_upkeep();
    if !config.site_root.join("pkg").is_dir() {
        tracing::warn!(site_root = %config.site_root.display(), "no built site found; pages will render without styles or interactivity. Build it with `cargo xtask build`");
    }
    let state = AppState {
        leptos_options: leptos_options(&config.site_root),
        control,
        auth_limiter: crate::ratelimit::RateLimiter::per_minute(config.auth_rate_per_minute),
        api_limiter: crate::ratelimit::RateLimiter::per_minute(config.api_rate_per_minute),
        trusted_proxies: config.trusted_proxies.clone().unwrap_or_default(),
        metrics: match (&config.metrics_token, config.metrics_listen) {
            (Some(token), None) => crate::metrics::MetricsAccess::Token(token.clone()),
            _ => crate::metrics::MetricsAccess::Off,
        },
    };
    if let Some(addr) = config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Bind { addr, source })?;
        let metrics_app = crate::metrics::separate_router(state.clone());
        tracing::info!(listen = %addr, "metrics on a separate address");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics_app).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    } else if config.metrics_token.is_none() {
        tracing::info!(
            "/metrics is off: set STRATA_METRICS_TOKEN or STRATA_METRICS_LISTEN to serve it"
        );
    }
    if let Some(days) = config.audit_retention_days {
        crate::retention::spawn(state.control.clone(), days);
    }
    if let crate::config::AgentListen(Some(addr)) = config.agent_listen {
        let host = http::Uri::try_from(config.public_url.as_str())
            .ok()
            .and_then(|u| u.host().map(str::to_owned))
            .unwrap_or_else(|| "localhost".into());
        let agents =
            crate::agents::bind(&state.control, addr, config.agent_url.clone(), &host).await?;
        tokio::spawn(crate::agents::serve(state.control.clone(), agents));
    }
    let app = router::build(state);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| RunError::Bind {
            addr: config.listen,
            source,
        })?
        .tap_io(no_delay);
    tracing::info!(listen = %config.listen, url = %config.public_url, "Strata is listening; open {}", config.public_url);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(RunError::Serve)?;
    tracing::info!("Strata stopped");
    Ok(())
}

/// Sends each write at once. Responses leave in several writes (headers, then a streamed
/// or compressed body); with Nagle's algorithm on, the second waits for the client's delayed
/// ACK, about 40 ms on every request after the first on a kept-alive connection.
fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY could not be set");
    }
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then finish before the process exits.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}
