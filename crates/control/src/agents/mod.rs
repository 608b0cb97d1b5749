//! The control plane's side of `strata agent`: the CA that signs node certificates
//! ([`authority`]), join tokens and their redemption ([`join`]), and the links of joined
//! nodes: who may open one, their hellos and heartbeats, and removing a node ([`link`]); VM
//! operations reach a joined node's agent as calls on its link ([`remote`]).
//!
//! The TLS listener and the WebSocket frames are the server's (an edge); everything that
//! decides — which token is good, which certificate is which node, what a heartbeat records,
//! when a silent node is unreachable ([`lost`]) —
//! is here, in one transaction per change, audited, refusals included.

pub mod authority;
pub mod join;
pub mod link;
mod lost;
mod remote;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use agent::calls::{Call, Outcome};
use sea_orm::prelude::Uuid;
use tokio::sync::{mpsc, oneshot, watch};

pub use remote::LinkCalls;

/// A call for a node's agent, and where its outcome goes.
#[derive(Debug)]
pub struct Outgoing {
    pub call: Call,
    pub reply: oneshot::Sender<Outcome>,
}

/// How many calls may wait to be sent on one link.
const CALLS_QUEUED: usize = 64;

/// One open link as the rest of the control plane reaches it.
#[derive(Debug)]
struct OpenLink {
    name: String,
    state: watch::Sender<LinkState>,
    calls: mpsc::Sender<Outgoing>,
    running: Arc<Mutex<Vec<String>>>,
}

/// The ends of a link the server's frame loop holds.
#[derive(Debug)]
pub(crate) struct LinkEnds {
    pub(crate) cut: watch::Receiver<LinkState>,
    pub(crate) calls: mpsc::Receiver<Outgoing>,
    pub(crate) running: Arc<Mutex<Vec<String>>>,
}

/// Whether an open link may go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Open,
    /// The node dialed again; this older link is closed (the agent has moved on).
    Replaced,
    /// The node was removed: its agent is told so and its identity is refused from now on.
    Removed,
}

/// The links open in this instance, so removing a node can close its link at once.
#[derive(Debug, Default)]
pub struct Links {
    open: Mutex<HashMap<Uuid, OpenLink>>,
}

impl Links {
    /// Registers a link of `node`: its cut (which changes when the link must close), the calls
    /// to send on it and where its heartbeats' list of running VMs goes.
    pub(crate) fn open(&self, node: Uuid, name: &str) -> LinkEnds {
        let (state, cut) = watch::channel(LinkState::Open);
        let (calls_tx, calls) = mpsc::channel(CALLS_QUEUED);
        let running = Arc::new(Mutex::new(Vec::new()));
        let link = OpenLink {
            name: name.to_owned(),
            state,
            calls: calls_tx,
            running: running.clone(),
        };
        if let Ok(mut open) = self.open.lock() {
            if let Some(old) = open.insert(node, link) {
                let _ = old.state.send(LinkState::Replaced);
            }
        }
        LinkEnds {
            cut,
            calls,
            running,
        }
    }

    /// How to call `node`'s agent, when its link is open in this instance.
    pub(crate) fn calls(&self, node: Uuid) -> Option<LinkCalls> {
        let open = self.open.lock().ok()?;
        let link = open.get(&node)?;
        Some(LinkCalls::new(
            link.name.clone(),
            link.calls.clone(),
            link.running.clone(),
        ))
    }

    /// The nodes whose links are open here.
    pub(crate) fn linked(&self) -> Vec<Uuid> {
        self.open
            .lock()
            .map(|open| open.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Forgets `node`'s link (it dropped) unless a newer one replaced it.
    pub(crate) fn closed(&self, node: Uuid, rx: &watch::Receiver<LinkState>) {
        if let Ok(mut open) = self.open.lock() {
            if open
                .get(&node)
                .is_some_and(|link| rx.same_channel(&link.state.subscribe()))
            {
                open.remove(&node);
            }
        }
    }

    /// Tells `node`'s link to close.
    pub(crate) fn cut(&self, node: Uuid) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(link) = open.remove(&node) {
                let _ = link.state.send(LinkState::Removed);
            }
        }
    }

    /// How many links are open here.
    pub fn count(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }
}
