//! `/api/v1/nodes`: the hypervisor hosts (platform admins): list, add (a join ticket), cordon,
//! uncordon, drain, remove.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use model::nodes::{DrainReport, JoinTicket, NodeView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use crate::AppState;

/// Every node (the list is short: one row per host).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NodeList {
    pub items: Vec<NodeView>,
}

#[utoipa::path(get, path = "/nodes", tag = "nodes",
    responses((status = 200, body = NodeList), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("token" = [])))]
pub async fn list_nodes(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> ApiResult<Json<NodeList>> {
    let now = state.control.now();
    let items = state.control.list_nodes(&caller, now).await?;
    Ok(Json(NodeList { items }))
}

#[utoipa::path(post, path = "/nodes/{id}/drain", tag = "nodes",
    params(("id" = String, Path, description = "The node's id")),
    responses((status = 200, body = DrainReport, description = "Cordoned; its service replicas are being moved"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn drain_node(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<DrainReport>> {
    let now = state.control.now();
    Ok(Json(state.control.drain_node(&caller, &id, now).await?))
}

/// A node to add.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewNode {
    /// 1 to 63 of `a-z`, `0-9` and `-`.
    pub name: String,
}

#[utoipa::path(post, path = "/nodes", tag = "nodes", request_body = NewNode,
    responses((status = 201, body = JoinTicket, description = "The single-use token and the command to run on the host"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn add_node(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<NewNode>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<JoinTicket>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let ticket = state.control.add_node(&caller, &new.name, now).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[utoipa::path(delete, path = "/nodes/{id}", tag = "nodes",
    params(("id" = String, Path, description = "The node's id")),
    responses((status = 204, description = "Removed; its identity is refused from now on"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn remove_node(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state.control.remove_node(&caller, &id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/nodes/{id}/cordon", tag = "nodes",
    params(("id" = String, Path, description = "The node's id")),
    responses((status = 204, description = "No new VMs are placed on it"), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn cordon_node(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state
        .control
        .set_node_cordoned(&caller, &id, true, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/nodes/{id}/uncordon", tag = "nodes",
    params(("id" = String, Path, description = "The node's id")),
    responses((status = 204, description = "VMs may be placed on it again (a drain ends)"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn uncordon_node(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state
        .control
        .set_node_cordoned(&caller, &id, false, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
