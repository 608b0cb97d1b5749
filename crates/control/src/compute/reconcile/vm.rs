//! One VM operation: create, start, stop, restart, pause, resume or delete, as steps.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hypervisor::driver::{Boot, DriverError, MachineSpec, Stopped};
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};

use crate::access::model::Resource;
use crate::access::tuples;
use crate::access::Authorized;
use crate::entities::states::{Desired, OperationKind};
use crate::entities::{image, operation, vm, vm_event};
use crate::operations::{OpError, StepContext};
use crate::{internal, Control};

/// How long a guest gets to power off on the ACPI button before QEMU is told to quit.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(20);
/// How long a guest with a boot marker gets to print it.
pub(crate) const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// What people may read about a driver failure (see [`DriverError::public`]); the whole driver
/// message is logged under the reference [`driver_error`] adds.
pub(crate) fn driver_public(e: &DriverError) -> String {
    e.public()
}

/// A driver failure as an operation error: the public text and a reference to the logged
/// detail; retried when the driver says a retry can help.
pub(crate) fn driver_error(e: DriverError) -> OpError {
    OpError::hidden(e.is_transient(), &driver_public(&e), e)
}

/// A database failure during an operation: retried, and its text stays in the log.
pub(crate) fn db_error(e: impl std::fmt::Display) -> OpError {
    OpError::hidden(true, "the database did not answer", e)
}

/// Appends a line to a VM's timeline through `conn`.
pub(crate) async fn event<C: ConnectionTrait>(
    conn: &C,
    vm_id: Uuid,
    kind: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    vm_event::ActiveModel {
        vm_id: Set(vm_id),
        at: Set(now),
        kind: Set(kind.to_owned()),
        message: Set(message.to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map(|_| ())
    .map_err(|e| internal("write vm event", e))
}

/// The machine QEMU runs for a VM row and its image.
pub(crate) fn machine_spec(row: &vm::Model, img: &image::Model) -> Result<MachineSpec, OpError> {
    let boot = match img.format.as_str() {
        "kernel" => Boot::Kernel {
            kernel: img
                .kernel_path
                .clone()
                .ok_or_else(|| OpError::Permanent("the image has no kernel file".into()))?
                .into(),
            initrd: img
                .initrd_path
                .clone()
                .ok_or_else(|| OpError::Permanent("the image has no initrd file".into()))?
                .into(),
            cmdline: img.cmdline.clone(),
        },
        _ => Boot::Disk {
            base: img
                .disk_path
                .clone()
                .ok_or_else(|| OpError::Permanent("the image has no disk file".into()))?
                .into(),
        },
    };
    Ok(MachineSpec {
        id: row.id.to_string(),
        cpus: u32::try_from(row.cpu_count).unwrap_or(1),
        memory_mb: u32::try_from(row.memory_mb).unwrap_or(128),
        disk_gb: u32::try_from(row.disk_gb).unwrap_or(1),
        boot,
        config: None,
        // Replicas are fenced: a node cut off from the control plane stops them, so their
        // replacements elsewhere never run beside them.
        fenced: row.service_id.is_some(),
        nics: Vec::new(),
        router: None,
    })
}

impl Control {
    pub(crate) async fn run_vm_operation(&self, ctx: &StepContext) -> Result<String, OpError> {
        let op = &ctx.op;
        let id: Uuid = op
            .target_id
            .parse()
            .map_err(|_| OpError::Permanent("not a VM id".into()))?;
        let Some(row) = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_error)?
        else {
            return if op.kind == OperationKind::VmDelete {
                Ok("Already deleted".into())
            } else {
                Err(OpError::Permanent("the VM no longer exists".into()))
            };
        };
        if row.generation > op.generation {
            return Err(OpError::Superseded);
        }
        let driver = self.node_driver(row.node_id).map_err(driver_error)?;
        let vm_id = row.id.to_string();
        match op.kind {
            OperationKind::VmCreate => self.create_disk(ctx, &row).await,
            OperationKind::VmStart => {
                let spec = self.spec_of(&row).await?;
                self.boot(ctx, &row, &spec, VmState::Starting).await
            }
            OperationKind::VmRestart => {
                let spec = self.spec_of(&row).await?;
                self.observe(op, id, VmState::Restarting, None, "Restarting")
                    .await?;
                ctx.step("Stopping the guest").await?;
                driver
                    .stop(&vm_id, STOP_GRACE)
                    .await
                    .map_err(driver_error)?;
                self.boot(ctx, &row, &spec, VmState::Restarting).await
            }
            OperationKind::VmStop => self.power_off(ctx, &row).await,
            OperationKind::VmPause => {
                ctx.step("Pausing the vCPUs").await?;
                driver.pause(&vm_id).await.map_err(driver_error)?;
                self.observe(op, id, VmState::Paused, None, "Paused")
                    .await?;
                Ok("Paused".into())
            }
            OperationKind::VmResume => {
                ctx.step("Resuming the vCPUs").await?;
                driver.resume(&vm_id).await.map_err(driver_error)?;
                self.observe(op, id, VmState::Running, None, "Resumed")
                    .await?;
                Ok("Resumed".into())
            }
            OperationKind::VmDelete => self.remove(ctx, &row).await,
            // Another area's kinds: the runner never sends them here.
            other @ (OperationKind::ServiceCreate
            | OperationKind::ServiceDeploy
            | OperationKind::ServiceRollback
            | OperationKind::ServiceScale
            | OperationKind::ServiceStart
            | OperationKind::ServiceStop
            | OperationKind::ServiceDelete
            | OperationKind::TestOk
            | OperationKind::TestTransient) => {
                Err(OpError::Permanent(format!("{other} is not a VM operation")))
            }
        }
    }

    /// `vm.create`: the disk from its image, then a boot when it was asked to run.
    async fn create_disk(&self, ctx: &StepContext, row: &vm::Model) -> Result<String, OpError> {
        let spec = self.spec_of(row).await?;
        ctx.step("Preparing the disk").await?;
        self.node_driver(row.node_id)
            .map_err(driver_error)?
            .create(&spec)
            .await
            .map_err(driver_error)?;
        if row.desired_state == Desired::Running {
            self.boot(ctx, row, &spec, VmState::Starting).await
        } else {
            self.observe(&ctx.op, row.id, VmState::Stopped, None, "Created")
                .await?;
            Ok("Created".into())
        }
    }

    /// `vm.stop`: the power button, then (if the guest ignores it) forced off.
    async fn power_off(&self, ctx: &StepContext, row: &vm::Model) -> Result<String, OpError> {
        let (op, id) = (&ctx.op, row.id);
        self.observe(op, id, VmState::Stopping, None, "Stopping")
            .await?;
        ctx.step("Pressing the power button").await?;
        let how = self
            .node_driver(row.node_id)
            .map_err(driver_error)?
            .stop(&id.to_string(), STOP_GRACE)
            .await
            .map_err(driver_error)?;
        let reason = match how {
            Stopped::Graceful | Stopped::NotRunning => None,
            Stopped::Quit | Stopped::Killed => {
                Some("Forced off: the guest did not power off on the button in time.".to_owned())
            }
        };
        let line = reason.clone().unwrap_or_else(|| "Stopped".into());
        self.observe(op, id, VmState::Stopped, reason, &line)
            .await?;
        Ok(line)
    }

    /// `vm.delete`: QEMU, the disk and sockets, then the row with its grants.
    async fn remove(&self, ctx: &StepContext, row: &vm::Model) -> Result<String, OpError> {
        self.observe(&ctx.op, row.id, VmState::Deleting, None, "Deleting")
            .await?;
        ctx.step("Stopping QEMU and removing the disk and sockets")
            .await?;
        self.node_driver(row.node_id)
            .map_err(driver_error)?
            .delete(&row.id.to_string())
            .await
            .map_err(driver_error)?;
        ctx.step("Removing the record").await?;
        self.forget_vm(row).await.map_err(db_error)?;
        // The other hosts of its networks forget its name and, with its last card there, the
        // host (best effort, like every router update).
        self.push_routers(row.organization_id).await;
        Ok("Deleted".into())
    }

    pub(crate) async fn spec_of(&self, row: &vm::Model) -> Result<MachineSpec, OpError> {
        let image_id = row
            .image_id
            .ok_or_else(|| OpError::Permanent("the VM has no image".into()))?;
        let img = image::Entity::find_by_id(image_id)
            .one(self.db())
            .await
            .map_err(db_error)?
            .ok_or_else(|| OpError::Permanent("the VM's image was removed".into()))?;
        let mut spec = machine_spec(row, &img)?;
        spec.config = self.replica_config(row).await?;
        spec.nics = crate::networks::cards::specs(self.db(), row)
            .await
            .map_err(OpError::Permanent)?;
        if !spec.nics.is_empty() {
            spec.router =
                crate::networks::routers::router_for(self.db(), row.organization_id, row.node_id)
                    .await
                    .map_err(|e| OpError::Transient(e.to_string()))?;
        }
        Ok(spec)
    }

    /// The configuration a service replica boots with (None for a VM of its own).
    pub(crate) async fn replica_config(&self, row: &vm::Model) -> Result<Option<String>, OpError> {
        let (Some(service), Some(version)) = (row.service_id, row.config_version) else {
            return Ok(None);
        };
        Ok(crate::entities::service_config::Entity::find()
            .filter(crate::entities::service_config::Column::ServiceId.eq(service))
            .filter(crate::entities::service_config::Column::Version.eq(version))
            .one(self.db())
            .await
            .map_err(db_error)?
            .map(|c| c.config))
    }

    pub(crate) async fn boot_marker(&self, row: &vm::Model) -> Option<String> {
        let image_id = row.image_id?;
        image::Entity::find_by_id(image_id)
            .one(self.db())
            .await
            .ok()
            .flatten()
            .and_then(|i| i.boot_marker)
    }

    /// Launches QEMU (unless it already runs) and waits for the guest's boot marker.
    async fn boot(
        &self,
        ctx: &StepContext,
        row: &vm::Model,
        spec: &MachineSpec,
        transitional: VmState,
    ) -> Result<String, OpError> {
        let op = &ctx.op;
        if transitional == VmState::Starting {
            self.observe(op, row.id, VmState::Starting, None, "Starting")
                .await?;
        }
        ctx.step("Launching QEMU").await?;
        self.node_driver(row.node_id)
            .map_err(driver_error)?
            .start(spec)
            .await
            .map_err(driver_error)?;
        self.spread_networks(row, spec).await;
        if let Some(marker) = self.boot_marker(row).await {
            ctx.step("Waiting for the guest to boot").await?;
            self.node_driver(row.node_id)
                .map_err(driver_error)?
                .wait_for_console(&spec.id, &marker, BOOT_TIMEOUT)
                .await
                // Booting again rarely helps a guest that did not boot: fail, and leave QEMU
                // running so its console can be read.
                .map_err(|e| {
                    OpError::hidden(
                        false,
                        &format!("the guest did not boot: {}", driver_public(&e)),
                        e,
                    )
                })?;
        }
        self.observe(op, row.id, VmState::Running, None, "Running")
            .await?;
        Ok("Running".into())
    }

    /// Records an observed state, unless a newer request has bumped the generation.
    async fn observe(
        &self,
        op: &operation::Model,
        id: Uuid,
        state: VmState,
        reason: Option<String>,
        line: &str,
    ) -> Result<(), OpError> {
        let now = self.now();
        let txn = self.db().begin().await.map_err(db_error)?;
        let done = vm::Entity::update_many()
            .col_expr(vm::Column::ObservedState, Expr::value(state.as_str()))
            .col_expr(vm::Column::StateReason, Expr::value(reason))
            .col_expr(vm::Column::ObservedGeneration, Expr::value(op.generation))
            .col_expr(vm::Column::UpdatedAt, Expr::value(Some(now)))
            .filter(vm::Column::Id.eq(id))
            .filter(vm::Column::Generation.eq(op.generation))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        if done.rows_affected != 1 {
            return Err(OpError::Superseded);
        }
        event(&txn, id, "state", line, now)
            .await
            .map_err(|e| OpError::Transient(e.to_string()))?;
        txn.commit().await.map_err(db_error)?;
        self.publish_vm(id).await;
        Ok(())
    }

    /// Removes a deleted VM's row, timeline and grants in one transaction.
    pub(crate) async fn forget_vm(&self, row: &vm::Model) -> Result<(), AppError> {
        let fail = |e| internal("remove vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        forget_vm_in(&txn, row).await?;
        txn.commit().await.map_err(fail)?;
        self.publish_vm_deleted(row).await;
        Ok(())
    }
}

/// Removes a VM's row, timeline and grants inside `txn` (publishing is the caller's, once
/// committed).
pub(crate) async fn forget_vm_in<C: ConnectionTrait>(
    txn: &C,
    row: &vm::Model,
) -> Result<(), AppError> {
    let fail = |e| internal("remove vm", e);
    vm_event::Entity::delete_many()
        .filter(vm_event::Column::VmId.eq(row.id))
        .exec(txn)
        .await
        .map_err(fail)?;
    vm::Entity::delete_by_id(row.id)
        .exec(txn)
        .await
        .map_err(fail)?;
    tuples::delete_object(
        txn,
        &Authorized::system("operation runner: VM removed"),
        &Resource::vm(row.id).object(),
    )
    .await
}
