//! `GET /ws` (WebSocket): live events for one browser tab.
//!
//! The upgrade needs a session and an `Origin` equal to the public URL. The connection gets
//! every event its person may see, checked through the permission engine at the revision the
//! event was published at; `access_changed` and `resync` go to everyone. A ping every 15 s
//! keeps it alive; every 5 s the session is checked again and the socket closes with 4401 when
//! it ended. A subscriber that falls behind the bus's backlog gets `resync`; one whose socket
//! does not take a message within 5 s is disconnected (1013), so it never slows the others.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use control::auth::Caller;
use model::events::{LiveEvent, EVENT_VERSION};
use tokio::sync::broadcast::error::RecvError;

use crate::guard::error;
use crate::ws::{admit, bounded, close, Admitted, TOO_MANY_CODE, TOO_MANY_REASON};
use crate::AppState;

const PING: Duration = Duration::from_secs(15);
const RECHECK: Duration = Duration::from_secs(5);
/// A socket that does not take one message in this long is too slow to keep.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Open `/ws` connections in this process.
static SUBSCRIBERS: AtomicI64 = AtomicI64::new(0);

pub async fn ws(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Admitted {
        caller,
        upgrade,
        token,
        slot,
    } = match admit(&state, &headers, caller, upgrade, "Live events") {
        Ok(a) => a,
        Err(e) => return error(e),
    };
    // Bounded buffers: a client that stops reading costs at most this much memory before
    // its sends fail and it is disconnected. Browsers send nothing big.
    bounded(upgrade, 64 * 1024).on_upgrade(move |socket| async move {
        match slot {
            Some(_held) => run(state, caller, token, socket).await,
            None => close(socket, TOO_MANY_CODE, TOO_MANY_REASON).await,
        }
    })
}

struct Counted;

impl Counted {
    fn new() -> Self {
        let n = SUBSCRIBERS.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!("strata_ws_subscribers").set(n as f64);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let n = SUBSCRIBERS.fetch_sub(1, Ordering::Relaxed) - 1;
        metrics::gauge!("strata_ws_subscribers").set(n as f64);
    }
}

async fn send(socket: &mut WebSocket, event: &LiveEvent) -> Result<(), ()> {
    let text = serde_json::to_string(event).map_err(|_| ())?;
    send_text(socket, &text).await
}

async fn send_text(socket: &mut WebSocket, text: &str) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn run(state: AppState, caller: Caller, token: Option<String>, mut socket: WebSocket) {
    let _counted = Counted::new();
    let control = &state.control;
    let mut events = control.bus().subscribe();
    if send(&mut socket, &LiveEvent::Hello { v: EVENT_VERSION })
        .await
        .is_err()
    {
        return;
    }
    let mut ping = tokio::time::interval(PING);
    let mut recheck = tokio::time::interval(RECHECK);
    ping.tick().await;
    recheck.tick().await;
    loop {
        tokio::select! {
            received = events.recv() => {
                let sent = match received {
                    Ok(envelope) => {
                        if !control.may_receive(&caller, &envelope).await {
                            continue;
                        }
                        send_text(&mut socket, &envelope.text()).await
                    }
                    Err(RecvError::Lagged(n)) => {
                        let resync = LiveEvent::Resync {
                            v: EVENT_VERSION,
                            reason: format!("missed {n} events"),
                        };
                        send(&mut socket, &resync).await
                    }
                    Err(RecvError::Closed) => return,
                };
                if sent.is_err() {
                    return close(socket, 1013, "Too slow to keep up; reconnect.").await;
                }
            }
            _ = ping.tick() => {
                if tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Vec::new().into()))).await.is_err() {
                    return;
                }
            }
            _ = recheck.tick() => {
                let alive = match &token {
                    Some(t) => control.session_alive(t, control.now()).await,
                    None => false,
                };
                if !alive {
                    return close(socket, 4401, "Your session ended; sign in again.").await;
                }
            }
            message = socket.recv() => {
                match message {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    _ => {}
                }
            }
        }
    }
}
