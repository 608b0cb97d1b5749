//! The agent listener: TLS on its own address (`--agent-listen`), one WebSocket per agent at
//! [`agent::proto::AGENT_PATH`]. A connection without a client certificate may redeem a join
//! token and nothing else; one whose certificate the node CA signed is a node only while the
//! control plane has a node with that certificate. Deciding is `control::agents`'s; this is
//! the socket, the handshakes and the frames, calls to the agent included (each sent with an
//! id, its reply routed back to the caller waiting in `control::agents::remote`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agent::calls::Outcome;
use agent::proto::{fingerprint, AgentMessage, ControlMessage, AGENT_PATH, SILENCE_LIMIT};
use agent::wire;
use control::agents::LinkState;
use control::auth::ClientInfo;
use control::Control;
use model::AppError;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::WebSocketStream;

use crate::serve::RunError;

/// How long a TLS or WebSocket handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Join attempts (connections without a node certificate) allowed per address per minute.
const JOINS_PER_MINUTE: u32 = 30;

/// A bound agent listener with the URL agents are told to dial.
pub struct AgentListener {
    listener: TcpListener,
    tls: TlsAcceptor,
    pub url: String,
    joins_per_minute: u32,
}

impl AgentListener {
    /// Allows `per_minute` join attempts per address (0: no limit; a benchmark joining a
    /// thousand agents from one address).
    pub fn join_limit(mut self, per_minute: u32) -> Self {
        self.joins_per_minute = per_minute;
        self
    }
}

/// Binds `addr` with a fresh server certificate from the node CA and tells the control plane
/// where agents dial: `url`, or `wss://` and the bound address (for an unspecified address,
/// `public_host` with the bound port).
pub async fn bind(
    control: &Control,
    addr: SocketAddr,
    url: Option<String>,
    public_host: &str,
) -> Result<AgentListener, RunError> {
    let agent_error = |e: agent::AgentError| RunError::Agent(e.to_string());
    let authority = control
        .node_authority(control.now())
        .await
        .map_err(|e| RunError::Agent(e.to_string()))?;
    let (cert, key) = authority.server_cert().map_err(agent_error)?;
    let config =
        agent::tls::server_config(authority.cert_pem(), &cert, &key).map_err(agent_error)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    let url = url.unwrap_or_else(|| {
        if bound.ip().is_unspecified() {
            format!("wss://{public_host}:{}", bound.port())
        } else {
            format!("wss://{bound}")
        }
    });
    control.set_agent_url(url.clone());
    tracing::info!(listen = %bound, %url, ca_sha256 = %authority.sha256(), "listening for agents");
    Ok(AgentListener {
        listener,
        tls: TlsAcceptor::from(Arc::new(config)),
        url,
        joins_per_minute: JOINS_PER_MINUTE,
    })
}

/// Accepts agents until the process ends.
pub async fn serve(control: Control, agents: AgentListener) {
    let joins = Arc::new(crate::ratelimit::RateLimiter::per_minute(
        agents.joins_per_minute,
    ));
    loop {
        let (tcp, peer) = match agents.listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting an agent failed");
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let tls = agents.tls.clone();
        let control = control.clone();
        let joins = joins.clone();
        tokio::spawn(async move {
            let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE, tls.accept(tcp)).await else {
                tracing::debug!(%peer, "an agent's TLS handshake failed");
                return;
            };
            let cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|c| fingerprint(c));
            let accepted = tokio::time::timeout(
                HANDSHAKE,
                tokio_tungstenite::accept_hdr_async_with_config(
                    stream,
                    only_agent_path,
                    Some(wire::config()),
                ),
            )
            .await;
            let Ok(Ok(ws)) = accepted else {
                tracing::debug!(%peer, "an agent's WebSocket handshake failed");
                return;
            };
            let client = ClientInfo::new(peer.ip().to_string(), "strata-agent");
            match cert {
                None if !joins.check(peer.ip(), control.now()) => {
                    let mut ws = ws;
                    refuse(&mut ws, AppError::RateLimited).await;
                }
                None => join(&control, ws, &client).await,
                Some(cert) => link(&control, ws, &client, &cert).await,
            }
        });
    }
}

#[allow(clippy::result_large_err)]
fn only_agent_path(req: &Request, response: Response) -> Result<Response, ErrorResponse> {
    if req.uri().path() == AGENT_PATH {
        Ok(response)
    } else {
        let mut refused = ErrorResponse::new(Some("not found".into()));
        *refused.status_mut() = http::StatusCode::NOT_FOUND;
        Err(refused)
    }
}

/// Tells the agent why it is refused and closes. An `AppError`'s message never holds internal
/// detail (an internal error reads as a reference to the server's log).
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    reason: impl std::fmt::Display,
) {
    let reason = reason.to_string();
    let _ = wire::send(ws, &ControlMessage::Refused { reason }).await;
    let _ = ws.close(None).await;
}

/// A connection without a certificate: one join, then close.
async fn join<S: AsyncRead + AsyncWrite + Unpin>(
    control: &Control,
    mut ws: WebSocketStream<S>,
    client: &ClientInfo,
) {
    let first = tokio::time::timeout(SILENCE_LIMIT, wire::recv::<_, AgentMessage>(&mut ws)).await;
    let Ok(Ok(Some(AgentMessage::Join { secret, csr_pem }))) = first else {
        refuse(&mut ws, "a host without a node certificate can only join").await;
        return;
    };
    match control
        .redeem_join(&secret, &csr_pem, client, control.now())
        .await
    {
        Ok(joined) => {
            let answer = ControlMessage::Joined {
                node_id: joined.node_id.to_string(),
                name: joined.name,
                certificate_pem: joined.certificate_pem,
                ca_pem: joined.ca_pem,
            };
            let _ = wire::send(&mut ws, &answer).await;
            let _ = ws.close(None).await;
        }
        Err(e) => refuse(&mut ws, e).await,
    }
}

/// A node's link: hello, then heartbeats until it drops, falls silent, or is cut.
async fn link<S: AsyncRead + AsyncWrite + Unpin>(
    control: &Control,
    mut ws: WebSocketStream<S>,
    client: &ClientInfo,
    cert: &str,
) {
    let mut node = match control.open_node_link(cert, client, control.now()).await {
        Ok(node) => node,
        Err(e @ AppError::Forbidden(_)) => return refuse(&mut ws, e).await,
        Err(_) => {
            let _ = ws.close(None).await;
            return;
        }
    };
    let first = tokio::time::timeout(SILENCE_LIMIT, wire::recv::<_, AgentMessage>(&mut ws)).await;
    let inventory = match first {
        Ok(Ok(Some(AgentMessage::Hello { inventory }))) => Some(inventory),
        Ok(Ok(Some(_))) => {
            refuse(&mut ws, "a link begins with a hello").await;
            None
        }
        // A link that drops or stays silent before its hello is not refused: the agent dials
        // again (a refusal would stop it for good).
        Ok(Ok(None)) => {
            tracing::info!(node = %node.id, name = %node.name, "an agent closed its link before saying hello");
            None
        }
        Ok(Err(e)) => {
            tracing::warn!(node = %node.id, name = %node.name, error = %e, "an agent's link dropped before its hello");
            None
        }
        Err(_) => {
            tracing::warn!(node = %node.id, name = %node.name, "no hello within {SILENCE_LIMIT:?}; closing the link");
            let _ = ws.close(None).await;
            None
        }
    };
    if let Some(inventory) = inventory {
        match control
            .node_hello(&node, &inventory, client, control.now())
            .await
        {
            Ok(()) => {
                let welcome = ControlMessage::Welcome {
                    node_id: node.id.to_string(),
                    name: node.name.clone(),
                };
                if wire::send(&mut ws, &welcome).await.is_ok() {
                    run_link(control, &mut ws, &mut node).await;
                }
            }
            // What the agent must change (its identity, its flags) ends it with the reason.
            Err(e @ (AppError::Forbidden(_) | AppError::Invalid(_))) => refuse(&mut ws, e).await,
            // Anything else (the database away) is this side's trouble: close, and the agent
            // dials again with backoff.
            Err(_) => {
                let _ = ws.close(None).await;
            }
        }
    }
    control.node_link_closed(&node);
}

async fn run_link<S: AsyncRead + AsyncWrite + Unpin>(
    control: &Control,
    ws: &mut WebSocketStream<S>,
    node: &mut control::agents::link::LinkedNode,
) {
    // Calls sent and not yet answered, by id. Dropped with the link: their callers then learn
    // the node is unreachable.
    let mut pending: HashMap<u64, oneshot::Sender<Outcome>> = HashMap::new();
    let mut next_id: u64 = 0;
    loop {
        tokio::select! {
            changed = node.cut.changed() => {
                let state = *node.cut.borrow();
                match (changed, state) {
                    (Ok(()), LinkState::Open) => continue,
                    (Ok(()), LinkState::Removed) => {
                        refuse(ws, control::agents::link::REMOVED).await;
                    }
                    _ => {
                        let _ = ws.close(None).await;
                    }
                }
                return;
            }
            Some(outgoing) = node.calls.recv() => {
                next_id += 1;
                let message = ControlMessage::Call { id: next_id, call: Box::new(outgoing.call) };
                if wire::send(ws, &message).await.is_err() {
                    return;
                }
                pending.insert(next_id, outgoing.reply);
            }
            message = tokio::time::timeout(SILENCE_LIMIT, wire::recv::<_, AgentMessage>(ws)) => {
                match message {
                    Ok(Ok(Some(AgentMessage::Heartbeat { running }))) => {
                        node.set_running(running);
                        match control.node_heartbeat(node.id, control.now()).await {
                            Ok(()) => {
                                if wire::send(ws, &ControlMessage::Ack).await.is_err() {
                                    return;
                                }
                            }
                            Err(e @ AppError::Forbidden(_)) => return refuse(ws, e).await,
                            // The database is away: say nothing, so the agent's own silence
                            // limit ends the link, as if this instance were gone.
                            Err(_) => {}
                        }
                    }
                    Ok(Ok(Some(AgentMessage::Reply { id, outcome }))) => {
                        // A reply nobody waits for (its caller gave up) is dropped.
                        if let Some(reply) = pending.remove(&id) {
                            let _ = reply.send(outcome);
                        }
                    }
                    Ok(Ok(Some(_))) => {
                        return refuse(ws, "a linked agent only heartbeats and replies").await
                    }
                    Ok(Ok(None)) | Ok(Err(_)) => return,
                    Err(_) => {
                        tracing::info!(node = %node.id, name = %node.name, "an agent fell silent; closing its link");
                        let _ = ws.close(None).await;
                        return;
                    }
                }
            }
        }
    }
}
