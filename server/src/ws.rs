//! What the WebSocket endpoints (`/ws`, the VM console) share: who may open one, and how a
//! server-side close is sent.
//!
//! A WebSocket is not protected by the same-origin policy, so an upgrade needs an `Origin`
//! equal to the public URL (not merely no foreign one), and a session. Each person may hold
//! at most [`MAX_SOCKETS_PER_PERSON`] open on this instance; each endpoint bounds frame and
//! message size before anything is buffered.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap};
use axum::Extension;
use control::auth::Caller;
use model::AppError;
use sea_orm::prelude::Uuid;

use crate::AppState;

/// A close frame that a stuck client does not take in this long is given up on.
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most WebSockets (live events and consoles together) one person may hold open on this
/// instance: many tabs, each with a console, and room to spare.
pub const MAX_SOCKETS_PER_PERSON: usize = 32;
/// The close code and reason a socket over the limit gets.
pub const TOO_MANY_CODE: u16 = 1008;
pub const TOO_MANY_REASON: &str = "Too many open connections for your account; close other tabs.";

static OPEN: LazyLock<Mutex<HashMap<Uuid, usize>>> = LazyLock::new(Default::default);

/// One of a person's open WebSockets; the count drops when it does.
pub(crate) struct Slot(Uuid);

impl Slot {
    /// Takes a slot for `user`, or None when they already hold the most allowed.
    fn take(user: Uuid) -> Option<Slot> {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(user).or_insert(0);
        if *n >= MAX_SOCKETS_PER_PERSON {
            return None;
        }
        *n += 1;
        Some(Slot(user))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.0) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

/// An upgrade that may go ahead.
pub(crate) struct Admitted {
    pub caller: Caller,
    pub upgrade: WebSocketUpgrade,
    /// The session cookie's token, for checking later that the session still lives.
    pub token: Option<String>,
    /// This socket's place in the person's count; None when they are over the limit (the
    /// socket is then closed with [`TOO_MANY_REASON`] right after the upgrade, so the browser
    /// can read why).
    pub slot: Option<Slot>,
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
    let slot = Slot::take(caller.user_id);
    Ok(Admitted {
        caller,
        upgrade,
        token: crate::guard::session_token(state, headers),
        slot,
    })
}

/// Bounds a socket's frames and messages to `max` bytes (checked from each frame's header,
/// before its payload is read) and what it may queue for a slow reader.
pub(crate) fn bounded(upgrade: WebSocketUpgrade, max: usize) -> WebSocketUpgrade {
    upgrade
        .max_frame_size(max)
        .max_message_size(max)
        .write_buffer_size(64 * 1024)
        .max_write_buffer_size(4 << 20)
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
