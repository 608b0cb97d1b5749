//! Live events sent to browsers over `/ws`: typed, versioned, each naming its resource, its
//! new state and the generation that state belongs to (so a client can drop stale ones).

use serde::{Deserialize, Serialize};

/// The version of the event format; bumped on an incompatible change.
pub const EVENT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A VM changed (state, spec) or was deleted.
    VmUpdate {
        v: u32,
        id: String,
        name: String,
        organization_id: String,
        state: String,
        generation: i64,
        deleted: bool,
    },
    /// A service changed (status, replicas, configuration, a deployment) or was deleted.
    ServiceUpdate {
        v: u32,
        id: String,
        name: String,
        organization_id: String,
        state: String,
        generation: i64,
        deleted: bool,
    },
    /// An operation moved on (a step, a retry, its end); `id` is the operation's. Pages that
    /// show operations refetch them instead of polling.
    OperationUpdate { v: u32, id: String },
    /// A usage sample of a VM; `id` is the VM's, or its service's for the service's stream.
    Metrics {
        v: u32,
        id: String,
        sample: crate::services::MetricSample,
    },
    /// A line of a log; `id` is the resource (a service), `stream` the log (a deployment).
    Log {
        v: u32,
        id: String,
        stream: String,
        line: crate::services::DeploymentLogLine,
    },
    /// A new audit row.
    Audit {
        v: u32,
        id: String,
        action: String,
        outcome: String,
    },
    /// A node linked, dropped its link, fell silent, or was added, cordoned or removed; `id`
    /// is the node's. Only platform administrators receive it.
    NodeUpdate { v: u32, id: String },
    /// Grants changed somewhere: lists may have gained or lost items; refetch them.
    AccessChanged { v: u32, revision: i64 },
    /// This connection missed events (it fell behind): refetch everything shown.
    Resync { v: u32, reason: String },
    /// Sent once per connection.
    Hello { v: u32 },
}

impl LiveEvent {
    /// The resource id the event is about, when it is about one.
    pub fn resource_id(&self) -> Option<&str> {
        match self {
            LiveEvent::VmUpdate { id, .. }
            | LiveEvent::ServiceUpdate { id, .. }
            | LiveEvent::Metrics { id, .. }
            | LiveEvent::Log { id, .. }
            | LiveEvent::Audit { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Its generation, for events that carry one.
    pub fn generation(&self) -> Option<i64> {
        match self {
            LiveEvent::VmUpdate { generation, .. }
            | LiveEvent::ServiceUpdate { generation, .. } => Some(*generation),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_type_and_version() {
        let e = LiveEvent::VmUpdate {
            v: EVENT_VERSION,
            id: "a".into(),
            name: "web".into(),
            organization_id: "o".into(),
            state: "running".into(),
            generation: 3,
            deleted: false,
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(
            text.starts_with(r#"{"type":"vm_update","v":1,"id":"a""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<LiveEvent>(&text).unwrap(), e);
        assert_eq!(e.generation(), Some(3));
    }
}
