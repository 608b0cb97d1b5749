//! `GET /api/vms/{id}/console` (WebSocket): a VM's serial console in the browser.
//!
//! The upgrade needs a session, an Origin equal to the public URL (a WebSocket is not
//! protected by the same-origin policy) and `console` on the VM. Output streams from the
//! node's console log; each text or binary message is typed into the guest. Every few seconds
//! the session and the permission are checked again: the socket closes with 4401 when the
//! session ended and 4403 when access was revoked.

use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use control::auth::Caller;
use control::compute::console::Console;

use crate::guard::error;
use crate::ws::{admit, bounded, close, Admitted, TOO_MANY_CODE, TOO_MANY_REASON};
use crate::AppState;

/// How often new output is looked for.
const POLL: Duration = Duration::from_millis(100);
/// How often the session and permission are checked again.
const RECHECK: Duration = Duration::from_secs(5);
/// The most a single message may type.
const MAX_INPUT: usize = 4096;

pub async fn console(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let admitted = match admit(&state, &headers, caller, upgrade, "The console") {
        Ok(a) => a,
        Err(e) => return error(e),
    };
    let Admitted {
        caller,
        upgrade,
        token,
        slot,
    } = admitted;
    let console = match state
        .control
        .open_console(&caller, &id, state.control.now())
        .await
    {
        Ok(console) => console,
        Err(e) => return error(e),
    };
    bounded(upgrade, MAX_INPUT).on_upgrade(move |socket| async move {
        match slot {
            Some(_held) => run(state, console, token, socket).await,
            None => close(socket, TOO_MANY_CODE, TOO_MANY_REASON).await,
        }
    })
}

async fn run(state: AppState, console: Console, token: Option<String>, mut socket: WebSocket) {
    let control = &state.control;
    let mut offset = 0u64;
    let mut poll = tokio::time::interval(POLL);
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    loop {
        tokio::select! {
            _ = poll.tick() => {
                // An error means not running (yet): nothing to show; keep waiting.
                if let Ok((bytes, next)) = console.read(offset, 64 * 1024).await {
                    offset = next;
                    if !bytes.is_empty() && socket.send(Message::Binary(bytes.into())).await.is_err() {
                        return;
                    }
                }
            }
            _ = recheck.tick() => {
                let live = match &token {
                    Some(t) => control.session_alive(t, control.now()).await,
                    None => false,
                };
                if !live {
                    return close(socket, 4401, "Your session ended; sign in again.").await;
                }
                if !console.still_allowed(control).await {
                    return close(socket, 4403, "You no longer have access to this console.").await;
                }
            }
            message = socket.recv() => {
                let input: Vec<u8> = match message {
                    Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                if input.len() > MAX_INPUT {
                    return close(socket, 1009, "Type less at once.").await;
                }
                if let Err(e) = console.write(&input).await {
                    tracing::debug!(vm = %console.vm(), error = %e, "console input not delivered");
                }
            }
        }
    }
}
