//! A rollout's replica steps: a new replica's row and grants (placed on a node with room, away
//! from its siblings, within the organization's quotas), booting
//! it and checking its configuration arrived, recording its state, and removing it.

use chrono::{DateTime, Utc};
use model::vms::VmState;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use super::super::replica_grants;
use crate::access::model::Resource;
use crate::access::tuples;
use crate::access::Authorized;
use crate::compute::placement::{self, Ask};
use crate::compute::reconcile::{
    db_error, driver_error, driver_public, event, BOOT_TIMEOUT, STOP_GRACE,
};
use crate::entities::states::{Desired, LogLevel};
use crate::entities::{service, vm};
use crate::operations::OpError;
use crate::orgs::quotas::{self, Claim};
use model::AppError;

use super::{transient, Rollout};

/// How long a replica that left its service's pool keeps running for the connections it was
/// serving (new ones already go to the others).
const POOL_DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

impl Rollout<'_> {
    /// Creates a replica on the wanted configuration and boots it; when it does not boot, it
    /// is removed again and the rollout fails.
    pub(super) async fn add_replica(&self) -> Result<vm::Model, OpError> {
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
    pub(super) async fn boot(&self, row: &vm::Model) -> Result<(), OpError> {
        let spec = self.control.spec_of(row).await?;
        let driver = self
            .control
            .node_driver(row.node_id)
            .map_err(driver_error)?;
        driver.create(&spec).await.map_err(driver_error)?;
        self.set_state(row, VmState::Starting, "Starting").await?;
        driver.start(&spec).await.map_err(driver_error)?;
        self.control.spread_networks(row, &spec).await;
        if let Some(marker) = self.control.boot_marker(row).await {
            driver
                .wait_for_console(&spec.id, &marker, BOOT_TIMEOUT)
                .await
                .map_err(|e| OpError::hidden(false, &driver_public(&e), e))?;
        }
        self.set_state(row, VmState::Running, "Running").await?;
        // Booted: it joins the pool behind the service's address.
        self.control.push_routers(self.svc.organization_id).await;
        Ok(())
    }

    /// Stops a replica (power button, then forced) and removes its VM for good, once it left
    /// the service's pool.
    pub(super) async fn remove(&self, row: &vm::Model) -> Result<(), OpError> {
        // A replica on a node out of reach serves nobody through the routers that matter.
        let serving = row.observed_state == VmState::Running.as_str()
            && self.control.node_driver(row.node_id).is_ok();
        self.set_state(row, VmState::Deleting, "Removing").await?;
        if serving {
            // It leaves the pool behind the service's address first, and the connections it
            // still serves get a moment to finish before its guest is stopped.
            self.control.push_routers(self.svc.organization_id).await;
            tokio::time::sleep(POOL_DRAIN).await;
        }
        let id = row.id.to_string();
        let driver = self
            .control
            .node_driver(row.node_id)
            .map_err(driver_error)?;
        driver.stop(&id, STOP_GRACE).await.map_err(driver_error)?;
        driver.delete(&id).await.map_err(driver_error)?;
        self.control.forget_vm(row).await.map_err(transient)?;
        self.control.push_routers(self.svc.organization_id).await;
        self.log(LogLevel::Info, &format!("Removed replica {}", row.name))
            .await
    }

    /// Records a replica's observed state, a timeline line, and tells its watchers.
    pub(super) async fn set_state(
        &self,
        row: &vm::Model,
        state: VmState,
        line: &str,
    ) -> Result<(), OpError> {
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
    /// places it on a node with room, within its organization's quotas.
    async fn insert_replica(&self) -> Result<vm::Model, OpError> {
        let svc = &self.svc;
        let now = self.control.now();
        let txn = self.control.db().begin().await.map_err(db_error)?;
        // Placement locks the nodes first (its first write, before it reads the siblings), so
        // concurrent placements see each other.
        let ask = Ask {
            region: Some(svc.region.clone()),
            cpus: i64::from(svc.cpu_count),
            memory_mb: i64::from(svc.memory_mb),
            siblings_of: Some(svc.id),
            reserve: true,
            ..Ask::default()
        };
        let node = placement::place(&txn, &ask, now).await.map_err(refused)?;
        let claim = Claim {
            vcpus: ask.cpus,
            memory_mb: ask.memory_mb,
            disk_gb: 1,
            vms: 1,
            services: 0,
        };
        quotas::check(&txn, svc.organization_id, &claim)
            .await
            .map_err(refused)?;
        let name = free_name(&txn, svc).await?;
        let id = Uuid::new_v4();
        let row = replica_row(id, &name, svc, node.id, now)
            .insert(&txn)
            .await
            .map_err(db_error)?;
        // A replica belongs to its service, never to the person who asked for the rollout.
        let res = Resource::vm(id);
        let grants = replica_grants(&res, svc);
        let allowed = Authorized::system("service rollout: new replica");
        tuples::write(&txn, &allowed, &grants, now)
            .await
            .map_err(transient)?;
        // Its card is on the service's network, where the service has its address.
        let net = crate::networks::pools::service_network(&txn, &allowed, svc, now)
            .await
            .map_err(refused)?;
        crate::networks::cards::attach_new(
            &txn,
            &allowed,
            svc.organization_id,
            id,
            Some(&[net]),
            now,
        )
        .await
        .map_err(refused)?;
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

/// A placement or quota refusal ends the step for good, with its reason; anything else is
/// worth a retry.
fn refused(e: AppError) -> OpError {
    match e {
        AppError::Conflict(why) => OpError::Permanent(why),
        other => transient(other),
    }
}

/// The service's name and a number past every replica it ever had (and every VM of its
/// organization named like one), so a replica's name never comes back; the service row keeps
/// the number. Its row is written here, inside the replica's transaction.
async fn free_name(txn: &DatabaseTransaction, svc: &service::Model) -> Result<String, OpError> {
    let prefix = format!("{}-", svc.name);
    let taken: Vec<String> = vm::Entity::find()
        .select_only()
        .column(vm::Column::Name)
        .filter(vm::Column::OrganizationId.eq(svc.organization_id))
        .filter(vm::Column::Name.starts_with(&prefix))
        .into_tuple()
        .all(txn)
        .await
        .map_err(db_error)?;
    let named: Option<i64> = service::Entity::find_by_id(svc.id)
        .select_only()
        .column(service::Column::ReplicasNamed)
        .into_tuple()
        .one(txn)
        .await
        .map_err(db_error)?;
    let next = next_number(&prefix, &taken, named.unwrap_or(0));
    service::Entity::update_many()
        .col_expr(service::Column::ReplicasNamed, Expr::value(next))
        .filter(service::Column::Id.eq(svc.id))
        .exec(txn)
        .await
        .map_err(db_error)?;
    Ok(format!("{prefix}{next}"))
}

/// One past the highest of `named` and the numbers in `taken` (names `<prefix><n>`).
fn next_number(prefix: &str, taken: &[String], named: i64) -> i64 {
    taken
        .iter()
        .filter_map(|n| n.strip_prefix(prefix)?.parse::<i64>().ok())
        .fold(named, i64::max)
        .saturating_add(1)
}

/// A new replica's row: the service's image, size, configuration and version, to run.
fn replica_row(
    id: Uuid,
    name: &str,
    svc: &service::Model,
    node_id: Uuid,
    now: DateTime<Utc>,
) -> vm::ActiveModel {
    vm::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        organization_id: Set(svc.organization_id),
        node_id: Set(Some(node_id)),
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
        tags: Set(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::next_number;

    #[test]
    fn replica_numbers_never_come_back() {
        let taken = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(next_number("api-", &[], 0), 1);
        // api-1 and api-2 were replaced by api-3 and api-4: the next is 5, not 1.
        assert_eq!(next_number("api-", &taken(&["api-3", "api-4"]), 4), 5);
        // Before the counter existed, the highest name in use decides; other names are ignored.
        assert_eq!(
            next_number("api-", &taken(&["api-7", "api-x", "api-2b"]), 0),
            8
        );
    }
}
