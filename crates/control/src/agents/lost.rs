//! Noticing lost nodes: nothing happens when a host dies, so a watch looks at every joined
//! node once a second and tells the Nodes page when one becomes unreachable (its last
//! heartbeat older than 15 s) or reachable again, and every page showing one of its VMs (which
//! then shows `unknown`, or its state again); and replaces the service replicas of nodes lost
//! for longer than the agents' fencing time (`crate::services::REPLACE_AFTER`).

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::compute::placement::reachable;
use crate::entities::{node, vm};
use crate::Control;

/// How often the watch looks.
const WATCH_EVERY: Duration = Duration::from_secs(1);

impl Control {
    /// Publishes a node update whenever a node's reachability changes.
    pub fn spawn_node_watch(&self) -> tokio::task::JoinHandle<()> {
        let control = self.clone();
        tokio::spawn(async move {
            let mut known: HashMap<Uuid, bool> = HashMap::new();
            let mut tick = tokio::time::interval(WATCH_EVERY);
            loop {
                tick.tick().await;
                let rows = node::Entity::find()
                    .filter(node::Column::IsLocal.eq(false))
                    .all(control.db())
                    .await;
                let rows = match rows {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::warn!(error = %e, "watching nodes failed");
                        continue;
                    }
                };
                let now = control.now();
                let mut seen = HashMap::with_capacity(rows.len());
                for row in rows {
                    let up = reachable(&row, now);
                    if known.get(&row.id).is_some_and(|was| *was != up) {
                        if !up {
                            tracing::warn!(node = %row.id, name = %row.name, last_seen = ?row.last_seen_at, "node unreachable");
                        }
                        control.publish_node(row.id).await;
                        control.publish_vms_on(row.id).await;
                    }
                    seen.insert(row.id, up);
                }
                known = seen;
                if let Err(e) = control.replace_lost_replicas(now).await {
                    tracing::warn!(error = %e, "replacing the replicas of lost nodes failed");
                }
            }
        })
    }
}

impl Control {
    /// Tells the watchers of every VM on `node` that what it shows changed.
    async fn publish_vms_on(&self, node: Uuid) {
        let ids = vm::Entity::find()
            .filter(vm::Column::NodeId.eq(node))
            .all(self.db())
            .await;
        match ids {
            Ok(rows) => {
                for row in rows {
                    self.publish_vm(row.id).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "the VMs of a node were not published"),
        }
    }
}
