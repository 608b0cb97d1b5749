//! Rolling a service's replicas to what it should run now, one replica at a time: start the
//! new VM, wait until its guest booted, then stop and remove an old one. A failure stops the
//! rollout and keeps the old replicas. Start, stop, scale and delete run through here too.

use chrono::{DateTime, Utc};
use model::services::DeploymentState;
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::logs;
use super::replica_grants;
use crate::access::model::{Kind, Resource};
use crate::access::tuples;
use crate::access::Authorized;
use crate::compute::reconcile::{
    db_error, driver_error, driver_public, event, BOOT_TIMEOUT, STOP_GRACE,
};
use crate::entities::states::{Desired, LogLevel};
use crate::entities::{deployment, deployment_log, node, operation, service, service_config, vm};
use crate::operations::{OpError, StepContext};
use crate::{internal, Control};

/// One running rollout.
struct Rollout<'a> {
    control: &'a Control,
    ctx: &'a StepContext,
    svc: service::Model,
    dep: deployment::Model,
}

impl Control {
    pub(crate) async fn run_service_operation(&self, ctx: &StepContext) -> Result<String, OpError> {
        let op = &ctx.op;
        let id: Uuid = op
            .target_id
            .parse()
            .map_err(|_| OpError::Permanent("not a service id".into()))?;
        let dep = deployment::Entity::find()
            .filter(deployment::Column::OperationId.eq(op.id))
            .one(self.db())
            .await
            .map_err(db_error)?
            .ok_or_else(|| OpError::Permanent("the deployment record is missing".into()))?;
        let Some(svc) = service::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_error)?
        else {
            return Ok("The service is gone".into());
        };
        if svc.generation > op.generation {
            return Err(OpError::Superseded);
        }
        if dep.state == DeploymentState::Queued.as_str() {
            deployment::Entity::update_many()
                .col_expr(
                    deployment::Column::State,
                    Expr::value(DeploymentState::Running.as_str()),
                )
                .filter(deployment::Column::Id.eq(dep.id))
                .exec(self.db())
                .await
                .map_err(db_error)?;
            self.publish_service(id).await;
        } else if op.attempt > 1 {
            self.log(
                &dep,
                LogLevel::Warn,
                &format!("Attempt {} after an interruption", op.attempt),
            )
            .await
            .map_err(transient)?;
        }
        let rollout = Rollout {
            control: self,
            ctx,
            svc,
            dep,
        };
        match rollout.svc.desired_state {
            Desired::Deleted => rollout.delete_all().await,
            Desired::Stopped => rollout.stop_all().await,
            Desired::Running | Desired::Paused => rollout.roll().await,
        }
    }

    /// Records how a service operation ended on its deployment (inside the settling
    /// transaction) and returns what to publish once that commits.
    pub(crate) async fn service_settled(
        &self,
        txn: &DatabaseTransaction,
        op: &operation::Model,
        state: model::operations::OperationState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<(deployment::Model, model::services::DeploymentLogLine)>, AppError> {
        use model::operations::OperationState as O;
        let fail = |e| internal("finish deployment", e);
        let Some(dep) = deployment::Entity::find()
            .filter(deployment::Column::OperationId.eq(op.id))
            .one(txn)
            .await
            .map_err(fail)?
        else {
            return Ok(None);
        };
        let (dstate, level, line) = match state {
            O::Succeeded => (
                DeploymentState::Succeeded,
                LogLevel::Info,
                format!("Deployment {} succeeded", dep.number),
            ),
            O::Failed => (
                DeploymentState::Failed,
                LogLevel::Error,
                format!(
                    "Deployment {} failed: {}",
                    dep.number,
                    error.unwrap_or("unknown error")
                ),
            ),
            O::Cancelled => (
                DeploymentState::Cancelled,
                LogLevel::Warn,
                format!(
                    "Deployment {} cancelled: {}",
                    dep.number,
                    error.unwrap_or("cancelled by a person")
                ),
            ),
            // Queued again for a retry: the log says so when the next attempt starts.
            O::Queued | O::Running => return Ok(None),
        };
        deployment::Entity::update_many()
            .col_expr(deployment::Column::State, Expr::value(dstate.as_str()))
            .col_expr(
                deployment::Column::Error,
                Expr::value(
                    error
                        .filter(|_| dstate != DeploymentState::Succeeded)
                        .map(str::to_owned),
                ),
            )
            .col_expr(deployment::Column::FinishedAt, Expr::value(Some(now)))
            .filter(deployment::Column::Id.eq(dep.id))
            .exec(txn)
            .await
            .map_err(fail)?;
        if dstate == DeploymentState::Succeeded && dep.desired_state == Desired::Running {
            service::Entity::update_many()
                .col_expr(service::Column::DeployedAt, Expr::value(Some(now)))
                .filter(service::Column::Id.eq(dep.service_id))
                .exec(txn)
                .await
                .map_err(fail)?;
        }
        let line = logs::append(txn, dep.id, level, &line, now).await?;
        Ok(Some((dep, line)))
    }
}

fn transient(e: AppError) -> OpError {
    OpError::Transient(e.to_string())
}

impl Rollout<'_> {
    async fn log(&self, level: LogLevel, message: &str) -> Result<(), OpError> {
        self.control
            .log(&self.dep, level, message)
            .await
            .map_err(transient)
    }

    /// A progress step on the operation and a line in the deployment log.
    async fn step(&self, message: &str) -> Result<(), OpError> {
        self.ctx.step(message).await?;
        self.log(LogLevel::Info, message).await
    }

    /// Stops when a newer deployment of the service was requested.
    async fn still_current(&self) -> Result<(), OpError> {
        let generation: Option<i64> = service::Entity::find_by_id(self.svc.id)
            .select_only()
            .column(service::Column::Generation)
            .into_tuple()
            .one(self.control.db())
            .await
            .map_err(db_error)?;
        match generation {
            Some(g) if g > self.svc.generation => Err(OpError::Superseded),
            _ => Ok(()),
        }
    }

    async fn replicas(&self) -> Result<Vec<vm::Model>, OpError> {
        vm::Entity::find()
            .filter(vm::Column::ServiceId.eq(self.svc.id))
            .order_by_asc(vm::Column::CreatedAt)
            .order_by_asc(vm::Column::Name)
            .all(self.control.db())
            .await
            .map_err(db_error)
    }

    fn is_current(&self, r: &vm::Model) -> bool {
        r.config_version == Some(self.svc.config_version)
            && r.image_id == self.svc.image_id
            && r.service_version.as_deref() == Some(self.svc.version.as_str())
    }

    /// Brings the replicas to the wanted count, all on the wanted configuration.
    async fn roll(&self) -> Result<String, OpError> {
        let wanted = usize::try_from(self.svc.replicas).unwrap_or(0);
        let (mut current, stale): (Vec<_>, Vec<_>) = self
            .replicas()
            .await?
            .into_iter()
            .partition(|r| self.is_current(r));
        // Replicas already on the wanted configuration that are not running (a start, or an
        // attempt after an interruption) boot again first.
        for r in current.iter().take(wanted) {
            if r.observed_state != VmState::Running.as_str() {
                self.still_current().await?;
                self.step(&format!("Starting replica {}", r.name)).await?;
                self.boot(r).await?;
                self.log(LogLevel::Info, &format!("Replica {} booted", r.name))
                    .await?;
            }
        }
        for old in stale {
            self.still_current().await?;
            if current.len() < wanted {
                current.push(self.add_replica().await?);
            }
            self.step(&format!("Stopping old replica {}", old.name))
                .await?;
            self.remove(&old).await?;
        }
        while current.len() < wanted {
            self.still_current().await?;
            current.push(self.add_replica().await?);
        }
        while current.len() > wanted {
            self.still_current().await?;
            let Some(extra) = current.pop() else { break };
            self.step(&format!("Removing replica {}", extra.name))
                .await?;
            self.remove(&extra).await?;
        }
        Ok(format!(
            "{wanted} replica{} on config v{}",
            if wanted == 1 { "" } else { "s" },
            self.svc.config_version
        ))
    }

    async fn stop_all(&self) -> Result<String, OpError> {
        for r in self.replicas().await? {
            if r.observed_state == VmState::Stopped.as_str() {
                continue;
            }
            self.still_current().await?;
            self.step(&format!("Stopping replica {}", r.name)).await?;
            self.set_state(&r, VmState::Stopping, "Stopping").await?;
            self.control
                .driver()
                .stop(&r.id.to_string(), STOP_GRACE)
                .await
                .map_err(driver_error)?;
            self.set_state(&r, VmState::Stopped, "Stopped").await?;
        }
        Ok("Every replica stopped".into())
    }

    async fn delete_all(&self) -> Result<String, OpError> {
        for r in self.replicas().await? {
            self.step(&format!("Removing replica {}", r.name)).await?;
            self.remove(&r).await?;
        }
        self.ctx.step("Removing the service's record").await?;
        self.control
            .forget_service(&self.svc)
            .await
            .map_err(transient)?;
        Ok("Deleted".into())
    }

    /// Creates a replica on the wanted configuration and boots it; when it does not boot, it
    /// is removed again and the rollout fails.
    async fn add_replica(&self) -> Result<vm::Model, OpError> {
        let row = self.insert_replica().await?;
        self.control.publish_vm(row.id).await;
        self.step(&format!(
            "Starting replica {} (config v{})",
            row.name, self.svc.config_version
        ))
        .await?;
        if let Err(e) = self.boot(&row).await {
            let why = match &e {
                OpError::Transient(m) | OpError::Permanent(m) => m.clone(),
                other => other.to_string(),
            };
            self.log(
                LogLevel::Error,
                &format!("Replica {} did not boot: {why}", row.name),
            )
            .await?;
            self.log(
                LogLevel::Warn,
                &format!(
                    "Removing the failed replica {}; replicas that were running keep running",
                    row.name
                ),
            )
            .await?;
            self.remove(&row).await?;
            return Err(match e {
                OpError::Transient(_) | OpError::Permanent(_) => {
                    OpError::Permanent(format!("replica {} did not boot: {why}", row.name))
                }
                other => other,
            });
        }
        self.log(LogLevel::Info, &format!("Replica {} booted", row.name))
            .await?;
        Ok(row)
    }

    /// Creates the disk if needed, launches QEMU and waits for the guest's boot marker.
    async fn boot(&self, row: &vm::Model) -> Result<(), OpError> {
        let spec = self.control.spec_of(row).await?;
        let driver = self.control.driver();
        driver.create(&spec).await.map_err(driver_error)?;
        self.set_state(row, VmState::Starting, "Starting").await?;
        driver.start(&spec).await.map_err(driver_error)?;
        if let Some(marker) = self.control.boot_marker(row).await {
            driver
                .wait_for_console(&spec.id, &marker, BOOT_TIMEOUT)
                .await
                .map_err(|e| OpError::hidden(false, &driver_public(&e), e))?;
        }
        self.set_state(row, VmState::Running, "Running").await
    }

    /// Stops a replica (power button, then forced) and removes its VM for good.
    async fn remove(&self, row: &vm::Model) -> Result<(), OpError> {
        self.set_state(row, VmState::Deleting, "Removing").await?;
        let id = row.id.to_string();
        let driver = self.control.driver();
        driver.stop(&id, STOP_GRACE).await.map_err(driver_error)?;
        driver.delete(&id).await.map_err(driver_error)?;
        self.control.forget_vm(row).await.map_err(transient)?;
        self.log(LogLevel::Info, &format!("Removed replica {}", row.name))
            .await
    }

    /// Records a replica's observed state, a timeline line, and tells its watchers.
    async fn set_state(&self, row: &vm::Model, state: VmState, line: &str) -> Result<(), OpError> {
        let now = self.control.now();
        let txn = self.control.db().begin().await.map_err(db_error)?;
        vm::Entity::update_many()
            .col_expr(vm::Column::ObservedState, Expr::value(state.as_str()))
            .col_expr(vm::Column::StateReason, Expr::value(None::<String>))
            .col_expr(vm::Column::UpdatedAt, Expr::value(Some(now)))
            .filter(vm::Column::Id.eq(row.id))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        event(&txn, row.id, "state", line, now)
            .await
            .map_err(transient)?;
        txn.commit().await.map_err(db_error)?;
        self.control.publish_vm(row.id).await;
        self.control.publish_service(self.svc.id).await;
        Ok(())
    }

    /// The replica's row, grants and first timeline line, in one transaction that also
    /// checks the node has memory for it.
    async fn insert_replica(&self) -> Result<vm::Model, OpError> {
        let svc = &self.svc;
        let now = self.control.now();
        let txn = self.control.db().begin().await.map_err(db_error)?;
        // The name: the service's name and the first free number.
        let taken: Vec<String> = vm::Entity::find()
            .select_only()
            .column(vm::Column::Name)
            .filter(vm::Column::OrganizationId.eq(svc.organization_id))
            .filter(vm::Column::Name.starts_with(format!("{}-", svc.name)))
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db_error)?;
        let name = (1..)
            .map(|n| format!("{}-{n}", svc.name))
            .find(|n| !taken.contains(n))
            .unwrap_or_else(|| format!("{}-{}", svc.name, Uuid::new_v4().simple()));
        let node = node::Entity::find()
            .filter(node::Column::Region.eq(svc.region.clone()))
            .one(&txn)
            .await
            .map_err(db_error)?
            .ok_or_else(|| OpError::Permanent(format!("no node is in region {}", svc.region)))?;
        let id = Uuid::new_v4();
        let row = vm::ActiveModel {
            id: Set(id),
            name: Set(name.clone()),
            organization_id: Set(svc.organization_id),
            node_id: Set(Some(node.id)),
            created_at: Set(now),
            description: Set(format!("Replica of service {}", svc.name)),
            image_id: Set(svc.image_id),
            cpu_count: Set(svc.cpu_count),
            memory_mb: Set(svc.memory_mb),
            disk_gb: Set(1),
            desired_state: Set(Desired::Running),
            observed_state: Set(VmState::Creating.as_str().into()),
            state_reason: Set(None),
            generation: Set(1),
            observed_generation: Set(1),
            updated_at: Set(Some(now)),
            service_id: Set(Some(svc.id)),
            config_version: Set(Some(svc.config_version)),
            service_version: Set(Some(svc.version.clone())),
        }
        .insert(&txn)
        .await
        .map_err(db_error)?;
        let used = crate::compute::nodes::memory_in_use(&txn, node.id)
            .await
            .map_err(db_error)?;
        if used > node.memory_mb {
            return Err(OpError::Permanent(format!(
                "node {} has no memory left for another replica of {} MiB",
                node.name, svc.memory_mb
            )));
        }
        // A replica belongs to its service, never to the person who asked for the rollout.
        let res = Resource::vm(id);
        let grants = replica_grants(&res, svc);
        tuples::write(
            &txn,
            &Authorized::system("service rollout: new replica"),
            &grants,
            now,
        )
        .await
        .map_err(transient)?;
        event(
            &txn,
            id,
            "request",
            &format!(
                "Created by deployment {} of service {} (config v{})",
                self.dep.number, svc.name, svc.config_version
            ),
            now,
        )
        .await
        .map_err(transient)?;
        txn.commit().await.map_err(db_error)?;
        Ok(row)
    }
}

impl Control {
    /// Removes a deleted service's record, configurations, deployments, logs and grants.
    async fn forget_service(&self, row: &service::Model) -> Result<(), AppError> {
        let fail = |e| internal("remove service", e);
        let txn = self.db().begin().await.map_err(fail)?;
        service::Entity::delete_by_id(row.id)
            .exec(&txn)
            .await
            .map_err(fail)?;
        let deployments: Vec<Uuid> = deployment::Entity::find()
            .select_only()
            .column(deployment::Column::Id)
            .filter(deployment::Column::ServiceId.eq(row.id))
            .into_tuple()
            .all(&txn)
            .await
            .map_err(fail)?;
        deployment_log::Entity::delete_many()
            .filter(deployment_log::Column::DeploymentId.is_in(deployments))
            .exec(&txn)
            .await
            .map_err(fail)?;
        deployment::Entity::delete_many()
            .filter(deployment::Column::ServiceId.eq(row.id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        service_config::Entity::delete_many()
            .filter(service_config::Column::ServiceId.eq(row.id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        tuples::delete_object(
            &txn,
            &Authorized::system("service rollout: service removed"),
            &Resource::new(Kind::Service, row.id).object(),
        )
        .await?;
        txn.commit().await.map_err(fail)?;
        self.publish_service_deleted(row).await;
        Ok(())
    }
}
