//! An organization's VM networks: list, create, delete, and whether one VM reaches another.
//! A VM's cards are part of the VM.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use model::networks::{NetworkView, NewNetwork, NewRule, ReachQuery, Reachability, RuleView};

use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/organizations/{id}/networks", tag = "networks",
    params(("id" = String, Path, description = "The organization's id")),
    responses((status = 200, body = Vec<NetworkView>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn list_networks(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<NetworkView>>> {
    Ok(Json(state.control.networks(&caller, &id).await?))
}

#[utoipa::path(post, path = "/networks", tag = "networks", request_body = NewNetwork,
    responses((status = 201, body = NetworkView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn create_network(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<NewNetwork>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<NetworkView>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let net = state.control.create_network(&caller, &new, now).await?;
    Ok((StatusCode::CREATED, Json(net)))
}

#[utoipa::path(delete, path = "/networks/{id}", tag = "networks",
    params(("id" = String, Path, description = "The network's id")),
    responses((status = 204, description = "Deleted"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn delete_network(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state.control.delete_network(&caller, &id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/networks/reachability", tag = "networks", request_body = ReachQuery,
    responses((status = 200, body = Reachability), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn reachability(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<ReachQuery>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<Reachability>> {
    let Json(q) = body?;
    Ok(Json(state.control.explain_reach(&caller, &q).await?))
}

#[utoipa::path(get, path = "/networks/{id}/rules", tag = "networks",
    params(("id" = String, Path, description = "The network's id")),
    responses((status = 200, body = Vec<RuleView>), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn list_rules(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<RuleView>>> {
    Ok(Json(state.control.network_rules(&caller, &id).await?))
}

#[utoipa::path(post, path = "/networks/{id}/rules", tag = "networks", request_body = NewRule,
    params(("id" = String, Path, description = "The network's id")),
    responses((status = 201, body = RuleView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn add_rule(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<NewRule>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<RuleView>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let rule = state
        .control
        .add_network_rule(&caller, &id, &new, now)
        .await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

#[utoipa::path(delete, path = "/networks/{id}/rules/{rule_id}", tag = "networks",
    params(("id" = String, Path, description = "The network's id"), ("rule_id" = String, Path, description = "The rule's id")),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn remove_rule(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((id, rule_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state
        .control
        .remove_network_rule(&caller, &id, &rule_id, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
