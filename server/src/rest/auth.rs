//! Who calls the REST API: the owner of the bearer token in `Authorization`, narrowed by the
//! token's restriction. Cookies are never read here, so `/api/v1` has no CSRF surface; each
//! token has its own rate limit.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use control::auth::{Caller, ClientInfo};
use model::AppError;

use super::problem::ApiError;
use crate::AppState;

/// The caller behind a valid token.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(AppError::Unauthenticated)?;
        let client = parts
            .extensions
            .get::<ClientInfo>()
            .cloned()
            .unwrap_or_default();
        let now = state.control.now();
        let caller = state
            .control
            .resolve_token(secret, &client, now)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let token = caller
            .token
            .as_ref()
            .map(|t| t.token_id)
            .ok_or(AppError::Unauthenticated)?;
        if !state.api_limiter.check(token, now) {
            return Err(AppError::RateLimited.into());
        }
        tracing::Span::current().record("user_id", tracing::field::display(caller.user_id));
        Ok(Self(caller))
    }
}
