//! `GET /api/v1/audit`: the audit rows the token may read (the Audit page's rules), newest
//! first, paged by `before` (a page's `next_before`).

use axum::extract::{Query, State};
use axum::Json;
use model::audit::{AuditFilter, AuditPage};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use crate::AppState;

/// Which rows; every part is optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuditQuery {
    /// The actor's username.
    pub actor: String,
    /// The organization's name.
    pub organization: String,
    pub resource_type: String,
    pub resource_id: String,
    /// e.g. `vm.start`.
    pub action: String,
    /// `success`, `denied` or `failed`.
    pub outcome: String,
    /// A date (2026-11-22) or time (RFC 3339), inclusive.
    pub from: String,
    /// A date or time; a date means the end of that day.
    pub to: String,
    /// Only rows older than this id (a page's `next_before`).
    pub before: Option<i64>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("token" = [])))]
pub async fn audit_page(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AuditPage>> {
    let Query(q) = query?;
    let filter = AuditFilter {
        actor: q.actor,
        organization: q.organization,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        action: q.action,
        outcome: q.outcome,
        from: q.from,
        to: q.to,
        before: q.before,
        limit: q.limit,
    };
    Ok(Json(state.control.audit_page(&caller, &filter).await?))
}
