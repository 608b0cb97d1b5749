//! `/api/v1/tokens`: the caller's tokens (every token, for platform admins with `all=true`),
//! making one (only an unrestricted token may), and revoking one.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use model::tokens::{CreatedToken, NewToken, TokenView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiCaller;
use super::pages::{page, PageQuery};
use super::problem::{ApiResult, Problem};
use crate::AppState;

/// Whose tokens a list shows.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenListQuery {
    /// Every person's tokens (platform admins only).
    #[serde(default)]
    pub all: bool,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Tokens per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// One page of tokens, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenPage {
    pub items: Vec<TokenView>,
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/tokens", tag = "tokens", params(TokenListQuery),
    responses((status = 200, body = TokenPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem)),
    security(("token" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    query: Result<Query<TokenListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<TokenPage>> {
    let Query(q) = query?;
    let all = state.control.list_tokens(&caller, q.all).await?;
    let cursor = PageQuery {
        after: q.after,
        limit: q.limit,
    };
    let (items, next) = page(all, |t| &t.id, &cursor)?;
    Ok(Json(TokenPage { items, next }))
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken, description = "The secret is in this answer only"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let Json(new) = body?;
    let now = state.control.now();
    let created = state.control.create_token(&caller, &new, now).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked (or already revoked)"), (status = 401, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = state.control.now();
    state.control.revoke_token(&caller, &id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}
