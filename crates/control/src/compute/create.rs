//! Creating a VM: checked against the node and the image, then its row, grants, first
//! timeline line, operation and audit row in one transaction.

use chrono::{DateTime, Utc};
use model::vms::{validate_spec, validate_vm_name, NewVm, VmState, VmSummary};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, EntityTrait, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::parse_id;
use crate::access::{not_found, tuples};
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::{show_time, Caller};
use crate::compute::reconcile::event;
use crate::entities::states::{Desired, OperationKind};
use crate::entities::{node, organization, vm};
use crate::operations::queue::{self, NewOperation};
use crate::{internal, Control};

impl Control {
    /// Creates a VM in an organization from an image; the creator owns it. With `start` it
    /// boots once its disk exists.
    pub async fn create_vm(
        &self,
        caller: &Caller,
        new: &NewVm,
        now: DateTime<Utc>,
    ) -> Result<VmSummary, AppError> {
        let org_id = parse_id(&new.organization_id, Kind::Organization)?;
        let org_res = Resource::organization(org_id);
        let allowed = self
            .authorize_action(caller, Permission::CreateVm, &org_res, Action::VmCreate)
            .await?;
        let name = new.name.trim();
        validate_vm_name(name).map_err(AppError::Invalid)?;
        let (node, org) = self.place_vm(new, org_id).await?;
        let img = self.pick_image(caller, new.image_id.as_deref()).await?;
        let fail = |e| internal("create vm", e);

        let txn = self.db().begin().await.map_err(fail)?;
        let id = Uuid::new_v4();
        let row = new_row(id, name, org_id, node.id, img.id, new, now)
            .insert(&txn)
            .await
            .map_err(|e| {
                crate::error::unique_or(
                    e,
                    AppError::Conflict(format!("{} already has a VM called {name}.", org.name)),
                    "create vm",
                )
            })?;
        // Inserted first, so the transaction starts with a write and holds the lock while it
        // counts the node's memory with this VM.
        check_room(&txn, &node, new.memory_mb).await?;
        let res = Resource::vm(id);
        tuples::write(
            &txn,
            &allowed,
            &tuples::created_in(&res, org_id, caller.user_id),
            now,
        )
        .await?;
        event(
            &txn,
            id,
            "request",
            &format!("Created by {} from {}", caller.username, img.name),
            now,
        )
        .await?;
        queue::enqueue(
            &txn,
            &allowed,
            NewOperation {
                kind: OperationKind::VmCreate,
                target: res.clone(),
                organization: Some(org_id),
                requested_by: Some(caller.user_id),
                generation: 1,
            },
            now,
        )
        .await?;
        let entry = Entry::new(Action::VmCreate, &res)
            .org(org_id)
            .detail(serde_json::json!({
                "name": name, "image": img.name, "cpus": new.cpu_count,
                "memory_mb": new.memory_mb, "disk_gb": new.disk_gb, "start": new.start,
            }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        self.publish_vm(id).await;
        tracing::info!(vm = %name, org = %org.name, by = %caller.username, "vm created");
        Ok(VmSummary {
            owner: Some(caller.username.clone()),
            image: Some(img.name),
            organization: org.name,
            ..summary_of(&row, now)
        })
    }
}

impl Control {
    /// Where a new VM goes (the local node, which must fit its spec) and its organization.
    async fn place_vm(
        &self,
        new: &NewVm,
        org_id: Uuid,
    ) -> Result<(node::Model, organization::Model), AppError> {
        let fail = |e| internal("create vm", e);
        let node = node::Entity::find_by_id(self.local_node())
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| internal("create vm", "the local node is not registered"))?;
        validate_spec(new, u32::try_from(node.cpu_count).unwrap_or(1))
            .map_err(AppError::Invalid)?;
        let org = organization::Entity::find_by_id(org_id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Organization))?;
        Ok((node, org))
    }
}

/// The row of a new VM: creating, generation 1, to run or not once its disk exists.
fn new_row(
    id: Uuid,
    name: &str,
    org_id: Uuid,
    node_id: Uuid,
    image_id: Uuid,
    new: &NewVm,
    now: DateTime<Utc>,
) -> vm::ActiveModel {
    let desired = if new.start {
        Desired::Running
    } else {
        Desired::Stopped
    };
    vm::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        organization_id: Set(org_id),
        node_id: Set(Some(node_id)),
        created_at: Set(now),
        description: Set(new.description.trim().to_owned()),
        image_id: Set(Some(image_id)),
        cpu_count: Set(i32::try_from(new.cpu_count).unwrap_or(1)),
        memory_mb: Set(i32::try_from(new.memory_mb).unwrap_or(128)),
        disk_gb: Set(i32::try_from(new.disk_gb).unwrap_or(1)),
        desired_state: Set(desired),
        observed_state: Set(VmState::Creating.as_str().to_owned()),
        state_reason: Set(None),
        generation: Set(1),
        observed_generation: Set(0),
        updated_at: Set(Some(now)),
        service_id: Set(None),
        config_version: Set(None),
        service_version: Set(None),
    }
}

/// Refuses when the node's memory, counted with the VM just inserted, is over its size.
async fn check_room(
    txn: &DatabaseTransaction,
    node: &node::Model,
    memory_mb: u32,
) -> Result<(), AppError> {
    let used = crate::compute::nodes::memory_in_use(txn, node.id)
        .await
        .map_err(|e| internal("create vm", e))?;
    if used > node.memory_mb {
        let free = node.memory_mb - (used - i64::from(memory_mb));
        return Err(AppError::Conflict(format!(
            "The node has {} MiB of memory left for VMs; ask for less.",
            free.max(0)
        )));
    }
    Ok(())
}

/// What a list shows of a VM just created (organization, owner and image names aside).
fn summary_of(row: &vm::Model, now: DateTime<Utc>) -> VmSummary {
    VmSummary {
        id: row.id.to_string(),
        name: row.name.clone(),
        organization_id: row.organization_id.to_string(),
        organization: String::new(),
        owner: None,
        created_at: show_time(now),
        state: VmState::Creating,
        state_reason: None,
        image: None,
        cpu_count: u32::try_from(row.cpu_count).unwrap_or(1),
        memory_mb: u32::try_from(row.memory_mb).unwrap_or(0),
        disk_gb: u32::try_from(row.disk_gb).unwrap_or(1),
        generation: row.generation,
    }
}
