//! Creating a VM: checked against the image, then, in one transaction, its node (placement),
//! the organization's quotas, its row, grants, first timeline line, operation and audit row.

use chrono::{DateTime, Utc};
use model::vms::{validate_spec, validate_vm_name, NewVm, VmState, VmSummary};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QuerySelect, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::parse_id;
use crate::access::{not_found, tuples};
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::{show_time, Caller};
use crate::compute::placement::{self, Ask};
use crate::compute::reconcile::event;
use crate::entities::states::{Desired, OperationKind};
use crate::entities::{node, organization, vm};
use crate::operations::queue::{self, NewOperation};
use crate::orgs::quotas::{self, Claim};
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
        self.create_vm_operation(caller, new, now)
            .await
            .map(|(vm, _)| vm)
    }

    /// [`Control::create_vm`], also returning the operation that creates it.
    pub async fn create_vm_operation(
        &self,
        caller: &Caller,
        new: &NewVm,
        now: DateTime<Utc>,
    ) -> Result<(VmSummary, Uuid), AppError> {
        let org_id = parse_id(&new.organization_id, Kind::Organization)?;
        let org_res = Resource::organization(org_id);
        let allowed = self
            .authorize_action(caller, Permission::CreateVm, &org_res, Action::VmCreate)
            .await?;
        let name = new.name.trim();
        validate_vm_name(name).map_err(AppError::Invalid)?;
        model::vms::validate_tags(&new.tags).map_err(AppError::Invalid)?;
        if !new.tags.is_empty() && !self.may_tag(caller, org_id).await? {
            return Err(AppError::Forbidden(
                "Tags open networks: only those who manage the organization's networks set them."
                    .into(),
            ));
        }
        let org = self.check_spec(new, org_id).await?;
        let img = self.pick_image(caller, new.image_id.as_deref()).await?;
        let networks = self
            .chosen_networks(caller, org_id, new.networks.as_deref())
            .await?;
        let fail = |e| internal("create vm", e);

        let txn = self.db().begin().await.map_err(fail)?;
        // Placement locks the nodes first: concurrent creates see each other's VMs.
        let ask = ask_of(new);
        let node = placement::place(&txn, &ask, now).await?;
        let claim = Claim {
            vcpus: ask.cpus * i64::from(ask.reserve),
            memory_mb: ask.memory_mb * i64::from(ask.reserve),
            disk_gb: i64::from(new.disk_gb),
            vms: 1,
            services: 0,
        };
        quotas::check(&txn, org_id, &claim).await?;
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
        let res = Resource::vm(id);
        tuples::write(
            &txn,
            &allowed,
            &tuples::created_in(&res, org_id, caller.user_id),
            now,
        )
        .await?;
        let cards = crate::networks::cards::attach_new(
            &txn,
            &allowed,
            org_id,
            id,
            networks.as_deref(),
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
        let operation = queue::enqueue(
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
                "addresses": cards.iter().map(|c| c.address.clone()).collect::<Vec<_>>(),
            }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        self.publish_vm(id).await;
        tracing::info!(vm = %name, org = %org.name, by = %caller.username, "vm created");
        let vm = VmSummary {
            owner: Some(caller.username.clone()),
            image: Some(img.name),
            organization: org.name,
            ..summary_of(&row, now)
        };
        Ok((vm, operation))
    }
}

impl Control {
    /// Checks the size against the largest node (placement then finds one with room) and
    /// returns the VM's organization.
    async fn check_spec(&self, new: &NewVm, org_id: Uuid) -> Result<organization::Model, AppError> {
        let fail = |e| internal("create vm", e);
        let largest: Option<Option<i32>> = node::Entity::find()
            .select_only()
            .column_as(node::Column::CpuCount.max(), "cpus")
            .into_tuple()
            .one(self.db())
            .await
            .map_err(fail)?;
        let cpus = largest.flatten().unwrap_or(1);
        validate_spec(new, u32::try_from(cpus).unwrap_or(1)).map_err(AppError::Invalid)?;
        organization::Entity::find_by_id(org_id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Organization))
    }
}

/// What a new VM asks of placement: room now when it starts, else a node big enough.
fn ask_of(new: &NewVm) -> Ask {
    Ask {
        region: new
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        cpus: i64::from(new.cpu_count),
        memory_mb: i64::from(new.memory_mb),
        reserve: new.start,
        ..Ask::default()
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
        tags: Set(model::vms::joined_tags(&new.tags)),
    }
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
