//! A way in and out: a VM's port forwards (ports of its node's addresses to its ports) and a
//! network's egress NAT.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use model::networks::{Egress, ForwardView, NewForward};

use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/vms/{id}/forwards", tag = "networks",
    params(("id" = String, Path, description = "The VM's id")),
    responses((status = 200, body = Vec<ForwardView>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn list_forwards(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ForwardView>>> {
    Ok(Json(state.control.vm_forwards(&caller, &id).await?))
}

#[utoipa::path(post, path = "/vms/{id}/forwards", tag = "networks", request_body = NewForward,
    params(("id" = String, Path, description = "The VM's id")),
    responses((status = 201, body = ForwardView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn add_forward(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<NewForward>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<ForwardView>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let made = state.control.add_forward(&caller, &id, &new, now).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(delete, path = "/vms/{id}/forwards/{forward_id}", tag = "networks",
    params(("id" = String, Path, description = "The VM's id"), ("forward_id" = String, Path, description = "The forward's id")),
    responses((status = 204, description = "Removed"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn remove_forward(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((id, forward_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state
        .control
        .remove_forward(&caller, &id, &forward_id, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/networks/{id}/egress", tag = "networks", request_body = Egress,
    params(("id" = String, Path, description = "The network's id")),
    responses((status = 204, description = "Changed"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn set_egress(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<Egress>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(egress) = body?;
    let now = state.control.now();
    state
        .control
        .set_network_egress(&caller, &id, egress.enabled, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
