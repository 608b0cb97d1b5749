//! Prometheus metrics at `/metrics`: HTTP requests by route and status with latency
//! histograms, server function calls and errors, permission checks and their latency (counted
//! in `control`), live sessions, and VMs by node and state. Refused unless a bearer token is
//! configured, or served without one on a separate address.

use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// Who may read `/metrics` on the main address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Requests must carry `Authorization: Bearer TOKEN`.
    Token(String),
    /// Not on the main address (not configured, or served on a separate one).
    #[default]
    Off,
}

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets in seconds: 0.5 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder once; None if another recorder is installed.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds the recorder's raw histogram samples into their buckets every few seconds. The
/// exporter keeps every sample until it renders or runs its upkeep, so a server nobody
/// scrapes grew by a few bytes per request without end (docs/performance.md, the soak).
pub fn spawn_upkeep() {
    if let Some(handle) = handle() {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        });
    }
}

/// A bounded label for a request path: known server functions by path, everything else by
/// kind, so nobody can grow the series by inventing URLs.
fn route_label(path: &str) -> String {
    if path.starts_with("/api/") {
        let known = server_fn::axum::server_fn_paths().any(|(p, _)| p == path)
            || path == "/api/audit/export";
        return if known {
            path.to_owned()
        } else {
            "/api/other".to_owned()
        };
    }
    match path {
        "/healthz" | "/readyz" | "/metrics" => path.to_owned(),
        p if p.starts_with("/pkg/") => "/pkg".to_owned(),
        p if p.rsplit('/').next().is_some_and(|last| last.contains('.')) => "static".to_owned(),
        _ => "page".to_owned(),
    }
}

/// Middleware: counts every request and times it.
pub async fn track(req: Request<Body>, next: Next) -> Response {
    let route = route_label(req.uri().path());
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("strata_http_requests_total", "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("strata_http_request_duration_seconds", "route" => route.clone())
        .record(elapsed);
    if route.starts_with("/api/") && route != "/api/other" {
        let result = if res.status().is_success() {
            "ok"
        } else {
            "error"
        };
        metrics::counter!("strata_server_fn_calls_total", "function" => route, "result" => result)
            .increment(1);
    }
    res
}

/// `/metrics` on the main address.
pub async fn endpoint(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.metrics {
        MetricsAccess::Off => (
            StatusCode::NOT_FOUND,
            "metrics are not served here: set STRATA_METRICS_TOKEN, or STRATA_METRICS_LISTEN for a separate address\n",
        )
            .into_response(),
        MetricsAccess::Token(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
                render(&state).await
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "a bearer token is required\n",
                )
                    .into_response()
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refreshes the gauges read from the database, then renders every metric.
pub async fn render(state: &AppState) -> Response {
    let Some(handle) = handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response();
    };
    match state.control.gauges(state.control.now()).await {
        Ok(g) => {
            metrics::gauge!("strata_sessions_active").set(g.sessions_active as f64);
            for (node, state_name, n) in g.vms {
                metrics::gauge!("strata_vms", "node" => node, "state" => state_name).set(n as f64);
            }
            for (state_name, n) in g.operations {
                metrics::gauge!("strata_operations", "state" => state_name).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics gauges could not be read"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// The separate metrics address: `/metrics` without a token, nothing else.
pub fn separate_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(state): State<AppState>| async move { render(&state).await }),
        )
        .with_state(state)
}
