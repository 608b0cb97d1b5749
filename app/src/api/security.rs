//! Settings → Security: the caller's passkeys and sessions, and the passkey confirmation
//! (reauthentication) that adding or removing passkeys and ending sessions need first.

use leptos::prelude::*;
use model::auth::{CeremonyStart, PasskeyInfo, SessionInfo};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now};

#[server(prefix = "/api/security", endpoint = "passkeys")]
pub async fn list_passkeys() -> Result<Vec<PasskeyInfo>, AppError> {
    super::context::respond(async move { control()?.list_passkeys(&caller()?).await }.await)
}

/// Begins a passkey check for the signed-in caller.
#[server(prefix = "/api/security", endpoint = "begin_reauth")]
pub async fn begin_reauth() -> Result<CeremonyStart, AppError> {
    super::context::respond(
        async move { control()?.begin_reauthentication(&caller()?, now()).await }.await,
    )
}

/// Finishes the passkey check; the session may then make sensitive changes for a few minutes.
#[server(prefix = "/api/security", endpoint = "finish_reauth")]
pub async fn finish_reauth(ceremony_id: String, credential: String) -> Result<(), AppError> {
    super::context::respond(
        async move {
            control()?
                .finish_reauthentication(&caller()?, &ceremony_id, &credential, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/security", endpoint = "begin_add_passkey")]
pub async fn begin_add_passkey() -> Result<CeremonyStart, AppError> {
    super::context::respond(
        async move { control()?.begin_add_passkey(&caller()?, now()).await }.await,
    )
}

#[server(prefix = "/api/security", endpoint = "finish_add_passkey")]
pub async fn finish_add_passkey(ceremony_id: String, credential: String) -> Result<(), AppError> {
    super::context::respond(
        async move {
            control()?
                .finish_add_passkey(&caller()?, &ceremony_id, &credential, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/security", endpoint = "rename_passkey")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    super::context::respond(
        async move {
            control()?
                .rename_passkey(&caller()?, &id, &name, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/security", endpoint = "remove_passkey")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    super::context::respond(
        async move { control()?.remove_passkey(&caller()?, &id, now()).await }.await,
    )
}

#[server(prefix = "/api/security", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    super::context::respond(async move { control()?.list_sessions(&caller()?, now()).await }.await)
}

#[server(prefix = "/api/security", endpoint = "revoke_session")]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    super::context::respond(
        async move { control()?.revoke_session(&caller()?, &id, now()).await }.await,
    )
}

#[server(prefix = "/api/security", endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    super::context::respond(
        async move { control()?.revoke_other_sessions(&caller()?, now()).await }.await,
    )
}
