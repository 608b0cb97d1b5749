//! Sign-up, sign-in, recovery and sign-out. Ceremony endpoints live under `/api/auth` (rate
//! limited per address by the server); `me` and the sign-up status under `/api/session`.

use leptos::prelude::*;
use model::auth::{CeremonyStart, InviteInfo, Me, SignupStatus};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, client, control, maybe_caller, now, set_cookie};

/// Sets the new session's cookie. A session this browser already had ends here, so every
/// sign-in rotates the session id.
#[cfg(feature = "ssr")]
async fn signed_in(control: &control::Control, (me, token): (Me, String)) -> Result<Me, AppError> {
    if let Some(old) = maybe_caller() {
        control.sign_out(&old, now()).await?;
    }
    set_cookie(&control::auth::cookie::set(control.auth(), &token));
    Ok(me)
}

/// The signed-in person, or None.
#[server(prefix = "/api/session", endpoint = "me")]
pub async fn get_me() -> Result<Option<Me>, AppError> {
    super::context::respond(async move { Ok(maybe_caller().map(|c| c.me())) }.await)
}

#[server(prefix = "/api/session", endpoint = "signup_status")]
pub async fn get_signup_status() -> Result<SignupStatus, AppError> {
    super::context::respond(async move { control()?.signup_status().await }.await)
}

/// Who sent an invite link and until when it works (the sign-up page shows it).
#[server(prefix = "/api/session", endpoint = "invite")]
pub async fn get_invite(invite: String) -> Result<InviteInfo, AppError> {
    super::context::respond(async move { control()?.invite_info(&invite, now()).await }.await)
}

#[server(prefix = "/api/auth", endpoint = "begin_signup")]
pub async fn begin_signup(
    username: String,
    display_name: String,
    invite: Option<String>,
) -> Result<CeremonyStart, AppError> {
    super::context::respond(
        async move {
            let input = control::auth::signup::SignupInput {
                username,
                display_name,
                invite,
            };
            control()?.begin_signup(input, now()).await
        }
        .await,
    )
}

#[server(prefix = "/api/auth", endpoint = "finish_signup")]
pub async fn finish_signup(ceremony_id: String, credential: String) -> Result<Me, AppError> {
    super::context::respond(
        async move {
            let control = control()?;
            let done = control
                .finish_signup(&ceremony_id, &credential, &client(), now())
                .await?;
            signed_in(&control, done).await
        }
        .await,
    )
}

#[server(prefix = "/api/auth", endpoint = "begin_signin")]
pub async fn begin_signin(username: Option<String>) -> Result<CeremonyStart, AppError> {
    super::context::respond(
        async move { control()?.begin_signin(username.as_deref(), now()).await }.await,
    )
}

#[server(prefix = "/api/auth", endpoint = "finish_signin")]
pub async fn finish_signin(ceremony_id: String, credential: String) -> Result<Me, AppError> {
    super::context::respond(
        async move {
            let control = control()?;
            let done = control
                .finish_signin(&ceremony_id, &credential, &client(), now())
                .await?;
            signed_in(&control, done).await
        }
        .await,
    )
}

#[server(prefix = "/api/auth", endpoint = "begin_recovery")]
pub async fn begin_recovery(token: String) -> Result<CeremonyStart, AppError> {
    super::context::respond(async move { control()?.begin_recovery(&token, now()).await }.await)
}

#[server(prefix = "/api/auth", endpoint = "finish_recovery")]
pub async fn finish_recovery(ceremony_id: String, credential: String) -> Result<Me, AppError> {
    super::context::respond(
        async move {
            let control = control()?;
            let done = control
                .finish_recovery(&ceremony_id, &credential, &client(), now())
                .await?;
            signed_in(&control, done).await
        }
        .await,
    )
}

/// Ends the session on the server and clears the cookie.
#[server(prefix = "/api/session", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    super::context::respond(
        async move {
            let control = control()?;
            let who = caller()?;
            control.sign_out(&who, now()).await?;
            set_cookie(&control::auth::cookie::clear(control.auth()));
            Ok(())
        }
        .await,
    )
}
