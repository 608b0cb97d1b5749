//! Requests that change a VM: create, start, stop, restart, pause, resume and delete.
//!
//! Each request commits, in one transaction, the VM row (desired state and a new generation),
//! its relation tuples when it is new, a line on its timeline, a queued operation and the audit
//! row; the operation runner then does the slow part on the node.

use chrono::{DateTime, Utc};
use model::vms::{validate_spec, validate_vm_name, NewVm, VmAction, VmState, VmSummary};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use crate::access::model::{self as m, Kind, Permission, Rel, Resource};
use crate::access::parse_id;
use crate::access::Authorized;
use crate::access::{not_found, tuples};
use crate::audit::Action;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::{show_time, Caller};
use crate::compute::reconcile::event;
use crate::entities::states::{Desired, OperationKind};
use crate::entities::{image, node, organization, vm};
use crate::locking::lock_row;
use crate::operations::queue::{self, NewOperation};
use crate::{internal, Control};

/// The permission an action needs. Pausing is a kind of stopping, resuming of starting.
pub fn action_permission(action: VmAction) -> Permission {
    match action {
        VmAction::Start | VmAction::Resume => Permission::Start,
        VmAction::Stop | VmAction::Pause => Permission::Stop,
        VmAction::Restart => Permission::Restart,
    }
}

fn action_kind(action: VmAction) -> OperationKind {
    match action {
        VmAction::Start => OperationKind::VmStart,
        VmAction::Stop => OperationKind::VmStop,
        VmAction::Restart => OperationKind::VmRestart,
        VmAction::Pause => OperationKind::VmPause,
        VmAction::Resume => OperationKind::VmResume,
    }
}

/// Whether `action` makes sense now, from what was asked last and what the VM shows.
pub fn action_allowed(action: VmAction, observed: VmState, desired: Desired) -> bool {
    if desired == Desired::Deleted {
        return false;
    }
    match action {
        VmAction::Start => desired == Desired::Stopped || observed == VmState::Error,
        VmAction::Stop => desired != Desired::Stopped || observed == VmState::Error,
        VmAction::Restart | VmAction::Pause => {
            desired == Desired::Running && observed == VmState::Running
        }
        VmAction::Resume => desired == Desired::Paused && observed == VmState::Paused,
    }
}

fn desired_after(action: VmAction) -> Desired {
    match action {
        VmAction::Start | VmAction::Restart | VmAction::Resume => Desired::Running,
        VmAction::Stop => Desired::Stopped,
        VmAction::Pause => Desired::Paused,
    }
}

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
        let fail = |e| internal("create vm", e);
        let node = node::Entity::find_by_id(self.local_node())
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| internal("create vm", "the local node is not registered"))?;
        validate_spec(new, u32::try_from(node.cpu_count).unwrap_or(1))
            .map_err(AppError::Invalid)?;
        let img = self.pick_image(caller, new.image_id.as_deref()).await?;
        let org = organization::Entity::find_by_id(org_id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Organization))?;

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
            &[
                tuples::points_to(
                    &res,
                    Rel::Organization,
                    Kind::Organization,
                    &org_id.to_string(),
                ),
                tuples::tuple(&res, Rel::Owner, m::user(caller.user_id)),
            ],
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
        audit::record(
            &txn,
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
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

    /// The chosen image if the caller may use it, or the first one they may.
    pub(crate) async fn pick_image(
        &self,
        caller: &Caller,
        image_id: Option<&str>,
    ) -> Result<image::Model, AppError> {
        let fail = |e| internal("load image", e);
        let unknown = || AppError::Invalid("Image: choose one from the list.".into());
        let found = match image_id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => {
                let id: Uuid = id.parse().map_err(|_| unknown())?;
                image::Entity::find_by_id(id)
                    .one(self.db())
                    .await
                    .map_err(fail)?
            }
            None => {
                let visible: Vec<Uuid> = self
                    .visible(caller, Permission::Read, Kind::Image)
                    .await?
                    .iter()
                    .filter_map(|s| s.parse().ok())
                    .collect();
                image::Entity::find()
                    .filter(image::Column::Id.is_in(visible))
                    .order_by_asc(image::Column::Name)
                    .one(self.db())
                    .await
                    .map_err(fail)?
            }
        };
        let img = found.ok_or_else(|| match image_id {
            Some(_) => unknown(),
            None => AppError::Invalid(
                "No image is available yet: an administrator registers one, or build the test \
                 guest (scripts/build-test-guest.sh) and restart Strata."
                    .into(),
            ),
        })?;
        let res = Resource::new(Kind::Image, img.id);
        if !self.can(Some(caller), Permission::Read, &res).await? {
            return Err(unknown());
        }
        Ok(img)
    }

    /// Asks a VM to start, stop, restart, pause or resume.
    pub async fn vm_action(
        &self,
        caller: &Caller,
        id: &str,
        action: VmAction,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        let kind = action_kind(action);
        let name = Action::of_operation(kind);
        let (allowed, _) = self
            .authorize_own_vm(caller, action_permission(action), id, name)
            .await?;
        let fail = |e| internal("vm action", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = lock_row::<vm::Entity>(&txn, id).await?;
        let observed = VmState::parse(&row.observed_state).unwrap_or(VmState::Error);
        if !action_allowed(action, observed, row.desired_state) {
            return Err(AppError::Conflict(format!(
                "{} is {}; it cannot {} now.",
                row.name,
                observed.label().to_lowercase(),
                action.as_str()
            )));
        }
        self.request(
            &txn,
            &allowed,
            &row,
            desired_after(action),
            kind,
            caller,
            now,
        )
        .await?;
        let entry = Entry::new(name, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name }));
        audit::record(
            &txn,
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        self.publish_vm(id).await;
        Ok(())
    }

    /// Asks for a VM to be stopped and removed with its disk, sockets and grants.
    pub async fn delete_vm(
        &self,
        caller: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        let (allowed, _) = self
            .authorize_own_vm(caller, Permission::Delete, id, Action::VmDelete)
            .await?;
        let fail = |e| internal("delete vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = lock_row::<vm::Entity>(&txn, id).await?;
        if row.desired_state == Desired::Deleted {
            return Ok(());
        }
        self.request(
            &txn,
            &allowed,
            &row,
            Desired::Deleted,
            OperationKind::VmDelete,
            caller,
            now,
        )
        .await?;
        let entry = Entry::new(Action::VmDelete, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name }));
        audit::record(
            &txn,
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        self.publish_vm(id).await;
        tracing::info!(vm = %id, by = %caller.username, "vm deletion requested");
        Ok(())
    }

    /// Records a request: new desired state and generation, a timeline line, an operation.
    // The proof, the transaction and the request's facts: grouping them would only rename them.
    #[allow(clippy::too_many_arguments)]
    async fn request(
        &self,
        txn: &DatabaseTransaction,
        allowed: &Authorized,
        row: &vm::Model,
        desired: Desired,
        kind: OperationKind,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let generation = row.generation + 1;
        vm::Entity::update_many()
            .col_expr(vm::Column::DesiredState, Expr::value(desired.as_str()))
            .col_expr(vm::Column::Generation, Expr::value(generation))
            .col_expr(vm::Column::UpdatedAt, Expr::value(Some(now)))
            .filter(vm::Column::Id.eq(row.id))
            .exec(txn)
            .await
            .map_err(|e| internal("update vm", e))?;
        let verb = kind.as_str().trim_start_matches("vm.");
        event(
            txn,
            row.id,
            "request",
            &format!("{} requested by {}", capitalized(verb), caller.username),
            now,
        )
        .await?;
        queue::enqueue(
            txn,
            allowed,
            NewOperation {
                kind,
                target: Resource::vm(row.id),
                organization: Some(row.organization_id),
                requested_by: Some(caller.user_id),
                generation,
            },
            now,
        )
        .await?;
        Ok(())
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

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_follow_the_state() {
        use VmState::*;
        assert!(action_allowed(VmAction::Start, Stopped, Desired::Stopped));
        assert!(!action_allowed(VmAction::Start, Running, Desired::Running));
        assert!(action_allowed(VmAction::Start, Error, Desired::Running));
        assert!(action_allowed(VmAction::Stop, Running, Desired::Running));
        assert!(action_allowed(VmAction::Stop, Starting, Desired::Running));
        assert!(!action_allowed(VmAction::Stop, Running, Desired::Stopped));
        assert!(action_allowed(VmAction::Pause, Running, Desired::Running));
        assert!(!action_allowed(VmAction::Pause, Starting, Desired::Running));
        assert!(action_allowed(VmAction::Resume, Paused, Desired::Paused));
        assert!(!action_allowed(VmAction::Restart, Paused, Desired::Paused));
        assert!(!action_allowed(VmAction::Stop, Running, Desired::Deleted));
    }
}
