//! [`NodeDriver`]: the control plane's [`Driver`] for any node. Each method becomes a
//! [`Call`] that a [`Transport`] carries to the node's agent, in process for the embedded node
//! ([`InProcess`]) or over the node's link for a joined host; the agent answers with
//! [`crate::calls::serve`] on its QEMU driver.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hypervisor::driver::{
    check_id, Driver, DriverError, MachineSpec, PowerState, RouterSpec, Stopped, Usage,
};

use crate::calls::{decode, encode, serve, Answer, Call, CallError, Outcome, CONSOLE_CHUNK};

/// Carries calls to one node's agent and brings back its answers.
#[async_trait]
pub trait Transport: Send + Sync {
    /// The node's answer, or why none came (an error the caller may retry when transient).
    async fn call(&self, call: Call) -> Outcome;
    /// The VMs whose QEMU runs on the node, as it last said.
    fn running(&self) -> Vec<String>;
    /// Where the VM's files are on the node.
    fn vm_dir(&self, id: &str) -> PathBuf;
}

/// The embedded node: calls are answered in this process by the same code an agent runs.
pub struct InProcess {
    driver: Arc<dyn Driver>,
}

impl InProcess {
    pub fn new(driver: Arc<dyn Driver>) -> Self {
        Self { driver }
    }
}

#[async_trait]
impl Transport for InProcess {
    async fn call(&self, call: Call) -> Outcome {
        serve(self.driver.as_ref(), call).await
    }

    fn running(&self) -> Vec<String> {
        self.driver.running_ids()
    }

    fn vm_dir(&self, id: &str) -> PathBuf {
        self.driver.vm_dir(id)
    }
}

/// A [`Driver`] whose every method is a call to a node's agent.
pub struct NodeDriver<T> {
    transport: T,
}

impl<T: Transport> NodeDriver<T> {
    pub fn new(transport: T) -> Self {
        Self { transport }
    }

    async fn ask(&self, call: Call) -> Result<Answer, DriverError> {
        check_id(call.vm())?;
        self.transport.call(call).await.map_err(DriverError::from)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// An answer of the wrong kind: the node runs another protocol version, or is confused.
fn unexpected(answer: Answer) -> DriverError {
    DriverError::from(CallError {
        public: "the node answered something unexpected".into(),
        transient: false,
        detail: format!("unexpected answer {answer:?}"),
    })
}

fn done(answer: Answer) -> Result<(), DriverError> {
    match answer {
        Answer::Done => Ok(()),
        other => Err(unexpected(other)),
    }
}

#[async_trait]
impl<T: Transport> Driver for NodeDriver<T> {
    async fn create(&self, spec: &MachineSpec) -> Result<(), DriverError> {
        done(self.ask(Call::Create { spec: spec.clone() }).await?)
    }

    async fn start(&self, spec: &MachineSpec) -> Result<(), DriverError> {
        done(self.ask(Call::Start { spec: spec.clone() }).await?)
    }

    async fn apply_router(&self, spec: &RouterSpec) -> Result<(), DriverError> {
        done(
            self.ask(Call::ApplyRouter {
                spec: Box::new(spec.clone()),
            })
            .await?,
        )
    }

    async fn stop(&self, id: &str, grace: Duration) -> Result<Stopped, DriverError> {
        let call = Call::Stop {
            id: id.to_owned(),
            grace_ms: millis(grace),
        };
        match self.ask(call).await? {
            Answer::Stopped { how } => Ok(how),
            other => Err(unexpected(other)),
        }
    }

    async fn restart(&self, spec: &MachineSpec, grace: Duration) -> Result<(), DriverError> {
        let call = Call::Restart {
            spec: spec.clone(),
            grace_ms: millis(grace),
        };
        done(self.ask(call).await?)
    }

    async fn pause(&self, id: &str) -> Result<(), DriverError> {
        done(self.ask(Call::Pause { id: id.to_owned() }).await?)
    }

    async fn resume(&self, id: &str) -> Result<(), DriverError> {
        done(self.ask(Call::Resume { id: id.to_owned() }).await?)
    }

    async fn delete(&self, id: &str) -> Result<(), DriverError> {
        done(self.ask(Call::Delete { id: id.to_owned() }).await?)
    }

    async fn status(&self, id: &str) -> Result<PowerState, DriverError> {
        match self.ask(Call::Status { id: id.to_owned() }).await? {
            Answer::Power { state } => Ok(state),
            other => Err(unexpected(other)),
        }
    }

    async fn usage(&self, id: &str) -> Result<Option<Usage>, DriverError> {
        match self.ask(Call::Usage { id: id.to_owned() }).await? {
            Answer::Usage { usage } => Ok(usage),
            other => Err(unexpected(other)),
        }
    }

    async fn console_read(
        &self,
        id: &str,
        offset: u64,
        max: usize,
    ) -> Result<(Vec<u8>, u64), DriverError> {
        let call = Call::ConsoleRead {
            id: id.to_owned(),
            offset,
            max: max.min(CONSOLE_CHUNK),
        };
        match self.ask(call).await? {
            Answer::Console { bytes, next } => Ok((decode(&bytes)?, next)),
            other => Err(unexpected(other)),
        }
    }

    async fn console_write(&self, id: &str, bytes: &[u8]) -> Result<(), DriverError> {
        let call = Call::ConsoleWrite {
            id: id.to_owned(),
            bytes: encode(bytes),
        };
        done(self.ask(call).await?)
    }

    async fn wait_for_console(
        &self,
        id: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<Duration, DriverError> {
        let call = Call::WaitForConsole {
            id: id.to_owned(),
            marker: marker.to_owned(),
            timeout_ms: millis(timeout),
        };
        match self.ask(call).await? {
            Answer::Waited { ms } => Ok(Duration::from_millis(ms)),
            other => Err(unexpected(other)),
        }
    }

    fn vm_dir(&self, id: &str) -> PathBuf {
        self.transport.vm_dir(id)
    }

    fn running_ids(&self) -> Vec<String> {
        self.transport.running()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Answers every call with one canned outcome and remembers the calls.
    struct Canned {
        outcome: Outcome,
        seen: Mutex<Vec<Call>>,
    }

    #[async_trait]
    impl Transport for Canned {
        async fn call(&self, call: Call) -> Outcome {
            self.seen.lock().unwrap().push(call);
            self.outcome.clone()
        }
        fn running(&self) -> Vec<String> {
            vec!["a".into()]
        }
        fn vm_dir(&self, id: &str) -> PathBuf {
            PathBuf::from("/node").join(id)
        }
    }

    fn driver(outcome: Outcome) -> NodeDriver<Canned> {
        NodeDriver::new(Canned {
            outcome,
            seen: Mutex::new(Vec::new()),
        })
    }

    #[tokio::test]
    async fn a_bad_id_never_leaves_the_control_plane() {
        let d = driver(Ok(Answer::Done));
        let err = d.pause("../etc").await.unwrap_err();
        assert!(matches!(err, DriverError::InvalidId(_)));
        assert!(d.transport.seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn console_reads_are_cut_to_what_a_frame_carries() {
        let d = driver(Ok(Answer::Console {
            bytes: encode(b"login:"),
            next: 6,
        }));
        let (bytes, next) = d.console_read("a", 0, 1 << 20).await.unwrap();
        assert_eq!((bytes.as_slice(), next), (&b"login:"[..], 6));
        let seen = d.transport.seen.lock().unwrap();
        assert!(matches!(seen[0], Call::ConsoleRead { max, .. } if max == CONSOLE_CHUNK));
    }

    #[tokio::test]
    async fn a_wrong_answer_or_a_node_error_is_an_error() {
        let d = driver(Ok(Answer::Done));
        let err = d.status("a").await.unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(err.public(), "the node answered something unexpected");
        let d = driver(Err(CallError {
            public: "node-b is unreachable".into(),
            transient: true,
            detail: "link closed".into(),
        }));
        let err = d.delete("a").await.unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.public(), "node-b is unreachable");
        assert_eq!(d.running_ids(), vec!["a".to_owned()]);
        assert_eq!(d.vm_dir("a"), PathBuf::from("/node/a"));
    }
}
