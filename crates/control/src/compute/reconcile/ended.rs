//! What a VM operation that did not finish leaves behind: a failed one the VM's error state,
//! reason and audit row; a cancelled one a desired state that matches what the VM shows.

use chrono::{DateTime, Utc};
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use crate::access::model::Resource;
use crate::access::Authorized;
use crate::audit::{self, Action, Actor, Entry, Outcome};
use crate::entities::states::Desired;
use crate::entities::{operation, vm};
use crate::internal;

use super::vm::event;

/// An operation on a VM failed for good: the VM shows the error and the audit log says so.
pub(crate) async fn vm_failed(
    txn: &DatabaseTransaction,
    op: &operation::Model,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Ok(id) = op.target_id.parse::<Uuid>() else {
        return Ok(());
    };
    vm::Entity::update_many()
        .col_expr(
            vm::Column::ObservedState,
            Expr::value(VmState::Error.as_str()),
        )
        .col_expr(vm::Column::StateReason, Expr::value(Some(error.to_owned())))
        .col_expr(vm::Column::ObservedGeneration, Expr::value(op.generation))
        .col_expr(vm::Column::UpdatedAt, Expr::value(Some(now)))
        .filter(vm::Column::Id.eq(id))
        .filter(vm::Column::Generation.eq(op.generation))
        .exec(txn)
        .await
        .map_err(|e| internal("record vm error", e))?;
    if vm::Entity::find_by_id(id)
        .one(txn)
        .await
        .map_err(|e| internal("load vm", e))?
        .is_some()
    {
        event(
            txn,
            id,
            "error",
            &format!("{} failed: {error}", op.kind),
            now,
        )
        .await?;
    }
    let mut entry = Entry::new(Action::of_operation(op.kind), &Resource::vm(id))
        .detail(serde_json::json!({ "operation": op.id, "error": error }));
    if let Some(org) = op.organization_id {
        entry = entry.org(org);
    }
    audit::record(
        txn,
        &Authorized::system("operation runner: VM failed"),
        &Actor::system(),
        entry,
        Outcome::Failed,
        now,
    )
    .await
}

/// A cancelled request no longer wants anything: the desired state goes back to what the VM
/// shows, under a new generation so nothing older acts on it.
pub(crate) async fn vm_cancelled(
    txn: &DatabaseTransaction,
    op: &operation::Model,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Ok(id) = op.target_id.parse::<Uuid>() else {
        return Ok(());
    };
    let fail = |e| internal("cancel vm request", e);
    let Some(row) = vm::Entity::find_by_id(id).one(txn).await.map_err(fail)? else {
        return Ok(());
    };
    if row.generation != op.generation {
        return Ok(());
    }
    let desired = match VmState::parse(&row.observed_state) {
        Some(VmState::Running) => Desired::Running,
        Some(VmState::Paused) => Desired::Paused,
        _ => Desired::Stopped,
    };
    let observed = match VmState::parse(&row.observed_state) {
        Some(s) if s.is_transitional() => VmState::Stopped,
        Some(s) => s,
        None => VmState::Stopped,
    };
    vm::Entity::update_many()
        .col_expr(vm::Column::DesiredState, Expr::value(desired.as_str()))
        .col_expr(vm::Column::ObservedState, Expr::value(observed.as_str()))
        .col_expr(
            vm::Column::Generation,
            Expr::col(vm::Column::Generation).add(1),
        )
        .col_expr(vm::Column::UpdatedAt, Expr::value(Some(now)))
        .filter(vm::Column::Id.eq(id))
        .exec(txn)
        .await
        .map_err(fail)?;
    event(txn, id, "cancelled", &format!("{} cancelled", op.kind), now).await
}
