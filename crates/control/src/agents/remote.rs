//! Calls to a joined node's agent over its link: [`LinkCalls`] queues a call for the server's
//! frame loop and waits, at most as long as the call may take, for the reply. A link that
//! closes or a node that does not answer in time is an error a retry may mend, in words that
//! name the node.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use agent::calls::{Call, CallError, Outcome};
use agent::node_driver::Transport;
use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::Outgoing;

/// The call end of one node's link.
#[derive(Debug)]
pub struct LinkCalls {
    node: String,
    calls: mpsc::Sender<Outgoing>,
    running: Arc<Mutex<Vec<String>>>,
}

impl LinkCalls {
    pub(crate) fn new(
        node: String,
        calls: mpsc::Sender<Outgoing>,
        running: Arc<Mutex<Vec<String>>>,
    ) -> Self {
        Self {
            node,
            calls,
            running,
        }
    }

    fn unreachable(&self, detail: String) -> CallError {
        CallError {
            public: format!("node {} is unreachable", self.node),
            transient: true,
            detail: format!("node {}: {detail}", self.node),
        }
    }
}

#[async_trait]
impl Transport for LinkCalls {
    async fn call(&self, call: Call) -> Outcome {
        let patience = call.patience();
        let (reply, answer) = oneshot::channel();
        if self.calls.send(Outgoing { call, reply }).await.is_err() {
            return Err(self.unreachable("its link closed before the call was sent".into()));
        }
        match tokio::time::timeout(patience, answer).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(self.unreachable("its link closed before it answered".into())),
            Err(_) => Err(CallError {
                public: format!("node {} did not answer in time", self.node),
                transient: true,
                detail: format!("node {}: no answer within {patience:?}", self.node),
            }),
        }
    }

    fn running(&self) -> Vec<String> {
        self.running
            .lock()
            .map(|running| running.clone())
            .unwrap_or_default()
    }

    fn vm_dir(&self, id: &str) -> PathBuf {
        PathBuf::from(format!("{}:{id}", self.node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_link_or_a_lost_reply_names_the_node_and_may_be_retried() {
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let calls = LinkCalls::new("node-b".into(), tx, Arc::default());
        let err = calls
            .call(Call::Status { id: "a".into() })
            .await
            .unwrap_err();
        assert_eq!(err.public, "node node-b is unreachable");
        assert!(err.transient);

        let (tx, mut rx) = mpsc::channel::<Outgoing>(1);
        let calls = LinkCalls::new("node-b".into(), tx, Arc::default());
        let dropper = tokio::spawn(async move {
            let outgoing = rx.recv().await.unwrap();
            assert_eq!(outgoing.call, Call::Status { id: "a".into() });
            drop(outgoing.reply);
        });
        let err = calls
            .call(Call::Status { id: "a".into() })
            .await
            .unwrap_err();
        dropper.await.unwrap();
        assert!(err.detail.contains("closed before it answered"), "{err:?}");
    }
}
