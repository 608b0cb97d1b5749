//! Admin → Users: the user list, invites, disabling, recovery links (platform admins only).

use leptos::prelude::*;
use model::auth::{LinkCreated, UserSummary};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now};

#[server(prefix = "/api/admin", endpoint = "users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    super::context::respond(async move { control()?.list_users(&caller()?).await }.await)
}

#[server(prefix = "/api/admin", endpoint = "create_invite")]
pub async fn create_invite() -> Result<LinkCreated, AppError> {
    super::context::respond(async move { control()?.create_invite(&caller()?, now()).await }.await)
}

#[server(prefix = "/api/admin", endpoint = "set_user_disabled")]
pub async fn set_user_disabled(user_id: String, disabled: bool) -> Result<(), AppError> {
    super::context::respond(
        async move {
            control()?
                .set_user_disabled(&caller()?, &user_id, disabled, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/admin", endpoint = "create_recovery_link")]
pub async fn create_recovery_link(user_id: String) -> Result<LinkCreated, AppError> {
    super::context::respond(
        async move {
            control()?
                .create_recovery_link(&caller()?, &user_id, now())
                .await
        }
        .await,
    )
}
