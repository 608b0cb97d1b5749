//! `/api/v1/services`: list, create, show, deploy, scale, start/stop and delete. Every change
//! is a numbered deployment carried out by an operation: 202 with both.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::services::{
    DeployRequest, DeploymentView, NewService, ServiceAction, ServiceDetail, ServiceSummary,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accepted;
use super::auth::ApiCaller;
use super::pages::{page, PageQuery};
use super::problem::{ApiResult, Problem};
use super::versions::{if_match, with_etag};
use crate::AppState;

/// One page of services, by organization and name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServicePage {
    pub items: Vec<ServiceSummary>,
    pub next: Option<String>,
}

/// A change that was accepted: its deployment, and the operation that rolls it out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeploymentAccepted {
    pub deployment: DeploymentView,
    pub operation_id: Option<String>,
}

/// A new service and the deployment that starts its replicas.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceCreated {
    pub service: ServiceSummary,
    pub deployment: Option<DeploymentView>,
    pub operation_id: Option<String>,
}

/// How many replicas should run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Scale {
    pub replicas: u32,
}

fn deployment(dep: DeploymentView) -> Response {
    let op = dep.operation_id.clone();
    accepted(
        op.as_deref(),
        DeploymentAccepted {
            operation_id: op.clone(),
            deployment: dep,
        },
    )
}

#[utoipa::path(get, path = "/services", tag = "services", params(PageQuery),
    responses((status = 200, body = ServicePage), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("token" = [])))]
pub async fn list_services(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ServicePage>> {
    let Query(q) = query?;
    let all = state.control.list_services(&caller).await?;
    let (items, next) = page(all, |s| &s.id, &q)?;
    Ok(Json(ServicePage { items, next }))
}

#[utoipa::path(post, path = "/services", tag = "services", request_body = NewService,
    responses((status = 202, body = ServiceCreated), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn create_service(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<NewService>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(new) = body?;
    let now = state.control.now();
    let service = state.control.create_service(&caller, &new, now).await?;
    // The new service's only deployment is the one that starts it.
    let first = state
        .control
        .service(&caller, &service.id)
        .await?
        .deployments
        .into_iter()
        .next();
    let op = first.as_ref().and_then(|d| d.operation_id.clone());
    Ok(accepted(
        op.as_deref(),
        ServiceCreated {
            service,
            deployment: first,
            operation_id: op.clone(),
        },
    ))
}

#[utoipa::path(get, path = "/services/{id}", tag = "services", params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, body = ServiceDetail, headers(("ETag" = String, description = "The service's generation"))),
        (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn get_service(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let detail = state.control.service(&caller, &id).await?;
    let generation = detail.service.generation;
    Ok(with_etag(Json(detail).into_response(), generation))
}

#[utoipa::path(post, path = "/services/{id}/deploy", tag = "services", request_body = DeployRequest,
    params(("id" = String, Path, description = "The service's id"), ("If-Match" = Option<String>, Header, description = "Refuse unless the service is still at this generation (its ETag)")),
    responses((status = 202, body = DeploymentAccepted), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem)),
    security(("token" = [])))]
pub async fn deploy_service(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<DeployRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(mut request) = body?;
    request.expected_generation = if_match(&headers)?;
    let now = state.control.now();
    let dep = state
        .control
        .deploy_service(&caller, &id, &request, now)
        .await?;
    Ok(deployment(dep))
}

#[utoipa::path(post, path = "/services/{id}/scale", tag = "services", request_body = Scale,
    params(("id" = String, Path, description = "The service's id"), ("If-Match" = Option<String>, Header, description = "Refuse unless the service is still at this generation (its ETag)")),
    responses((status = 202, body = DeploymentAccepted), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem)),
    security(("token" = [])))]
pub async fn scale_service(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<Scale>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(scale) = body?;
    let generation = if_match(&headers)?;
    let now = state.control.now();
    let dep = state
        .control
        .scale_service_if(&caller, &id, scale.replicas, generation, now)
        .await?;
    Ok(deployment(dep))
}

#[utoipa::path(post, path = "/services/{id}/{action}", tag = "services",
    params(("id" = String, Path, description = "The service's id"), ("action" = ServiceAction, Path, description = "start or stop"), ("If-Match" = Option<String>, Header, description = "Refuse unless the service is still at this generation (its ETag)")),
    responses((status = 202, body = DeploymentAccepted), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem)),
    security(("token" = [])))]
pub async fn act_on_service(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    path: Result<Path<(String, ServiceAction)>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Response> {
    let Path((id, action)) = path?;
    let generation = if_match(&headers)?;
    let now = state.control.now();
    let dep = state
        .control
        .service_action_if(&caller, &id, action, generation, now)
        .await?;
    Ok(deployment(dep))
}

#[utoipa::path(delete, path = "/services/{id}", tag = "services",
    params(("id" = String, Path, description = "The service's id"), ("If-Match" = Option<String>, Header, description = "Refuse unless the service is still at this generation (its ETag)")),
    responses((status = 202, body = DeploymentAccepted), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem)),
    security(("token" = [])))]
pub async fn delete_service(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let generation = if_match(&headers)?;
    let now = state.control.now();
    let dep = state
        .control
        .delete_service_if(&caller, &id, generation, now)
        .await?;
    Ok(deployment(dep))
}

/// A new configuration (JSON, checked against the service's schema).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewConfig {
    pub config: String,
    /// Roll it out at once.
    #[serde(default)]
    pub deploy: bool,
}

#[utoipa::path(post, path = "/services/{id}/configs", tag = "services", request_body = NewConfig,
    params(("id" = String, Path, description = "The service's id")),
    responses((status = 201, body = model::services::ConfigVersion), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn save_config(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<NewConfig>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<model::services::ConfigVersion>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let saved = state
        .control
        .save_service_config(&caller, &id, &new.config, new.deploy, now)
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}
