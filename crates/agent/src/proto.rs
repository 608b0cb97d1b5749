//! What the agent and the control plane say to each other: JSON text frames on one WebSocket
//! at [`AGENT_PATH`], and the join token an administrator pastes on a new host.
//!
//! A connection without a client certificate may only [`AgentMessage::Join`]; one with a
//! certificate the control plane's CA signed says [`AgentMessage::Hello`] and then heartbeats
//! every [`HEARTBEAT_EVERY`], each answered with an [`ControlMessage::Ack`]. Meanwhile the
//! control plane sends [`ControlMessage::Call`]s (VM operations, [`crate::calls`]) and the
//! agent answers each with an [`AgentMessage::Reply`] of the same id, in any order.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::calls::{Call, Outcome};
use crate::AgentError;

/// The WebSocket path agents dial.
pub const AGENT_PATH: &str = "/agent/v1";
/// The name in the control plane's agent-facing certificate, which agents check whatever
/// address they dial (they trust only the CA pinned at join, never the system's roots).
pub const SERVER_NAME: &str = "strata-control";
/// How often an agent says it lives. The control plane counts a node unreachable after three
/// missed heartbeats (15 s).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// An agent that has heard nothing from the control plane for this long drops the link and
/// dials again.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(15);

/// Agent to control plane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// Redeem a join token: the secret from the token and a certificate signing request for the
    /// key pair the agent just made (the private key never leaves the host).
    Join { secret: String, csr_pem: String },
    /// The first message of an authenticated link.
    Hello { inventory: Inventory },
    /// Sent every [`HEARTBEAT_EVERY`]: the VMs whose QEMU runs on this host.
    Heartbeat { running: Vec<String> },
    /// The outcome of the call with this id.
    Reply { id: u64, outcome: Outcome },
}

/// Control plane to agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlMessage {
    /// The token was good: the node's certificate and the CA that signed it.
    Joined {
        node_id: String,
        name: String,
        certificate_pem: String,
        ca_pem: String,
    },
    /// The link is up for this node.
    Welcome { node_id: String, name: String },
    /// A heartbeat was recorded.
    Ack,
    /// Run a VM operation and reply with the same id (boxed: a VM's spec, with its router, is
    /// far larger than the other messages).
    Call { id: u64, call: Box<Call> },
    /// The control plane will not talk to this agent; the link closes after this.
    Refused { reason: String },
}

/// What a host offers, from the agent's own look at it and its flags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub cpus: u32,
    pub memory_mb: u64,
    /// Free space where the agent keeps VM disks.
    pub disk_free_gb: u64,
    /// `kvm` or `tcg`.
    pub accel: String,
    /// The first line of `qemu-system-x86_64 --version`; `None` when QEMU is not installed.
    pub qemu_version: Option<String>,
    pub region: String,
    pub labels: BTreeMap<String, String>,
    /// The `strata` version the agent runs.
    pub agent_version: String,
}

/// What an administrator pastes on a new host: where the control plane listens for agents,
/// the SHA-256 of its CA certificate (so the first connection already trusts only it), and
/// the single-use secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinToken {
    /// `wss://host:port`
    pub url: String,
    /// Lowercase hex.
    pub ca_sha256: String,
    pub secret: String,
}

const TOKEN_PREFIX: &str = "strata-join-1.";

impl JoinToken {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        )
    }

    pub fn decode(text: &str) -> Result<Self, AgentError> {
        let body = text.trim().strip_prefix(TOKEN_PREFIX).ok_or_else(|| {
            AgentError::BadToken(format!("it does not start with {TOKEN_PREFIX}"))
        })?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| AgentError::BadToken("it is cut or mistyped (not base64)".into()))?;
        let token: Self = serde_json::from_slice(&json)
            .map_err(|_| AgentError::BadToken("it is cut or mistyped (not JSON)".into()))?;
        if !token.url.starts_with("wss://") {
            return Err(AgentError::BadToken(format!(
                "its address {:?} is not wss://",
                token.url
            )));
        }
        if token.ca_sha256.len() != 64 || !token.ca_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AgentError::BadToken(
                "its CA fingerprint is not SHA-256 hex".into(),
            ));
        }
        Ok(token)
    }
}

/// `host:port` of a `wss://host:port[/…]` URL, for the TCP connection.
pub fn host_port(url: &str) -> Result<String, AgentError> {
    let rest = url
        .strip_prefix("wss://")
        .ok_or_else(|| AgentError::BadToken(format!("{url:?} is not wss://")))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(AgentError::BadToken(format!("{url:?} names no host")));
    }
    Ok(
        if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            authority.to_owned()
        } else {
            format!("{authority}:443")
        },
    )
}

/// Lowercase hex SHA-256 of DER bytes: how certificates are named in tokens and node rows.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_and_a_damaged_one_says_how() {
        let token = JoinToken {
            url: "wss://10.0.0.1:7443".into(),
            ca_sha256: "ab".repeat(32),
            secret: "s3cret".into(),
        };
        let text = token.encode();
        assert!(text.starts_with(TOKEN_PREFIX), "{text}");
        assert_eq!(JoinToken::decode(&format!(" {text}\n")).unwrap(), token);
        let cut = &text[..text.len() - 5];
        assert!(JoinToken::decode(cut).is_err());
        let err = JoinToken::decode("hello").unwrap_err().to_string();
        assert!(err.contains("does not start with"), "{err}");
        let plain = JoinToken {
            url: "ws://x:1".into(),
            ..token
        };
        let err = JoinToken::decode(&plain.encode()).unwrap_err().to_string();
        assert!(err.contains("not wss://"), "{err}");
    }

    #[test]
    fn the_tcp_address_comes_from_the_url() {
        assert_eq!(host_port("wss://10.0.0.1:7443").unwrap(), "10.0.0.1:7443");
        assert_eq!(
            host_port("wss://cloud.example/agent").unwrap(),
            "cloud.example:443"
        );
        assert_eq!(host_port("wss://[::1]:7443").unwrap(), "[::1]:7443");
        assert!(host_port("https://x").is_err());
        assert!(host_port("wss://").is_err());
    }

    #[test]
    fn messages_are_tagged_json() {
        let text = serde_json::to_string(&AgentMessage::Heartbeat {
            running: vec!["a".into()],
        })
        .unwrap();
        assert_eq!(text, r#"{"type":"heartbeat","running":["a"]}"#);
        let back: ControlMessage = serde_json::from_str(r#"{"type":"ack"}"#).unwrap();
        assert_eq!(back, ControlMessage::Ack);
        assert_eq!(fingerprint(b"").len(), 64);
    }
}
