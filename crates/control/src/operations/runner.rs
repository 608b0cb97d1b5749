//! The runner: claims due operations, runs them under a heartbeat-extended lease, and settles
//! each one exactly once (succeeded, failed, cancelled, or queued again with backoff).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use model::operations::OperationState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::TransactionTrait;

use super::queue::{self, OpError};
use crate::entities::operation;
use crate::entities::states::Area;
use crate::{internal, Control};

/// How often the runner looks for due work when nobody wakes it.
const POLL: std::time::Duration = std::time::Duration::from_millis(500);
/// Operations one instance runs at once.
const CONCURRENCY: usize = 4;

/// Handed to an operation's code: reports progress and notices cancellation.
#[derive(Clone)]
pub struct StepContext {
    control: Control,
    pub op: operation::Model,
}

impl StepContext {
    /// Records a progress step; an error when someone asked to cancel.
    pub async fn step(&self, text: &str) -> Result<(), OpError> {
        let cancel = queue::add_step(
            self.control.db(),
            self.op.id,
            self.control.runner_id(),
            text,
            self.control.now(),
        )
        .await
        .map_err(|e| OpError::Transient(e.to_string()))?;
        self.control.publish_operation(&self.op).await;
        if cancel {
            Err(OpError::Cancelled)
        } else {
            Ok(())
        }
    }
}

impl Control {
    /// Runs operations in the background for as long as the process lives.
    pub fn spawn_runner(&self) -> tokio::task::JoinHandle<()> {
        let control = self.clone();
        tokio::spawn(async move { control.run_forever().await })
    }

    /// Wakes the runner now (a use case just enqueued something).
    pub fn wake_runner(&self) {
        self.runner_wake().notify_one();
    }

    async fn run_forever(self) {
        let busy: Arc<Mutex<HashSet<Uuid>>> = Arc::default();
        let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut sweep = tokio::time::interval(crate::compute::reconcile::SWEEP_EVERY);
        loop {
            match self.claim_due(&busy, slots.available_permits()).await {
                Ok(claimed) => {
                    for op in claimed {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        let control = self.clone();
                        let busy = busy.clone();
                        tokio::spawn(async move {
                            let id = op.id;
                            control.execute(op).await;
                            if let Ok(mut set) = busy.lock() {
                                set.remove(&id);
                            }
                            drop(permit);
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming operations failed"),
            }
            tokio::select! {
                _ = self.runner_wake().notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = sweep.tick() => self.sweep().await,
            }
        }
    }

    async fn claim_due(
        &self,
        busy: &Mutex<HashSet<Uuid>>,
        room: usize,
    ) -> Result<Vec<operation::Model>, AppError> {
        if room == 0 {
            return Ok(Vec::new());
        }
        let now = self.now();
        let ops = queue::unfinished(self.db()).await?;
        let mut claimed = Vec::new();
        for op in queue::claimable(&ops, now) {
            if claimed.len() >= room {
                break;
            }
            let mine = busy.lock().map(|s| s.contains(&op.id)).unwrap_or(true);
            if mine {
                continue;
            }
            if let Some(row) = queue::claim(self.db(), &op, self.runner_id(), now).await? {
                if let Ok(mut set) = busy.lock() {
                    set.insert(row.id);
                }
                claimed.push(row);
            }
        }
        Ok(claimed)
    }

    /// Claims and runs every due operation, one at a time, until none is left: for tests and
    /// tools that want the work done before they look.
    pub async fn run_due_operations(&self) -> Result<usize, AppError> {
        let busy = Mutex::new(HashSet::new());
        let mut n = 0;
        loop {
            let claimed = self.claim_due(&busy, 1).await?;
            let Some(op) = claimed.into_iter().next() else {
                return Ok(n);
            };
            self.execute(op).await;
            n += 1;
        }
    }

    /// Runs one claimed operation and settles it.
    async fn execute(&self, op: operation::Model) {
        let heartbeat = {
            let control = self.clone();
            let id = op.id;
            tokio::spawn(async move {
                let every = (queue::LEASE / 3).to_std().unwrap_or(POLL);
                loop {
                    tokio::time::sleep(every).await;
                    match queue::heartbeat(control.db(), id, control.runner_id(), control.now())
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => tracing::warn!(error = %e, "operation heartbeat failed"),
                    }
                }
            })
        };
        let result = if op.attempt > op.max_attempts {
            Err(OpError::Permanent(format!(
                "gave up after {} attempts",
                op.max_attempts
            )))
        } else {
            let ctx = StepContext {
                control: self.clone(),
                op: op.clone(),
            };
            if op.attempt > 1 {
                let _ = ctx.step(&format!("Attempt {}", op.attempt)).await;
            }
            self.dispatch(&ctx).await
        };
        heartbeat.abort();
        if let Err(e) = self.settle(&op, result).await {
            tracing::error!(operation = %op.id, error = %e, "could not record how an operation ended");
        }
    }

    async fn dispatch(&self, ctx: &StepContext) -> Result<String, OpError> {
        // The kind's area names the code that runs it: `vm.start` -> VMs.
        match ctx.op.kind.area() {
            Area::Vm => self.run_vm_operation(ctx).await,
            Area::Service => self.run_service_operation(ctx).await,
            // Only the runner's own tests queue these (control::testing).
            Area::Test => crate::testing::run_test_operation(ctx).await,
        }
    }

    async fn settle(
        &self,
        op: &operation::Model,
        result: Result<String, OpError>,
    ) -> Result<(), AppError> {
        let now = self.now();
        let owner = self.runner_id();
        metrics::counter!("strata_operations_finished_total", "kind" => op.kind.as_str(),
            "result" => match &result { Ok(_) => "succeeded", Err(OpError::Transient(_)) if op.attempt < op.max_attempts => "retried", Err(OpError::Superseded | OpError::Cancelled) => "cancelled", Err(_) => "failed" })
        .increment(1);
        let txn = self
            .db()
            .begin()
            .await
            .map_err(|e| internal("finish operation", e))?;
        let end = settlement(op, &result, now);
        let (state, error) = (end.state, end.error.clone());
        let ours = queue::settle(&txn, op, owner, &end, now).await?;
        if !ours {
            // Another runner took it over after our lease ran out; it settles it.
            return Ok(());
        }
        let deployment_end = if op.target_type == "service" {
            self.service_settled(&txn, op, state, error.as_deref(), now)
                .await?
        } else {
            None
        };
        match state {
            OperationState::Failed => {
                self.operation_failed(&txn, op, error.as_deref().unwrap_or("failed"), now)
                    .await?
            }
            OperationState::Cancelled if matches!(result, Err(OpError::Cancelled)) => {
                self.operation_cancelled(&txn, op, now).await?
            }
            _ => {}
        }
        txn.commit()
            .await
            .map_err(|e| internal("finish operation", e))?;
        if state == OperationState::Queued {
            self.wake_runner();
        }
        self.publish_operation(op).await;
        if op.target_type == "vm" && state.is_finished() {
            if let Ok(id) = op.target_id.parse() {
                self.publish_vm(id).await;
            }
        }
        if let Some((deployment, line)) = deployment_end {
            self.publish_log(&deployment, line).await;
            self.publish_service(deployment.service_id).await;
        }
        Ok(())
    }

    async fn operation_failed(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        op: &operation::Model,
        error: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), AppError> {
        if op.target_type == "vm" {
            crate::compute::reconcile::vm_failed(txn, op, error, now).await?;
        }
        Ok(())
    }

    async fn operation_cancelled(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        op: &operation::Model,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), AppError> {
        if op.target_type == "vm" {
            crate::compute::reconcile::vm_cancelled(txn, op, now).await?;
        }
        Ok(())
    }
}

/// How an attempt's result ends the operation: done, failed, cancelled, or queued again after
/// its backoff while attempts are left.
fn settlement(
    op: &operation::Model,
    result: &Result<String, OpError>,
    now: chrono::DateTime<Utc>,
) -> queue::Settlement {
    let (state, error, retry, last) = match result {
        Ok(summary) => (OperationState::Succeeded, None, None, summary.clone()),
        Err(OpError::Transient(e)) if op.attempt < op.max_attempts => {
            let wait = queue::backoff(op.attempt);
            (
                OperationState::Queued,
                Some(e.clone()),
                Some(now + wait),
                format!(
                    "Attempt {} failed: {e}. Retrying in {} s",
                    op.attempt,
                    wait.num_seconds()
                ),
            )
        }
        Err(OpError::Superseded) => (
            OperationState::Cancelled,
            Some("Superseded by a newer request".to_owned()),
            None,
            "Superseded by a newer request".to_owned(),
        ),
        Err(OpError::Cancelled) => (
            OperationState::Cancelled,
            None,
            None,
            "Cancelled".to_owned(),
        ),
        Err(OpError::Transient(e) | OpError::Permanent(e)) => (
            OperationState::Failed,
            Some(e.clone()),
            None,
            format!("Failed: {e}"),
        ),
    };
    queue::Settlement {
        state,
        error,
        retry_at: retry,
        last_step: last,
    }
}
