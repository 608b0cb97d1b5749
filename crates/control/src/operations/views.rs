//! Operations as people see them: the list (only what the caller may read) and cancel.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use model::operations::{OperationState, OperationView};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::queue::parse_steps;
use crate::access::model::{Kind, Permission, Resource};
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::{show_time, Caller};
use crate::entities::states::OperationKind;
use crate::entities::{operation, vm};
use crate::{internal, Control};

/// How many operations a list shows.
const PAGE: u64 = 200;

/// The permission on the target that lets someone cancel an operation of this kind.
fn cancel_permission(kind: OperationKind) -> Permission {
    use OperationKind as K;
    match kind {
        K::VmStop | K::VmPause => Permission::Stop,
        K::VmRestart => Permission::Restart,
        K::VmDelete => Permission::Delete,
        K::VmCreate | K::VmStart | K::VmResume => Permission::Start,
        K::ServiceCreate
        | K::ServiceDeploy
        | K::ServiceRollback
        | K::ServiceScale
        | K::ServiceStart
        | K::ServiceStop
        | K::ServiceDelete
        | K::TestOk
        | K::TestTransient => Permission::Start,
    }
}

fn target(op: &operation::Model) -> Option<Resource> {
    Some(Resource {
        kind: Kind::parse(&op.target_type)?,
        id: op.target_id.clone(),
    })
}

/// Whether the caller may see `op`: everything for platform administrators; otherwise what
/// they asked for, and operations on VMs they may read (`readable`).
pub(crate) fn may_see(
    op: &operation::Model,
    caller: &Caller,
    admin: bool,
    readable: impl Fn(&str) -> bool,
) -> bool {
    admin
        || op.requested_by == Some(caller.user_id)
        || (op.target_type == "vm" && readable(&op.target_id))
}

impl Control {
    /// The newest operations the caller may see: on resources they may read, or that they
    /// requested. `target` narrows to one resource (its page).
    pub async fn list_operations(
        &self,
        caller: &Caller,
        target: Option<(Kind, &str)>,
    ) -> Result<Vec<OperationView>, AppError> {
        let fail = |e| internal("list operations", e);
        let mut query = operation::Entity::find()
            .order_by_desc(operation::Column::CreatedAt)
            .order_by_desc(operation::Column::Id)
            .limit(PAGE);
        if let Some((kind, id)) = target {
            query = query
                .filter(operation::Column::TargetType.eq(kind.as_str()))
                .filter(operation::Column::TargetId.eq(id));
        }
        let rows = query.all(self.db()).await.map_err(fail)?;
        let admin = self
            .can(Some(caller), Permission::ManageNodes, &Resource::platform())
            .await?;
        let one_vm = match target {
            Some((Kind::Vm, id)) => id.parse::<Uuid>().ok(),
            _ => None,
        };
        let readable: HashSet<String> = if admin {
            HashSet::new()
        } else if let Some(vm) = one_vm {
            // One VM's operations (its page): one check instead of the whole lookup.
            if self
                .can(Some(caller), Permission::Read, &Resource::vm(vm))
                .await?
            {
                HashSet::from([vm.to_string()])
            } else {
                HashSet::new()
            }
        } else {
            self.visible(caller, Permission::Read, Kind::Vm)
                .await?
                .into_iter()
                .collect()
        };
        let rows: Vec<operation::Model> = rows
            .into_iter()
            .filter(|op| may_see(op, caller, admin, |id| readable.contains(id)))
            .collect();
        self.operation_views(caller, rows).await
    }

    /// The names of the VMs `ops` are about, by id.
    pub(crate) async fn vm_names(
        &self,
        ops: &[operation::Model],
    ) -> Result<HashMap<String, String>, AppError> {
        let vm_ids: Vec<Uuid> = ops
            .iter()
            .filter(|o| o.target_type == "vm")
            .filter_map(|o| o.target_id.parse().ok())
            .collect();
        Ok(vm::Entity::find()
            .filter(vm::Column::Id.is_in(vm_ids))
            .all(self.db())
            .await
            .map_err(|e| internal("list operations", e))?
            .into_iter()
            .map(|v| (v.id.to_string(), v.name))
            .collect())
    }

    async fn operation_views(
        &self,
        caller: &Caller,
        rows: Vec<operation::Model>,
    ) -> Result<Vec<OperationView>, AppError> {
        let names = self.vm_names(&rows).await?;
        let people = self
            .people(
                rows.iter()
                    .filter_map(|o| o.requested_by.map(|u| u.to_string()))
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for op in rows {
            let state = OperationState::parse(&op.state).unwrap_or(OperationState::Failed);
            let can_cancel = !state.is_finished()
                && match target(&op) {
                    Some(res) => {
                        self.can(Some(caller), cancel_permission(op.kind), &res)
                            .await?
                    }
                    None => false,
                };
            out.push(OperationView {
                id: op.id.to_string(),
                target_name: names.get(&op.target_id).cloned(),
                requested_by: op
                    .requested_by
                    .and_then(|u| people.get(&u.to_string()))
                    .map(|p| p.username.clone()),
                state,
                steps: parse_steps(&op.steps),
                attempt: u32::try_from(op.attempt).unwrap_or(0),
                max_attempts: u32::try_from(op.max_attempts).unwrap_or(0),
                error: op.error,
                created_at: show_time(op.created_at),
                finished_at: op.finished_at.map(show_time),
                can_cancel,
                kind: op.kind.as_str().to_owned(),
                target_type: op.target_type,
                target_id: op.target_id,
            });
        }
        Ok(out)
    }

    /// One operation, when the caller may see it (as in the list; a token only inside its
    /// restriction); otherwise not found.
    pub async fn operation(&self, caller: &Caller, id: &str) -> Result<OperationView, AppError> {
        let missing = || AppError::NotFound("No such operation.".into());
        let id: Uuid = id.trim().parse().map_err(|_| missing())?;
        let op = operation::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("get operation", e))?
            .ok_or_else(missing)?;
        let res = target(&op).ok_or_else(missing)?;
        if let Some(token) = &caller.token {
            if !token.allows(Permission::Read, &res, op.organization_id) {
                return Err(missing());
            }
        }
        let admin = self
            .can(Some(caller), Permission::ManageNodes, &Resource::platform())
            .await?;
        // The list shows VM operations to their readers; one operation asked for by id may
        // also be a service's, shown to those who may read the service.
        let readable = matches!(res.kind, Kind::Vm | Kind::Service)
            && self.can(Some(caller), Permission::Read, &res).await?;
        if !(readable || may_see(&op, caller, admin, |_| false)) {
            return Err(missing());
        }
        self.operation_views(caller, vec![op])
            .await?
            .into_iter()
            .next()
            .ok_or_else(missing)
    }

    /// Cancels a queued operation at once, or asks a running one to stop at its next step.
    pub async fn cancel_operation(
        &self,
        caller: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let missing = || AppError::NotFound("No such operation.".into());
        let id: Uuid = id.trim().parse().map_err(|_| missing())?;
        let fail = |e| internal("cancel operation", e);
        let op = operation::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(missing)?;
        let res = target(&op).ok_or_else(missing)?;
        // Someone who may not see the target is told what a random id gets, not which kind
        // of thing the operation was for.
        let allowed = self
            .authorize_action(
                caller,
                cancel_permission(op.kind),
                &res,
                Action::OperationCancel,
            )
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => missing(),
                other => other,
            })?;
        let state = OperationState::parse(&op.state).unwrap_or(OperationState::Failed);
        if state.is_finished() {
            return Err(AppError::Conflict(format!(
                "This operation already {}.",
                state.as_str()
            )));
        }
        let txn = self.db().begin().await.map_err(fail)?;
        let done = if state == OperationState::Queued {
            let done = cancel_queued(&txn, &op, &caller.username, now).await?;
            if done && op.target_type == "vm" {
                crate::compute::reconcile::vm_cancelled(&txn, &op, now).await?;
            }
            done
        } else {
            ask_to_cancel(&txn, id, now).await?
        };
        if !done {
            return Err(AppError::Conflict(
                "This operation finished in the meantime.".into(),
            ));
        }
        let mut entry = Entry::new(Action::OperationCancel, &res)
            .detail(serde_json::json!({ "operation": id, "kind": op.kind.as_str() }));
        if let Some(org) = op.organization_id {
            entry = entry.org(org);
        }
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.wake_runner();
        if let Ok(vm) = op.target_id.parse() {
            if op.target_type == "vm" {
                self.publish_vm(vm).await;
            }
        }
        Ok(())
    }
}

/// Cancels a queued operation at once (a step says who); false when it left the queue first.
async fn cancel_queued(
    txn: &DatabaseTransaction,
    op: &operation::Model,
    who: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let steps = parse_steps(&op.steps)
        .into_iter()
        .chain([model::operations::Step {
            at: show_time(now),
            step: format!("Cancelled by {who}"),
        }])
        .collect::<Vec<_>>();
    let done = operation::Entity::update_many()
        .col_expr(
            operation::Column::State,
            Expr::value(OperationState::Cancelled.as_str()),
        )
        .col_expr(operation::Column::FinishedAt, Expr::value(Some(now)))
        .col_expr(operation::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            operation::Column::Steps,
            Expr::value(super::queue::steps_json(&steps)),
        )
        .filter(operation::Column::Id.eq(op.id))
        .filter(operation::Column::State.eq(OperationState::Queued.as_str()))
        .exec(txn)
        .await
        .map_err(|e| internal("cancel operation", e))?;
    Ok(done.rows_affected == 1)
}

/// Asks the runner to stop a running operation at its next step; false when it finished first.
async fn ask_to_cancel(
    txn: &DatabaseTransaction,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let done = operation::Entity::update_many()
        .col_expr(operation::Column::CancelRequested, Expr::value(true))
        .col_expr(operation::Column::UpdatedAt, Expr::value(now))
        .filter(operation::Column::Id.eq(id))
        .filter(operation::Column::State.eq(OperationState::Running.as_str()))
        .exec(txn)
        .await
        .map_err(|e| internal("cancel operation", e))?;
    Ok(done.rows_affected == 1)
}
