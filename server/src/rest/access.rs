//! `POST /api/v1/authz/query`: questions about anyone's grants for platform admins (what
//! `strata authz ... --server` asks), answered in the lines the CLI prints.

use axum::extract::State;
use axum::Json;
use model::access::AuthzQuery;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::problem::{ApiResult, Problem};
use crate::AppState;

/// The engine's answer, line by line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthzAnswer {
    pub lines: Vec<String>,
}

#[utoipa::path(post, path = "/authz/query", tag = "access", request_body = AuthzQuery,
    responses((status = 200, body = AuthzAnswer), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem)),
    security(("token" = [])))]
pub async fn query(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<AuthzQuery>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<AuthzAnswer>> {
    let Json(query) = body?;
    let lines = state.control.inspect_access(&caller, &query).await?;
    Ok(Json(AuthzAnswer { lines }))
}
