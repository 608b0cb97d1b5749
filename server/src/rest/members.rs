//! Who may do what, as writes: organization members and roles, a VM's direct shares, and an
//! organization's quota (set by platform admins).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use model::orgs::{OrgMember, OrgRole};
use model::quotas::{OrgQuota, Quota};
use model::vms::{ShareLevel, VmShare};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use crate::AppState;

/// A person to add, by username, with a role.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewMember {
    pub username: String,
    pub role: OrgRole,
}

/// A member's new role.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleChange {
    pub role: OrgRole,
}

/// A person to share a VM with, by username, and how much.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewShare {
    pub username: String,
    pub level: ShareLevel,
}

#[utoipa::path(post, path = "/organizations/{id}/members", tag = "organizations", request_body = NewMember,
    params(("id" = String, Path, description = "The organization's id")),
    responses((status = 201, body = OrgMember), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn add_member(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<NewMember>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<OrgMember>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let member = state
        .control
        .add_member(&caller, &id, &new.username, new.role, now)
        .await?;
    Ok((StatusCode::CREATED, Json(member)))
}

#[utoipa::path(put, path = "/organizations/{id}/members/{user_id}", tag = "organizations", request_body = RoleChange,
    params(("id" = String, Path, description = "The organization's id"), ("user_id" = String, Path, description = "The member's user id")),
    responses((status = 204, description = "Changed"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn change_role(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((id, user_id)): Path<(String, String)>,
    body: Result<Json<RoleChange>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(change) = body?;
    let now = state.control.now();
    state
        .control
        .change_member_role(&caller, &id, &user_id, change.role, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/organizations/{id}/members/{user_id}", tag = "organizations",
    params(("id" = String, Path, description = "The organization's id"), ("user_id" = String, Path, description = "The member's user id")),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn remove_member(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state
        .control
        .remove_member(&caller, &id, &user_id, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/vms/{id}/shares", tag = "vms", request_body = NewShare,
    params(("id" = String, Path, description = "The VM's id")),
    responses((status = 201, body = VmShare), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn share_vm(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<NewShare>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<VmShare>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let share = state
        .control
        .share_vm(&caller, &id, &new.username, new.level, now)
        .await?;
    Ok((StatusCode::CREATED, Json(share)))
}

#[utoipa::path(delete, path = "/vms/{id}/shares/{user_id}", tag = "vms",
    params(("id" = String, Path, description = "The VM's id"), ("user_id" = String, Path, description = "The person's user id")),
    responses((status = 204, description = "No longer shared"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn unshare_vm(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state
        .control
        .unshare_vm(&caller, &id, &user_id, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/organizations/{id}/quota", tag = "organizations",
    params(("id" = String, Path, description = "The organization's id")),
    responses((status = 200, body = OrgQuota, description = "Each limit and what is used of it"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn get_quota(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrgQuota>> {
    Ok(Json(state.control.org_quota(&caller, &id).await?))
}

#[utoipa::path(put, path = "/organizations/{id}/quota", tag = "organizations", request_body = Quota,
    params(("id" = String, Path, description = "The organization's id")),
    responses((status = 204, description = "Set"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn set_quota(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<Quota>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(limits) = body?;
    let now = state.control.now();
    state
        .control
        .set_org_quota(&caller, &id, &limits, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
