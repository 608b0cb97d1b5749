//! The node side of many hosts: what `strata agent` runs on a hypervisor host.
//!
//! An agent joins the control plane once with a single-use token ([`join`]), keeps the key pair
//! it made and the certificate the control plane's CA signed for it in its data directory
//! ([`identity`]), and from then on dials out over TLS, authenticated by that certificate, to
//! one long-lived WebSocket ([`link`]) that carries its inventory ([`inventory`]) and its
//! heartbeats, and the VM operations the control plane asks of the node ([`calls`]), which
//! [`node_driver`] turns the control plane's driver calls into; cut off from the control
//! plane too long, it stops its service replicas itself ([`fence`]). [`proto`] is what both sides
//! say; [`tls`] is how each side trusts the other.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod calls;
pub mod fence;
pub mod identity;
pub mod inventory;
pub mod join;
pub mod link;
pub mod node_driver;
pub mod pki;
pub mod proto;
pub mod tls;
pub mod wire;

/// Lets this process hold as many open files (sockets: one per agent on the control plane, one
/// per VM console on a host) as the hard limit allows; the soft limit is often 1,024.
pub fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::debug!(error = %e, "the open-files limit could not be raised");
        }
    }
}

/// Why the agent cannot go on, in words for the operator who runs it.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the join token is not valid: {0}")]
    BadToken(String),
    #[error("the control plane refused this node: {0}")]
    Refused(String),
    #[error("cannot reach the control plane at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the control plane's answer makes no sense: {0}")]
    Protocol(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl AgentError {
    /// Whether trying again later can help (a dropped or unreachable link can; a refusal
    /// cannot).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Protocol(_))
    }
}
