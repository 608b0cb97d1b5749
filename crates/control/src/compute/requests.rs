//! Requests that change a VM: start, stop, restart, pause, resume and delete (creating one is
//! [`super::create`]).
//!
//! Each request commits, in one transaction, the VM row (desired state and a new generation),
//! a line on its timeline, a queued operation and the audit
//! row; the operation runner then does the slow part on the node.

use chrono::{DateTime, Utc};
use model::vms::{VmAction, VmState};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::parse_id;
use crate::access::Authorized;
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::compute::placement::{self, Ask};
use crate::compute::reconcile::event;
use crate::entities::states::{Desired, OperationKind};
use crate::entities::{image, vm};
use crate::locking::lock_row;
use crate::operations::queue::{self, NewOperation};
use crate::orgs::quotas::{self, Claim};
use crate::{internal, Control};

/// Checks, inside `txn`, that a VM about to run again fits on its node (where its disk is) and
/// in its organization's quotas.
async fn make_room(
    txn: &DatabaseTransaction,
    row: &vm::Model,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let ask = Ask {
        cpus: i64::from(row.cpu_count),
        memory_mb: i64::from(row.memory_mb),
        except: Some(row.id),
        reserve: true,
        ..Ask::default()
    };
    if let Some(node) = row.node_id {
        placement::check_node(txn, node, &ask, now).await?;
    }
    let claim = Claim {
        vcpus: ask.cpus,
        memory_mb: ask.memory_mb,
        ..Claim::default()
    };
    quotas::check(txn, row.organization_id, &claim).await
}

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
    // Nothing can reach a VM whose node is unreachable (or that is being deleted).
    if desired == Desired::Deleted || observed == VmState::Unknown {
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

    /// Asks a VM to start, stop, restart, pause or resume; returns the operation that will.
    pub async fn vm_action(
        &self,
        caller: &Caller,
        id: &str,
        action: VmAction,
        now: DateTime<Utc>,
    ) -> Result<Uuid, AppError> {
        self.vm_action_if(caller, id, action, None, now).await
    }

    /// [`Control::vm_action`], refused as stale unless the VM is still at `generation` (when
    /// given), checked under the VM's row lock.
    pub async fn vm_action_if(
        &self,
        caller: &Caller,
        id: &str,
        action: VmAction,
        generation: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Uuid, AppError> {
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
        current(&row, generation)?;
        let observed = VmState::parse(&row.observed_state).unwrap_or(VmState::Error);
        if !action_allowed(action, observed, row.desired_state) {
            return Err(AppError::Conflict(format!(
                "{} is {}; it cannot {} now.",
                row.name,
                observed.label().to_lowercase(),
                action.as_str()
            )));
        }
        if !row.desired_state.holds_room() && desired_after(action).holds_room() {
            make_room(&txn, &row, now).await?;
        }
        let operation = self
            .request(
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
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        self.publish_vm(id).await;
        Ok(operation)
    }

    /// Asks for a VM to be stopped and removed with its disk, sockets and grants; returns the
    /// operation that will (None when its deletion was already asked for).
    pub async fn delete_vm(
        &self,
        caller: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, AppError> {
        self.delete_vm_if(caller, id, None, now).await
    }

    /// [`Control::delete_vm`], refused as stale unless the VM is still at `generation`.
    pub async fn delete_vm_if(
        &self,
        caller: &Caller,
        id: &str,
        generation: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        let (allowed, _) = self
            .authorize_own_vm(caller, Permission::Delete, id, Action::VmDelete)
            .await?;
        let fail = |e| internal("delete vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = lock_row::<vm::Entity>(&txn, id).await?;
        current(&row, generation)?;
        if row.desired_state == Desired::Deleted {
            return Ok(None);
        }
        let operation = self
            .request(
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
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        self.publish_vm(id).await;
        tracing::info!(vm = %id, by = %caller.username, "vm deletion requested");
        Ok(Some(operation))
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
    ) -> Result<Uuid, AppError> {
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
        .await
    }
}

/// Refuses a request made against an older version of the VM than the one stored.
fn current(row: &vm::Model, generation: Option<i64>) -> Result<(), AppError> {
    match generation {
        Some(g) if g != row.generation => Err(AppError::Stale(format!(
            "{} changed since version {g}: it is at version {} now.",
            row.name, row.generation
        ))),
        _ => Ok(()),
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
