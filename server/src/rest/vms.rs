//! `/api/v1/vms`: list, create, show, power actions, tags and delete. Work that outlives the request
//! answers 202 with the operation to follow (`Location: /api/v1/operations/{id}`).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::vms::{NewVm, VmAction, VmDetail, VmPage, VmQuery, VmState, VmSummary, VmTags};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::accepted;
use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use super::versions::{if_match, with_etag};
use crate::AppState;

/// Which VMs a list asks for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VmListQuery {
    /// Only this organization's VMs.
    pub organization_id: Option<String>,
    /// Only VMs in this state.
    pub state: Option<VmState>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// VMs per page, 1 to 1000 (default 50).
    pub limit: Option<u32>,
}

/// A request that was accepted and will be carried out by an operation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// The operation to follow (`GET /api/v1/operations/{id}`); none when nothing was left to
    /// do (a VM already being deleted).
    pub operation_id: Option<String>,
}

/// A VM that was created; the operation creates its disk (and boots it when asked).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VmCreated {
    pub vm: VmSummary,
    pub operation_id: String,
}

#[utoipa::path(get, path = "/vms", tag = "vms", params(VmListQuery),
    responses((status = 200, body = VmPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "No organization with that id that the token may see")),
    security(("token" = [])))]
pub async fn list_vms(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    query: Result<Query<VmListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<VmPage>> {
    let Query(q) = query?;
    let query = VmQuery {
        organization_id: q.organization_id,
        state: q.state,
        after: q.after,
        limit: q.limit,
    };
    Ok(Json(state.control.list_vms(&caller, &query).await?))
}

#[utoipa::path(post, path = "/vms", tag = "vms", request_body = NewVm,
    responses((status = 202, body = VmCreated), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn create_vm(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<NewVm>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(new) = body?;
    let now = state.control.now();
    let (vm, op) = state
        .control
        .create_vm_operation(&caller, &new, now)
        .await?;
    Ok(accepted(
        Some(op),
        VmCreated {
            vm,
            operation_id: op.to_string(),
        },
    ))
}

#[utoipa::path(get, path = "/vms/{id}", tag = "vms", params(("id" = String, Path, description = "The VM's id")),
    responses((status = 200, body = VmDetail, headers(("ETag" = String, description = "The VM's generation"))),
        (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn get_vm(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let detail = state.control.vm(&caller, &id).await?;
    let generation = detail.vm.generation;
    Ok(with_etag(Json(detail).into_response(), generation))
}

#[utoipa::path(post, path = "/vms/{id}/{action}", tag = "vms",
    params(("id" = String, Path, description = "The VM's id"), ("action" = VmAction, Path, description = "What to do"),
        ("If-Match" = Option<String>, Header, description = "Refuse unless the VM is still at this generation (its ETag)")),
    responses((status = 202, body = Accepted), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem)),
    security(("token" = [])))]
pub async fn act_on_vm(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    path: Result<Path<(String, VmAction)>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Response> {
    let Path((id, action)) = path?;
    let generation = if_match(&headers)?;
    let now = state.control.now();
    let op = state
        .control
        .vm_action_if(&caller, &id, action, generation, now)
        .await?;
    Ok(accepted(
        Some(op),
        Accepted {
            operation_id: Some(op.to_string()),
        },
    ))
}

#[utoipa::path(delete, path = "/vms/{id}", tag = "vms",
    params(("id" = String, Path, description = "The VM's id"),
        ("If-Match" = Option<String>, Header, description = "Refuse unless the VM is still at this generation (its ETag)")),
    responses((status = 202, body = Accepted), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem)),
    security(("token" = [])))]
pub async fn delete_vm(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let generation = if_match(&headers)?;
    let now = state.control.now();
    let op = state
        .control
        .delete_vm_if(&caller, &id, generation, now)
        .await?;
    Ok(accepted(
        op,
        Accepted {
            operation_id: op.map(|o| o.to_string()),
        },
    ))
}

#[utoipa::path(put, path = "/vms/{id}/tags", tag = "vms", request_body = VmTags,
    params(("id" = String, Path, description = "The VM's id")),
    responses((status = 200, body = VmTags, description = "The tags as stored: sorted, once each"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn set_vm_tags(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<VmTags>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<VmTags>> {
    let Json(new) = body?;
    let now = state.control.now();
    let tags = state
        .control
        .set_vm_tags(&caller, &id, &new.tags, now)
        .await?;
    Ok(Json(VmTags { tags }))
}
