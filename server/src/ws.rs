//! What the WebSocket endpoints (`/ws`, the VM console) share: who may open one, and how a
//! server-side close is sent.
//!
//! A WebSocket is not protected by the same-origin policy, so an upgrade needs an `Origin`
//! equal to the public URL (not merely no foreign one), and a session.

use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap};
use axum::Extension;
use control::auth::Caller;
use model::AppError;

use crate::AppState;

/// A close frame that a stuck client does not take in this long is given up on.
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// An upgrade that may go ahead.
pub(crate) struct Admitted {
    pub caller: Caller,
    pub upgrade: WebSocketUpgrade,
    /// The session cookie's token, for checking later that the session still lives.
    pub token: Option<String>,
}

/// Checks the Origin, the session and that this is an upgrade (the refusal is the endpoint's
/// error response); `what` names the endpoint in
/// the message for a plain request.
pub(crate) fn admit(
    state: &AppState,
    headers: &HeaderMap,
    caller: Option<Extension<Caller>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    what: &str,
) -> Result<Admitted, AppError> {
    let public_url = &state.control.auth().public_url;
    if headers.get(header::ORIGIN).is_none() || !crate::guard::same_origin(headers, public_url) {
        return Err(AppError::Forbidden("Cross-site request refused.".into()));
    }
    let Some(Extension(caller)) = caller else {
        return Err(AppError::Unauthenticated);
    };
    let Ok(upgrade) = upgrade else {
        return Err(AppError::Invalid(format!(
            "{what} is a WebSocket: connect with an upgrade request."
        )));
    };
    Ok(Admitted {
        caller,
        upgrade,
        token: crate::guard::session_token(state, headers),
    })
}

/// Sends a close frame with `code` and `reason`, waiting at most [`CLOSE_TIMEOUT`].
pub(crate) async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let _ = tokio::time::timeout(
        CLOSE_TIMEOUT,
        socket.send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))),
    )
    .await;
}
