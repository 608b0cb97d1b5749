//! `/api/v1/vms/{id}/console`: a VM's serial console for scripts and `strata vm console`,
//! without a WebSocket: `GET` reads the output from an offset (the answer says where the next
//! read starts), `POST` types text into the guest. Each call checks `console` on the VM.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use model::AppError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use crate::AppState;

/// The most one read returns, and one write may type.
const CHUNK: usize = 64 * 1024;
const MAX_INPUT: usize = 4096;

/// Where to read from.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsoleQuery {
    /// The byte offset to read from: 0 (the default) for everything since the VM's last
    /// start, or the `next` of the previous read.
    pub offset: Option<u64>,
}

/// Console output.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsoleOutput {
    /// The guest's output from `offset` (UTF-8; anything else shown as U+FFFD).
    pub text: String,
    /// Where the next read starts.
    pub next: u64,
}

/// What to type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsoleInput {
    /// Sent as is (end a command with a newline), at most 4,096 bytes.
    pub text: String,
}

#[utoipa::path(get, path = "/vms/{id}/console", tag = "vms", params(("id" = String, Path, description = "The VM's id"), ConsoleQuery),
    responses((status = 200, body = ConsoleOutput), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn read_console(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    query: Result<Query<ConsoleQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ConsoleOutput>> {
    let Query(q) = query?;
    let now = state.control.now();
    let console = state.control.open_console(&caller, &id, now).await?;
    let offset = q.offset.unwrap_or(0);
    // Not running (yet): nothing to show.
    let (bytes, next) = console
        .read(offset, CHUNK)
        .await
        .unwrap_or((Vec::new(), offset));
    Ok(Json(ConsoleOutput {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        next,
    }))
}

#[utoipa::path(post, path = "/vms/{id}/console", tag = "vms", request_body = ConsoleInput,
    params(("id" = String, Path, description = "The VM's id")),
    responses((status = 204, description = "Typed"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn write_console(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<ConsoleInput>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(input) = body?;
    if input.text.len() > MAX_INPUT {
        return Err(AppError::Invalid(format!("Type at most {MAX_INPUT} bytes at once.")).into());
    }
    let now = state.control.now();
    let console = state.control.open_console(&caller, &id, now).await?;
    console.write(input.text.as_bytes()).await.map_err(|e| {
        tracing::debug!(vm = %id, error = %e, "console input not delivered");
        AppError::Conflict("The VM is not running: nothing reads its console.".into())
    })?;
    Ok(StatusCode::NO_CONTENT)
}
