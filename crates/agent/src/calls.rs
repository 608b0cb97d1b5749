//! The VM operations the control plane asks of a node, as messages: one [`Call`] per
//! [`Driver`] method, its [`Answer`], and [`serve`], which runs a call on the node's driver.
//! The embedded node and every joined host answer calls with this same function, so a VM's
//! life takes one code path whichever node it is on.

use std::time::Duration;

use base64::Engine as _;
use hypervisor::driver::{
    Driver, DriverError, MachineSpec, PowerState, RouterSpec, Stopped, Usage,
};
use serde::{Deserialize, Serialize};

/// The most console output one call carries (a link frame holds at most
/// [`crate::wire::MAX_FRAME`], and base64 adds a third).
pub const CONSOLE_CHUNK: usize = 128 * 1024;

/// How long the control plane waits for an answer beyond the time the call itself may take
/// (a grace period, a boot timeout): a node that says nothing for that long is not answering.
pub const ANSWER_MARGIN: Duration = Duration::from_secs(30);

/// One operation on one VM of a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Call {
    Create {
        spec: MachineSpec,
    },
    /// An organization's router on the node, made or brought up to date.
    ApplyRouter {
        /// Boxed: a router is much larger than the other calls.
        spec: Box<RouterSpec>,
    },
    Start {
        spec: MachineSpec,
    },
    Stop {
        id: String,
        grace_ms: u64,
    },
    Restart {
        spec: MachineSpec,
        grace_ms: u64,
    },
    Pause {
        id: String,
    },
    Resume {
        id: String,
    },
    Delete {
        id: String,
    },
    Status {
        id: String,
    },
    Usage {
        id: String,
    },
    ConsoleRead {
        id: String,
        offset: u64,
        max: usize,
    },
    ConsoleWrite {
        id: String,
        /// base64
        bytes: String,
    },
    WaitForConsole {
        id: String,
        marker: String,
        timeout_ms: u64,
    },
}

impl Call {
    /// The VM the call is about.
    pub fn vm(&self) -> &str {
        match self {
            Call::Create { spec } | Call::Start { spec } | Call::Restart { spec, .. } => &spec.id,
            // Router ids are made of the same letters as VM ids.
            Call::ApplyRouter { spec } => &spec.id,
            Call::Stop { id, .. }
            | Call::Pause { id }
            | Call::Resume { id }
            | Call::Delete { id }
            | Call::Status { id }
            | Call::Usage { id }
            | Call::ConsoleRead { id, .. }
            | Call::ConsoleWrite { id, .. }
            | Call::WaitForConsole { id, .. } => id,
        }
    }

    /// How long the caller waits for the answer: what the call may take on the node, and
    /// [`ANSWER_MARGIN`].
    pub fn patience(&self) -> Duration {
        let own = match self {
            Call::Stop { grace_ms, .. } | Call::Restart { grace_ms, .. } => {
                // A stop waits out the grace, then QEMU's quit and a kill.
                Duration::from_millis(*grace_ms) + Duration::from_secs(30)
            }
            Call::WaitForConsole { timeout_ms, .. } => Duration::from_millis(*timeout_ms),
            // A disk copied from a large image, a QEMU slow to start on a busy host.
            Call::Create { .. }
            | Call::Start { .. }
            | Call::Delete { .. }
            | Call::ApplyRouter { .. } => Duration::from_secs(120),
            _ => Duration::ZERO,
        };
        own + ANSWER_MARGIN
    }
}

/// A call's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum Answer {
    Done,
    Stopped { how: Stopped },
    Power { state: PowerState },
    Usage { usage: Option<Usage> },
    Console { bytes: String, next: u64 },
    Waited { ms: u64 },
}

/// A failed call as it travels: the words people may read, whether a retry can help, and the
/// node's whole message (for the control plane's log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    pub public: String,
    pub transient: bool,
    pub detail: String,
}

impl From<DriverError> for CallError {
    fn from(e: DriverError) -> Self {
        CallError {
            public: e.public(),
            transient: e.is_transient(),
            detail: e.to_string(),
        }
    }
}

impl From<CallError> for DriverError {
    fn from(e: CallError) -> Self {
        DriverError::Remote {
            public: e.public,
            transient: e.transient,
            detail: e.detail,
        }
    }
}

/// A call's outcome on the wire.
pub type Outcome = Result<Answer, CallError>;

pub(crate) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn decode(text: &str) -> Result<Vec<u8>, CallError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| CallError {
            public: "the node's answer was damaged".into(),
            transient: true,
            detail: "console bytes are not base64".into(),
        })
}

/// Runs `call` on `driver`: what an agent does with every call it gets.
pub async fn serve(driver: &dyn Driver, call: Call) -> Outcome {
    let answer = match call {
        Call::Create { spec } => driver.create(&spec).await.map(|()| Answer::Done),
        Call::ApplyRouter { spec } => driver.apply_router(&spec).await.map(|()| Answer::Done),
        Call::Start { spec } => driver.start(&spec).await.map(|()| Answer::Done),
        Call::Stop { id, grace_ms } => driver
            .stop(&id, Duration::from_millis(grace_ms))
            .await
            .map(|how| Answer::Stopped { how }),
        Call::Restart { spec, grace_ms } => driver
            .restart(&spec, Duration::from_millis(grace_ms))
            .await
            .map(|()| Answer::Done),
        Call::Pause { id } => driver.pause(&id).await.map(|()| Answer::Done),
        Call::Resume { id } => driver.resume(&id).await.map(|()| Answer::Done),
        Call::Delete { id } => driver.delete(&id).await.map(|()| Answer::Done),
        Call::Status { id } => driver
            .status(&id)
            .await
            .map(|state| Answer::Power { state }),
        Call::Usage { id } => driver.usage(&id).await.map(|usage| Answer::Usage { usage }),
        Call::ConsoleRead { id, offset, max } => driver
            .console_read(&id, offset, max.min(CONSOLE_CHUNK))
            .await
            .map(|(bytes, next)| Answer::Console {
                bytes: encode(&bytes),
                next,
            }),
        Call::ConsoleWrite { id, bytes } => {
            let bytes = decode(&bytes)?;
            driver
                .console_write(&id, &bytes)
                .await
                .map(|()| Answer::Done)
        }
        Call::WaitForConsole {
            id,
            marker,
            timeout_ms,
        } => driver
            .wait_for_console(&id, &marker, Duration::from_millis(timeout_ms))
            .await
            .map(|took| Answer::Waited {
                ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            }),
    };
    answer.map_err(CallError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypervisor::driver::Boot;

    #[test]
    fn calls_and_answers_are_tagged_json() {
        let call = Call::Start {
            spec: MachineSpec {
                id: "a".into(),
                cpus: 1,
                memory_mb: 128,
                disk_gb: 1,
                boot: Boot::Disk {
                    base: "/images/x.qcow2".into(),
                },
                config: None,
                fenced: false,
                nics: Vec::new(),
                router: None,
            },
        };
        let text = serde_json::to_string(&call).unwrap();
        assert!(
            text.starts_with(r#"{"op":"start","spec":{"id":"a""#),
            "{text}"
        );
        assert!(text.contains(r#""boot":{"from":"disk","base":"/images/x.qcow2"}"#));
        assert_eq!(serde_json::from_str::<Call>(&text).unwrap(), call);
        let outcome: Outcome = Ok(Answer::Stopped {
            how: Stopped::Graceful,
        });
        let text = serde_json::to_string(&outcome).unwrap();
        assert_eq!(text, r#"{"Ok":{"is":"stopped","how":"graceful"}}"#);
        assert_eq!(serde_json::from_str::<Outcome>(&text).unwrap(), outcome);
    }

    #[test]
    fn an_error_keeps_its_public_words_and_whether_to_retry() {
        let e = DriverError::MissingFile {
            what: "kernel",
            path: "/srv/secret/vmlinuz".into(),
        };
        let wire = CallError::from(e);
        assert_eq!(
            wire.public,
            "a file the image needs (kernel) is missing on the node"
        );
        assert!(!wire.transient);
        assert!(wire.detail.contains("/srv/secret/vmlinuz"));
        let back = DriverError::from(wire);
        assert_eq!(
            back.public(),
            "a file the image needs (kernel) is missing on the node"
        );
        assert!(!back.is_transient());
        assert!(back.to_string().contains("/srv/secret"));
    }

    #[test]
    fn patience_covers_what_the_call_may_take() {
        let stop = Call::Stop {
            id: "a".into(),
            grace_ms: 20_000,
        };
        assert_eq!(stop.patience(), Duration::from_secs(80));
        let status = Call::Status { id: "a".into() };
        assert_eq!(status.patience(), ANSWER_MARGIN);
        assert_eq!(status.vm(), "a");
    }
}
