//! What a VM shows when its node is unreachable: not its last stored state, which may be
//! stale, but `unknown` with since when its node has been silent. Computed when read (lists,
//! pages, live updates), never stored, so nothing needs undoing when the node comes back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::show_time;
use crate::compute::placement::{joined, reachable};
use crate::entities::{node, vm};
use crate::internal;

/// The joined nodes that are unreachable at `now`: their names and last heartbeats.
#[derive(Debug, Default)]
pub(crate) struct Unreachable(HashMap<Uuid, (String, Option<DateTime<Utc>>)>);

impl Unreachable {
    pub(crate) async fn at<C: ConnectionTrait>(
        conn: &C,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        let rows = node::Entity::find()
            .filter(node::Column::IsLocal.eq(false))
            .all(conn)
            .await
            .map_err(|e| internal("load nodes", e))?;
        Ok(Self(
            rows.into_iter()
                .filter(|n| joined(n) && !reachable(n, now))
                .map(|n| (n.id, (n.name, n.last_seen_at)))
                .collect(),
        ))
    }

    /// The unreachable nodes' ids.
    pub(crate) fn nodes(&self) -> Vec<Uuid> {
        self.0.keys().copied().collect()
    }

    /// The state and reason `row` shows.
    pub(crate) fn shown(&self, row: &vm::Model) -> (VmState, Option<String>) {
        let stored = VmState::parse(&row.observed_state).unwrap_or(VmState::Error);
        match row.node_id.and_then(|n| self.0.get(&n)) {
            Some((name, seen)) => (VmState::Unknown, Some(reason(name, *seen))),
            None => (stored, row.state_reason.clone()),
        }
    }
}

fn reason(node: &str, seen: Option<DateTime<Utc>>) -> String {
    match seen {
        Some(at) => format!(
            "Unknown: node {node} unreachable since {}. Its VMs keep running there if they were; \
             requests wait for it or fail with this reason.",
            show_time(at)
        ),
        None => format!("Unknown: node {node} is unreachable."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn row(node: Option<Uuid>) -> vm::Model {
        vm::Model {
            id: Uuid::new_v4(),
            name: "web".into(),
            organization_id: Uuid::new_v4(),
            node_id: node,
            created_at: at(),
            description: String::new(),
            image_id: None,
            cpu_count: 1,
            memory_mb: 128,
            disk_gb: 1,
            desired_state: crate::entities::states::Desired::Running,
            observed_state: "running".into(),
            state_reason: None,
            generation: 1,
            observed_generation: 1,
            updated_at: None,
            service_id: None,
            config_version: None,
            service_version: None,
            tags: String::new(),
        }
    }

    #[test]
    fn a_vm_on_an_unreachable_node_shows_unknown_with_since_when() {
        let lost = Uuid::new_v4();
        let seen = at();
        let gone = Unreachable(HashMap::from([(lost, ("node-b".to_owned(), Some(seen)))]));
        let (state, why) = gone.shown(&row(Some(lost)));
        assert_eq!(state, VmState::Unknown);
        let why = why.unwrap();
        assert!(
            why.starts_with("Unknown: node node-b unreachable since "),
            "{why}"
        );
        assert_eq!(gone.shown(&row(Some(Uuid::new_v4()))).0, VmState::Running);
        assert_eq!(gone.shown(&row(None)).0, VmState::Running);
    }
}
