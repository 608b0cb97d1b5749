//! `/healthz` (the process answers) and `/readyz` (database reachable, migrations applied).

use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;

use crate::AppState;

#[derive(Serialize)]
pub struct Health {
    status: &'static str,
}

#[derive(Serialize)]
pub struct Ready {
    status: &'static str,
    database: bool,
    migrations: bool,
}

pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let r = state.control.readiness().await;
    let (code, status) = if r.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
    };
    (
        code,
        Json(Ready {
            status,
            database: r.database,
            migrations: r.migrations,
        }),
    )
}
