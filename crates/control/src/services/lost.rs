//! Replicas of a lost node: once a node has been silent for [`REPLACE_AFTER`], its agent has
//! fenced them (stopped them itself after `agent::fence::FENCE_AFTER` without word from the
//! control plane), so they are forgotten and their services are scaled back to their count by
//! a deployment the control plane requests itself, which places the new replicas on healthy
//! nodes. Plain VMs are never moved: their disks are on the lost node, so they wait for it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use model::services::DeploymentKind;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::changes::{Change, Requester};
use super::logs;
use crate::access::Authorized;
use crate::auth::show_time;
use crate::compute::reconcile::forget_vm_in;
use crate::entities::states::{Desired, LogLevel};
use crate::entities::{node, service, vm};
use crate::locking::lock_row;
use crate::{internal, Control};

/// How long after a node's last heartbeat its replicas are replaced: the agent's fencing time
/// and a margin for the heartbeat's round trip and the stop itself.
pub const REPLACE_AFTER: Duration = Duration::from_secs(agent::fence::FENCE_AFTER.as_secs() + 10);

impl Control {
    /// Replaces the replicas of every node silent for [`REPLACE_AFTER`] at `now`; returns
    /// how many replicas were replaced. Safe from several instances at once (each service is
    /// locked, and its replicas read again under the lock).
    pub async fn replace_lost_replicas(&self, now: DateTime<Utc>) -> Result<usize, AppError> {
        let fail = |e| internal("find lost replicas", e);
        let cutoff = now - chrono::Duration::from_std(REPLACE_AFTER).unwrap_or_default();
        let lost: BTreeMap<Uuid, node::Model> = node::Entity::find()
            .filter(node::Column::IsLocal.eq(false))
            .filter(node::Column::LastSeenAt.lt(cutoff))
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        if lost.is_empty() {
            return Ok(0);
        }
        let replicas = vm::Entity::find()
            .filter(vm::Column::NodeId.is_in(lost.keys().copied()))
            .filter(vm::Column::ServiceId.is_not_null())
            .all(self.db())
            .await
            .map_err(fail)?;
        let services: BTreeSet<Uuid> = replicas.iter().filter_map(|r| r.service_id).collect();
        let mut replaced = 0;
        for service in services {
            replaced += self.replace_on(service, &lost, now).await?;
        }
        Ok(replaced)
    }

    /// Forgets `service`'s replicas on the `lost` nodes and asks for its count again, in one
    /// transaction.
    async fn replace_on(
        &self,
        service_id: Uuid,
        lost: &BTreeMap<Uuid, node::Model>,
        now: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        let fail = |e| internal("replace lost replicas", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let svc = lock_row::<service::Entity>(&txn, service_id).await?;
        let gone = vm::Entity::find()
            .filter(vm::Column::ServiceId.eq(service_id))
            .filter(vm::Column::NodeId.is_in(lost.keys().copied()))
            .all(&txn)
            .await
            .map_err(fail)?;
        if gone.is_empty() {
            return Ok(0);
        }
        let mut why = Vec::new();
        for row in &gone {
            forget_vm_in(&txn, row).await?;
            if let Some(node) = row.node_id.and_then(|n| lost.get(&n)) {
                let since = node.last_seen_at.map(show_time).unwrap_or_default();
                why.push(format!(
                    "replica {} was on node {}, unreachable since {since}",
                    row.name, node.name
                ));
            }
        }
        let names: Vec<&str> = gone.iter().map(|r| r.name.as_str()).collect();
        let why = format!("Replacing lost replicas: {}", why.join("; "));
        let requested = if svc.desired_state == Desired::Running {
            let (dep, line) = self
                .request_deployment(
                    &txn,
                    &Authorized::system("node watch: replicas of a lost node"),
                    &svc,
                    Change::default(),
                    DeploymentKind::Scale,
                    Requester::System("the control plane"),
                    now,
                )
                .await?;
            logs::append(&txn, dep.id, LogLevel::Warn, &why, now).await?;
            Some((dep, line))
        } else {
            None
        };
        txn.commit().await.map_err(fail)?;
        tracing::warn!(service = %svc.name, replicas = ?names, "replicas of lost nodes replaced");
        for row in &gone {
            self.publish_vm_deleted(row).await;
        }
        match requested {
            Some((dep, line)) => self.after_request(&dep, line).await,
            None => self.publish_service(service_id).await,
        }
        Ok(gone.len())
    }
}
