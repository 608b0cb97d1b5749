//! Settings → Security: passkeys (add, rename, remove), sessions (revoke one or all others)
//! and API tokens (make, revoke).
//!
//! Adding or removing a passkey and ending sessions need a recent passkey check; when the
//! server asks for one, the page runs it (a passkey prompt) and tries the change again.

mod passkeys;
mod sessions;
mod tokens;

use leptos::prelude::*;
use model::auth::needs_reauth;
use model::AppError;
use std::future::Future;

use crate::api::security::{begin_reauth, finish_reauth};
use crate::browser;
use crate::components::page_header::PageHeader;
use passkeys::Passkeys;
use sessions::Sessions;
use tokens::Tokens;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <PageHeader title="Settings" subtitle="Your account's passkeys, signed-in devices and API tokens." />
        <div class="space-y-6">
            <Passkeys />
            <Sessions />
            <Tokens />
        </div>
    }
}

/// Confirms the signed-in person with one of their passkeys (user verification).
async fn reauthenticate() -> Result<(), AppError> {
    let start = begin_reauth().await?;
    let credential = browser::passkey(&start.options, false).await?;
    finish_reauth(start.ceremony_id, credential).await
}

/// Runs a sensitive change; when the server wants a fresh passkey check first, runs it and
/// tries the change once more.
pub(super) async fn confirmed<T, F, Fut>(change: F) -> Result<T, AppError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    match change().await {
        Err(e) if needs_reauth(&e) => {
            reauthenticate().await?;
            change().await
        }
        other => other,
    }
}
