//! Numbers read from the database for `/metrics`, and audit retention.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use model::operations::OperationState;
use model::vms::VmState;

use crate::entities::{audit, node, operation, session, vm};
use crate::{internal, Control};

/// Gauges sampled at scrape time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Sessions neither expired nor idle past the timeout.
    pub sessions_active: u64,
    /// (node name, observed state, count), every state of every node, zero included.
    pub vms: Vec<(String, String, u64)>,
    /// (operation state, count), every state, zero included.
    pub operations: Vec<(String, u64)>,
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
        let mut per: HashMap<(String, String), u64> = HashMap::new();
        for node in names
            .values()
            .chain(std::iter::once(&"unplaced".to_owned()))
        {
            for state in VmState::ALL {
                per.insert((node.clone(), state.as_str().to_owned()), 0);
            }
        }
        for v in vm::Entity::find().all(self.db()).await.map_err(fail)? {
            let node = v
                .node_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "unplaced".to_owned());
            *per.entry((node, v.observed_state)).or_default() += 1;
        }
        let mut vms: Vec<(String, String, u64)> =
            per.into_iter().map(|((n, s), c)| (n, s, c)).collect();
        vms.sort();
        let mut operations = Vec::new();
        for state in OperationState::ALL {
            let n = operation::Entity::find()
                .filter(operation::Column::State.eq(state.as_str()))
                .count(self.db())
                .await
                .map_err(fail)?;
            operations.push((state.as_str().to_owned(), n));
        }
        Ok(Gauges {
            sessions_active,
            vms,
            operations,
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
