//! The agent's long-lived link: dial out over TLS with the node's certificate, say hello with
//! the inventory, heartbeat, and dial again with backoff whenever the link drops. Only a
//! refusal (a removed node, a revoked identity) stops it; VMs on the host are never touched by
//! a lost link.

use std::sync::Arc;
use std::time::Duration;

use hypervisor::driver::Driver;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;

use crate::calls::Outcome;
use crate::identity::Identity;
use crate::proto::{
    host_port, AgentMessage, ControlMessage, Inventory, AGENT_PATH, HEARTBEAT_EVERY, SERVER_NAME,
    SILENCE_LIMIT,
};
use crate::{calls, tls, wire, AgentError};

/// How long a TCP connect or a handshake may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two dials.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub(crate) type Link = WebSocketStream<TlsStream<TcpStream>>;

/// Opens a WebSocket to `url` over TLS made with `tls`.
pub(crate) async fn dial(url: &str, tls: ClientConfig) -> Result<Link, AgentError> {
    let unreachable = |message: String| AgentError::Unreachable {
        url: url.to_owned(),
        message,
    };
    let addr = host_port(url)?;
    let tcp = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(&addr))
        .await
        .map_err(|_| unreachable(format!("no answer within {DIAL_TIMEOUT:?}")))?
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(SERVER_NAME)
        .map_err(|e| AgentError::Tls(e.to_string()))?
        .to_owned();
    let stream = tokio::time::timeout(
        DIAL_TIMEOUT,
        TlsConnector::from(Arc::new(tls)).connect(name, tcp),
    )
    .await
    .map_err(|_| unreachable("the TLS handshake did not finish".into()))?
    .map_err(|e| {
        // rustls reports a certificate it will not trust as invalid data: no retry mends that.
        if e.kind() == std::io::ErrorKind::InvalidData {
            AgentError::Tls(format!(
                "the control plane at {url} is not the one trusted: {e}"
            ))
        } else {
            unreachable(e.to_string())
        }
    })?;
    let request = format!("{}{AGENT_PATH}", url.trim_end_matches('/'));
    let (ws, _) = tokio::time::timeout(
        DIAL_TIMEOUT,
        tokio_tungstenite::client_async_with_config(request, stream, Some(wire::config())),
    )
    .await
    .map_err(|_| unreachable("the WebSocket handshake did not finish".into()))?
    .map_err(|e| unreachable(e.to_string()))?;
    Ok(ws)
}

/// What the link reports about the host, asked afresh for every hello and heartbeat.
pub trait Host: Send + Sync {
    fn inventory(&self) -> Inventory;
    /// VMs whose QEMU runs here.
    fn running(&self) -> Vec<String>;
    /// What runs the control plane's calls on this host.
    fn driver(&self) -> Arc<dyn Driver>;
    /// The control plane was heard (a welcome, an acknowledged heartbeat): the fencing lease
    /// ([`crate::fence`]) is renewed.
    fn heard(&self) {}
}

/// One link from dial to drop. Ok(()) never: it ends with why it dropped.
async fn session(identity: &Identity, host: &dyn Host) -> Result<(), AgentError> {
    let config = tls::link_config(&identity.ca_pem, &identity.cert_pem, &identity.key_pem)?;
    let mut ws = dial(&identity.url, config).await?;
    wire::send(
        &mut ws,
        &AgentMessage::Hello {
            inventory: host.inventory(),
        },
    )
    .await?;
    match tokio::time::timeout(SILENCE_LIMIT, wire::recv(&mut ws)).await {
        Ok(Ok(Some(ControlMessage::Welcome { node_id, name }))) => {
            tracing::info!(node = %node_id, %name, url = %identity.url, "linked to the control plane");
            host.heard();
        }
        Ok(Ok(Some(ControlMessage::Refused { reason }))) => {
            return Err(AgentError::Refused(reason))
        }
        Ok(Ok(other)) => {
            return Err(AgentError::Protocol(format!(
                "expected a welcome, got {other:?}"
            )))
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(AgentError::Unreachable {
                url: identity.url.clone(),
                message: "no welcome".into(),
            })
        }
    }
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    let mut last_heard = Instant::now();
    // Calls run side by side; each task hands its outcome back here to be sent. A call still
    // running when the link drops finishes anyway (the control plane asks again, and every
    // operation is safe to repeat), only its reply is lost.
    let (finished_tx, mut finished) = mpsc::channel::<(u64, Outcome)>(64);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    return Err(AgentError::Unreachable {
                        url: identity.url.clone(),
                        message: format!("nothing heard for {SILENCE_LIMIT:?}"),
                    });
                }
                let running = host.running();
                wire::send(&mut ws, &AgentMessage::Heartbeat { running }).await?;
            }
            Some((id, outcome)) = finished.recv() => {
                wire::send(&mut ws, &AgentMessage::Reply { id, outcome }).await?;
            }
            message = wire::recv::<_, ControlMessage>(&mut ws) => match message? {
                Some(ControlMessage::Ack) => {
                    last_heard = Instant::now();
                    host.heard();
                }
                Some(ControlMessage::Call { id, call }) => {
                    last_heard = Instant::now();
                    tracing::debug!(id, vm = call.vm(), "call from the control plane");
                    let driver = host.driver();
                    let reply = finished_tx.clone();
                    tokio::spawn(async move {
                        let outcome = calls::serve(driver.as_ref(), *call).await;
                        let _ = reply.send((id, outcome)).await;
                    });
                }
                Some(ControlMessage::Refused { reason }) => return Err(AgentError::Refused(reason)),
                Some(other) => return Err(AgentError::Protocol(format!("unexpected {other:?}"))),
                None => return Err(AgentError::Unreachable {
                    url: identity.url.clone(),
                    message: "the control plane closed the link".into(),
                }),
            },
        }
    }
}

/// Keeps the link up until `shutdown` resolves (Ok) or the control plane refuses this node
/// (the error says why).
pub async fn run(
    identity: &Identity,
    host: &dyn Host,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), AgentError> {
    tokio::pin!(shutdown);
    let mut backoff = Backoff::default();
    loop {
        let started = Instant::now();
        let dropped = tokio::select! {
            result = session(identity, host) => result,
            () = &mut shutdown => return Ok(()),
        };
        match dropped {
            Err(e) if !e.is_transient() => return Err(e),
            Err(e) => tracing::warn!(error = %e, "link to the control plane dropped"),
            Ok(()) => {}
        }
        if started.elapsed() > Duration::from_secs(60) {
            backoff = Backoff::default();
        }
        let wait = backoff.next_wait();
        tracing::info!(?wait, "dialing the control plane again");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return Ok(()),
        }
    }
}

/// 1 s, 2 s, 4 s … up to [`MAX_BACKOFF`], each with up to a fifth of jitter so that many
/// agents cut off together do not dial back in step.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    tries: u32,
}

impl Backoff {
    pub(crate) fn next_wait(&mut self) -> Duration {
        use rand::Rng as _;
        let base = Duration::from_secs(1u64 << self.tries.min(5)).min(MAX_BACKOFF);
        self.tries = self.tries.saturating_add(1);
        let jitter = rand::thread_rng().gen_range(0..=base.as_millis() / 5);
        base + Duration::from_millis(u64::try_from(jitter).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_ceiling() {
        let mut b = Backoff::default();
        let waits: Vec<Duration> = (0..8).map(|_| b.next_wait()).collect();
        assert!(waits[0] >= Duration::from_secs(1) && waits[0] <= Duration::from_millis(1200));
        assert!(waits[1] >= Duration::from_secs(2));
        assert!(waits[7] >= Duration::from_secs(30) && waits[7] <= Duration::from_secs(36));
    }
}
