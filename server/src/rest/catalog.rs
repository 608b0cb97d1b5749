//! `/api/v1/organizations`, `/api/v1/images` and `/api/v1/operations/{id}`: what scripts read
//! to find their way and to follow work.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use model::operations::OperationView;
use model::orgs::{OrgDetail, OrgSummary};
use model::vms::{ImageSummary, NewImage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::pages::{page, PageQuery};
use super::problem::{ApiResult, Problem};
use crate::AppState;

/// One page of organizations, by name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgPage {
    pub items: Vec<OrgSummary>,
    pub next: Option<String>,
}

/// One page of images.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImagePage {
    pub items: Vec<ImageSummary>,
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/organizations", tag = "organizations", params(PageQuery),
    responses((status = 200, body = OrgPage), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("token" = [])))]
pub async fn list_organizations(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<OrgPage>> {
    let Query(q) = query?;
    let all = state.control.list_organizations(&caller).await?;
    let (items, next) = page(all, |o| &o.id, &q)?;
    Ok(Json(OrgPage { items, next }))
}

#[utoipa::path(get, path = "/organizations/{id}", tag = "organizations",
    params(("id" = String, Path, description = "The organization's id")),
    responses((status = 200, body = OrgDetail), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn get_organization(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrgDetail>> {
    Ok(Json(state.control.organization(&caller, &id).await?))
}

#[utoipa::path(get, path = "/images", tag = "images", params(PageQuery),
    responses((status = 200, body = ImagePage), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("token" = [])))]
pub async fn list_images(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ImagePage>> {
    let Query(q) = query?;
    let all = state.control.list_images(&caller).await?;
    let (items, next) = page(all, |i| &i.id, &q)?;
    Ok(Json(ImagePage { items, next }))
}

#[utoipa::path(get, path = "/operations/{id}", tag = "operations",
    params(("id" = String, Path, description = "The operation's id")),
    responses((status = 200, body = OperationView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn get_operation(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<OperationView>> {
    Ok(Json(state.control.operation(&caller, &id).await?))
}

#[utoipa::path(post, path = "/images", tag = "images", request_body = NewImage,
    responses((status = 201, body = ImageSummary, description = "Checked and added to the catalog"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn register_image(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<NewImage>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<ImageSummary>)> {
    let Json(image) = body?;
    let now = state.control.now();
    let added = state.control.register_image(&caller, &image, now).await?;
    Ok((StatusCode::CREATED, Json(added)))
}
