//! The periodic look at the nodes this instance reaches (the embedded one and those whose
//! links are open here): QEMU processes that died, and ones nobody owns.

use std::collections::HashSet;

use hypervisor::driver::PowerState;
use model::vms::VmState;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::vm::event;
use crate::access::model::Resource;
use crate::access::Authorized;
use crate::entities::states::{Desired, OperationKind};
use crate::entities::vm;
use crate::operations::queue::{self, NewOperation};
use crate::Control;

/// How often the node is looked at.
pub(crate) const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl Control {
    /// One look at each node. Errors are logged: the next sweep tries again.
    pub async fn sweep(&self) {
        for node in self.reachable_nodes() {
            if let Err(e) = self.sweep_node(node).await {
                tracing::warn!(%node, error = %e, "sweeping a node failed");
            }
        }
    }

    async fn sweep_node(&self, node: Uuid) -> Result<(), model::AppError> {
        let fail = |e| crate::internal("sweep", e);
        let Ok(driver) = self.node_driver(Some(node)) else {
            return Ok(());
        };
        let unfinished = queue::unfinished(self.db()).await?;
        let busy: HashSet<String> = unfinished
            .iter()
            .filter(|o| o.target_type == "vm")
            .map(|o| o.target_id.clone())
            .collect();
        // A rollout starts and stops its service's replicas itself: a replica it is starting
        // has no QEMU yet for a moment (its disk, network and router are made first), and
        // must not be taken for one that exited.
        let rolling: HashSet<String> = unfinished
            .iter()
            .filter(|o| o.target_type == "service")
            .map(|o| o.target_id.clone())
            .collect();
        let mut rows = vm::Entity::find().filter(vm::Column::NodeId.eq(node));
        if node == self.local_node() {
            // VMs from before nodes had one are the embedded node's.
            rows = vm::Entity::find()
                .filter(vm::Column::NodeId.eq(node).or(vm::Column::NodeId.is_null()));
        }
        let rows = rows.all(self.db()).await.map_err(fail)?;
        let known: HashSet<String> = rows.iter().map(|r| r.id.to_string()).collect();
        // A QEMU no VM row owns (its VM was removed while this node was down): stop it.
        for id in driver.running_ids() {
            if !known.contains(&id) && !busy.contains(&id) {
                tracing::warn!(vm = %id, %node, "stopping a QEMU process that belongs to no VM");
                if let Err(e) = driver.delete(&id).await {
                    tracing::warn!(vm = %id, error = %e, "could not remove an orphan VM");
                }
            }
        }
        for row in rows {
            let id = row.id.to_string();
            let in_rollout = row
                .service_id
                .is_some_and(|s| rolling.contains(&s.to_string()));
            if busy.contains(&id) || in_rollout {
                continue;
            }
            let Ok(power) = driver.status(&id).await else {
                continue;
            };
            let observed = VmState::parse(&row.observed_state).unwrap_or(VmState::Error);
            let running = matches!(power, PowerState::Running | PowerState::Paused);
            let expects_running = matches!(
                observed,
                VmState::Running | VmState::Paused | VmState::Starting | VmState::Restarting
            );
            if expects_running && !running {
                self.mark_exited(row.id, row.generation).await?;
            } else if running && row.desired_state == Desired::Stopped && observed != VmState::Error
            {
                // Running against the request (a start cancelled half-way): stop it.
                self.enqueue_system(&row, OperationKind::VmStop).await?;
            } else if running
                && observed == VmState::Stopped
                && row.desired_state == Desired::Running
            {
                self.mark_state(row.id, VmState::Running, "Found running")
                    .await?;
            }
        }
        Ok(())
    }

    /// Only while nothing newer was asked of the VM (`generation` is the one looked at).
    async fn mark_exited(&self, id: Uuid, generation: i64) -> Result<(), model::AppError> {
        let fail = |e| crate::internal("record exited vm", e);
        let now = self.now();
        let txn = self.db().begin().await.map_err(fail)?;
        let done = vm::Entity::update_many()
            .col_expr(
                vm::Column::ObservedState,
                Expr::value(VmState::Stopped.as_str()),
            )
            .col_expr(
                vm::Column::DesiredState,
                Expr::value(Desired::Stopped.as_str()),
            )
            .col_expr(
                vm::Column::StateReason,
                Expr::value(Some(
                    "QEMU exited: the guest powered off or crashed.".to_owned(),
                )),
            )
            .col_expr(
                vm::Column::Generation,
                Expr::col(vm::Column::Generation).add(1),
            )
            .col_expr(vm::Column::UpdatedAt, Expr::value(Some(now)))
            .filter(vm::Column::Id.eq(id))
            .filter(vm::Column::Generation.eq(generation))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if done.rows_affected != 1 {
            return Ok(());
        }
        event(
            &txn,
            id,
            "state",
            "QEMU exited: the guest powered off or crashed",
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)
    }

    async fn mark_state(
        &self,
        id: Uuid,
        state: VmState,
        line: &str,
    ) -> Result<(), model::AppError> {
        let fail = |e| crate::internal("record vm state", e);
        let now = self.now();
        let txn = self.db().begin().await.map_err(fail)?;
        vm::Entity::update_many()
            .col_expr(vm::Column::ObservedState, Expr::value(state.as_str()))
            .col_expr(vm::Column::StateReason, Expr::value(None::<String>))
            .col_expr(vm::Column::UpdatedAt, Expr::value(Some(now)))
            .filter(vm::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        event(&txn, id, "state", line, now).await?;
        txn.commit().await.map_err(fail)?;
        self.publish_vm(id).await;
        Ok(())
    }

    async fn enqueue_system(
        &self,
        row: &vm::Model,
        kind: OperationKind,
    ) -> Result<(), model::AppError> {
        let fail = |e| crate::internal("enqueue system operation", e);
        let now = self.now();
        let txn = self.db().begin().await.map_err(fail)?;
        queue::enqueue(
            &txn,
            &Authorized::system("the sweep"),
            NewOperation {
                kind,
                target: Resource::vm(row.id),
                organization: Some(row.organization_id),
                requested_by: None,
                generation: row.generation,
            },
            now,
        )
        .await?;
        event(
            &txn,
            row.id,
            "request",
            &format!("{kind} requested by the reconciler"),
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        Ok(())
    }
}
