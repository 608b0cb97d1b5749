//! Settings → API tokens: the caller's tokens (everyone's for platform admins), making one
//! (after a fresh passkey check) and revoking one.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use model::tokens::{CreatedToken, NewToken, TokenView};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now, respond};

#[server(prefix = "/api/tokens", endpoint = "list")]
pub async fn list_api_tokens(everyone: bool) -> Result<Vec<TokenView>, AppError> {
    respond(async move { control()?.list_tokens(&caller()?, everyone).await }.await)
}

#[server(prefix = "/api/tokens", endpoint = "create", input = Json)]
pub async fn create_api_token(new: NewToken) -> Result<CreatedToken, AppError> {
    respond(async move { control()?.create_token(&caller()?, &new, now()).await }.await)
}

#[server(prefix = "/api/tokens", endpoint = "revoke")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    respond(async move { control()?.revoke_token(&caller()?, &id, now()).await }.await)
}
