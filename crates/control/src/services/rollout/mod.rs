//! Rolling a service's replicas to what it should run now, one replica at a time: start the
//! new VM, wait until its guest booted, then stop and remove an old one. A failure stops the
//! rollout and keeps the old replicas. Start, stop, scale and delete run through here too.

mod replica;

use chrono::{DateTime, Utc};
use model::services::DeploymentState;
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::logs;
use crate::access::model::{Kind, Resource};
use crate::access::tuples;
use crate::access::Authorized;
use crate::compute::reconcile::{db_error, driver_error, STOP_GRACE};
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
        // Replicas on a draining node are replaced like those of an old configuration.
        let draining: Vec<Uuid> = node::Entity::find()
            .filter(node::Column::Draining.eq(true))
            .all(self.control.db())
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|n| n.id)
            .collect();
        let (mut current, stale): (Vec<_>, Vec<_>) =
            self.replicas().await?.into_iter().partition(|r| {
                self.is_current(r) && !r.node_id.is_some_and(|n| draining.contains(&n))
            });
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
                .node_driver(r.node_id)
                .map_err(driver_error)?
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
