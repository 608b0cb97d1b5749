//! Frames on the link: one JSON message per text frame, both ways, over any stream (the
//! agent's TLS client stream, the control plane's TLS server stream).

use futures_util::{SinkExt as _, StreamExt as _};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::AgentError;

/// No message on the link is near this; a bigger frame ends the link.
pub const MAX_FRAME: usize = 256 * 1024;

/// The WebSocket limits both sides use.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME))
}

fn dropped(e: impl std::fmt::Display) -> AgentError {
    AgentError::Protocol(format!("the link dropped: {e}"))
}

/// Sends one message.
pub async fn send<S, M>(ws: &mut WebSocketStream<S>, message: &M) -> Result<(), AgentError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    M: Serialize,
{
    let text = serde_json::to_string(message).map_err(|e| AgentError::Protocol(e.to_string()))?;
    ws.send(Message::text(text)).await.map_err(dropped)
}

/// The next message, or `None` when the other side closed the link. Pings are answered by
/// the WebSocket layer; a frame that is not a message of this protocol ends the link.
pub async fn recv<S, M>(ws: &mut WebSocketStream<S>) -> Result<Option<M>, AgentError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    M: DeserializeOwned,
{
    while let Some(frame) = ws.next().await {
        match frame.map_err(dropped)? {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str())
                    .map(Some)
                    .map_err(|e| AgentError::Protocol(format!("unreadable message: {e}")));
            }
            Message::Close(_) => return Ok(None),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            Message::Binary(_) => {
                return Err(AgentError::Protocol(
                    "binary frames are not spoken here".into(),
                ))
            }
        }
    }
    Ok(None)
}
