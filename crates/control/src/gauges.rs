//! Numbers read from the database for `/metrics`, and audit retention.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entities::{audit, node, session, vm};
use crate::{internal, Control};

/// Gauges sampled at scrape time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Sessions neither expired nor idle past the timeout.
    pub sessions_active: u64,
    /// (node name, state, count). VMs are records until the hypervisor driver places them,
    /// so their state is `defined` and their node `unplaced`.
    pub vms: Vec<(String, String, u64)>,
}

impl Control {
    pub async fn gauges(&self, now: DateTime<Utc>) -> Result<Gauges, AppError> {
        let fail = |e| internal("metrics gauges", e);
        let sessions_active = session::Entity::find()
            .filter(session::Column::ExpiresAt.gt(now))
            .filter(session::Column::LastSeenAt.gt(now - self.auth().idle_timeout))
            .count(self.db())
            .await
            .map_err(fail)?;
        let names: HashMap<Uuid, String> = node::Entity::find()
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|n| (n.id, n.name))
            .collect();
        // Every series is always written, zero included, so a count never sticks at an old
        // value after the last VM of a node goes away.
        let mut per_node: HashMap<String, u64> = names.values().map(|n| (n.clone(), 0)).collect();
        per_node.insert("unplaced".to_owned(), 0);
        for v in vm::Entity::find().all(self.db()).await.map_err(fail)? {
            let node = v
                .node_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "unplaced".to_owned());
            *per_node.entry(node).or_default() += 1;
        }
        let mut vms: Vec<(String, String, u64)> = per_node
            .into_iter()
            .map(|(node, n)| (node, "defined".to_owned(), n))
            .collect();
        vms.sort();
        Ok(Gauges {
            sessions_active,
            vms,
        })
    }

    /// Deletes audit rows older than `cutoff` (configured retention only); returns how many.
    pub async fn prune_audit(&self, cutoff: DateTime<Utc>) -> Result<u64, AppError> {
        audit::Entity::delete_many()
            .filter(audit::Column::At.lt(cutoff))
            .exec(self.db())
            .await
            .map(|r| r.rows_affected)
            .map_err(|e| internal("audit retention", e))
    }
}
