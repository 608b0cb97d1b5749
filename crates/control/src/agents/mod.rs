//! The control plane's side of `strata agent`: the CA that signs node certificates
//! ([`authority`]), join tokens and their redemption ([`join`]), and the links of joined
//! nodes: who may open one, their hellos and heartbeats, and removing a node ([`link`]).
//!
//! The TLS listener and the WebSocket frames are the server's (an edge); everything that
//! decides — which token is good, which certificate is which node, what a heartbeat records,
//! when a silent node is unreachable ([`lost`]) —
//! is here, in one transaction per change, audited, refusals included.

pub mod authority;
pub mod join;
pub mod link;
mod lost;

use std::collections::HashMap;
use std::sync::Mutex;

use sea_orm::prelude::Uuid;
use tokio::sync::watch;

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
    open: Mutex<HashMap<Uuid, watch::Sender<LinkState>>>,
}

impl Links {
    /// Registers a link of `node`; the receiver changes when the link must close.
    pub(crate) fn open(&self, node: Uuid) -> watch::Receiver<LinkState> {
        let (tx, rx) = watch::channel(LinkState::Open);
        if let Ok(mut open) = self.open.lock() {
            if let Some(old) = open.insert(node, tx) {
                let _ = old.send(LinkState::Replaced);
            }
        }
        rx
    }

    /// Forgets `node`'s link (it dropped) unless a newer one replaced it.
    pub(crate) fn closed(&self, node: Uuid, rx: &watch::Receiver<LinkState>) {
        if let Ok(mut open) = self.open.lock() {
            if open
                .get(&node)
                .is_some_and(|tx| rx.same_channel(&tx.subscribe()))
            {
                open.remove(&node);
            }
        }
    }

    /// Tells `node`'s link to close.
    pub(crate) fn cut(&self, node: Uuid) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(tx) = open.remove(&node) {
                let _ = tx.send(LinkState::Removed);
            }
        }
    }

    /// How many links are open here.
    pub fn count(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }
}
