//! The operations table as a queue: enqueue, claim under a lease, record steps, finish.

use chrono::{DateTime, Duration, Utc};
use model::operations::{OperationState, Step};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::access::model::Resource;
use crate::auth::show_time;
use crate::entities::operation;
use crate::internal;

/// How long a claim lasts without a heartbeat; a runner that dies loses its operations after
/// this long, and another (or the restarted one) resumes them.
pub const LEASE: Duration = Duration::seconds(10);
/// Attempts before a transiently failing operation is failed for good.
pub const MAX_ATTEMPTS: i32 = 3;

/// What a use case asks for.
#[derive(Clone, Debug)]
pub struct NewOperation {
    pub kind: crate::entities::states::OperationKind,
    pub target: Resource,
    pub organization: Option<Uuid>,
    pub requested_by: Option<Uuid>,
    pub generation: i64,
}

/// How a step of an operation failed.
///
/// The text of `Transient` and `Permanent` is what people read: it becomes the operation's
/// error, the VM's state reason and timeline, the deployment log and the audit detail. It must
/// never hold driver or database text (host paths, QEMU or SQL messages); such detail goes
/// through [`OpError::hidden`], which logs it under a reference and keeps only the reference.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// Worth another attempt after a pause (a QMP timeout, a busy database).
    #[error("{0}")]
    Transient(String),
    /// Will not get better by retrying (a missing image file, an invalid spec).
    #[error("{0}")]
    Permanent(String),
    /// A newer request for the same target took over.
    #[error("superseded by a newer request")]
    Superseded,
    /// Someone cancelled it.
    #[error("cancelled")]
    Cancelled,
}

impl OpError {
    /// A failure whose `detail` must stay on the server: the detail is logged with a fresh
    /// reference (as [`crate::internal`] does) and people read `public` and that reference.
    pub fn hidden(transient: bool, public: &str, detail: impl std::fmt::Display) -> Self {
        let reference = match internal(public, detail) {
            AppError::Internal(reference) => reference,
            other => other.to_string(),
        };
        let text = format!("{public} (reference {reference})");
        if transient {
            OpError::Transient(text)
        } else {
            OpError::Permanent(text)
        }
    }
}

/// Inserts a queued operation through `conn` (the requesting change's transaction).
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    _allowed: &crate::access::Authorized,
    op: NewOperation,
    now: DateTime<Utc>,
) -> Result<Uuid, AppError> {
    let id = Uuid::new_v4();
    operation::ActiveModel {
        id: Set(id),
        kind: Set(op.kind.to_owned()),
        target_type: Set(op.target.kind.as_str().to_owned()),
        target_id: Set(op.target.id.clone()),
        organization_id: Set(op.organization),
        requested_by: Set(op.requested_by),
        generation: Set(op.generation),
        state: Set(OperationState::Queued.as_str().to_owned()),
        steps: Set(steps_json(&[Step {
            at: show_time(now),
            step: "Queued".into(),
        }])),
        attempt: Set(0),
        max_attempts: Set(MAX_ATTEMPTS),
        error: Set(None),
        not_before: Set(now),
        lease_owner: Set(None),
        lease_expires: Set(None),
        cancel_requested: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(|e| internal("enqueue operation", e))?;
    Ok(id)
}

pub(crate) fn steps_json(steps: &[Step]) -> String {
    serde_json::to_string(steps).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn parse_steps(text: &str) -> Vec<Step> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Unfinished operations, oldest first (a small set: the work in flight).
pub(crate) async fn unfinished(db: &DatabaseConnection) -> Result<Vec<operation::Model>, AppError> {
    operation::Entity::find()
        .filter(operation::Column::State.is_in([
            OperationState::Queued.as_str(),
            OperationState::Running.as_str(),
        ]))
        .order_by_asc(operation::Column::CreatedAt)
        .order_by_asc(operation::Column::Id)
        .all(db)
        .await
        .map_err(|e| internal("list unfinished operations", e))
}

/// The operations a runner may claim now: for each target only its oldest unfinished one
/// (work on one target runs in request order, one at a time), when it is queued and due, or
/// running under a lease that ran out.
pub(crate) fn claimable(ops: &[operation::Model], now: DateTime<Utc>) -> Vec<operation::Model> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for op in ops {
        if !seen.insert((op.target_type.clone(), op.target_id.clone())) {
            continue;
        }
        let due = match OperationState::parse(&op.state) {
            Some(OperationState::Queued) => op.not_before <= now,
            Some(OperationState::Running) => op.lease_expires.is_none_or(|until| until < now),
            _ => false,
        };
        if due {
            out.push(op.clone());
        }
    }
    out
}

/// Takes `op` for `owner` unless another runner did first. Returns the claimed row.
pub(crate) async fn claim(
    db: &DatabaseConnection,
    op: &operation::Model,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<Option<operation::Model>, AppError> {
    // The row must still be exactly as we saw it: same state and same lease.
    let mut update = operation::Entity::update_many()
        .col_expr(
            operation::Column::State,
            Expr::value(OperationState::Running.as_str()),
        )
        .col_expr(operation::Column::LeaseOwner, Expr::value(owner))
        .col_expr(operation::Column::LeaseExpires, Expr::value(now + LEASE))
        .col_expr(operation::Column::Attempt, Expr::value(op.attempt + 1))
        .col_expr(operation::Column::UpdatedAt, Expr::value(now))
        .filter(operation::Column::Id.eq(op.id))
        .filter(operation::Column::State.eq(op.state.clone()))
        .filter(operation::Column::Attempt.eq(op.attempt));
    update = match &op.lease_owner {
        Some(previous) => update.filter(operation::Column::LeaseOwner.eq(previous.clone())),
        None => update.filter(operation::Column::LeaseOwner.is_null()),
    };
    let done = update
        .exec(db)
        .await
        .map_err(|e| internal("claim operation", e))?;
    if done.rows_affected != 1 {
        return Ok(None);
    }
    operation::Entity::find_by_id(op.id)
        .one(db)
        .await
        .map_err(|e| internal("load operation", e))
}

/// Extends the lease; false when it is no longer ours.
pub(crate) async fn heartbeat(
    db: &DatabaseConnection,
    id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let done = operation::Entity::update_many()
        .col_expr(operation::Column::LeaseExpires, Expr::value(now + LEASE))
        .filter(operation::Column::Id.eq(id))
        .filter(operation::Column::LeaseOwner.eq(owner))
        .filter(operation::Column::State.eq(OperationState::Running.as_str()))
        .exec(db)
        .await
        .map_err(|e| internal("extend operation lease", e))?;
    Ok(done.rows_affected == 1)
}

/// Appends a progress step; returns whether someone asked to cancel.
pub(crate) async fn add_step(
    db: &DatabaseConnection,
    id: Uuid,
    owner: &str,
    step: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let fail = |e| internal("record operation step", e);
    let Some(row) = operation::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(fail)?
    else {
        return Ok(true);
    };
    if row.lease_owner.as_deref() != Some(owner) {
        return Ok(true);
    }
    let mut steps = parse_steps(&row.steps);
    steps.push(Step {
        at: show_time(now),
        step: step.to_owned(),
    });
    operation::Entity::update_many()
        .col_expr(operation::Column::Steps, Expr::value(steps_json(&steps)))
        .col_expr(operation::Column::UpdatedAt, Expr::value(now))
        .filter(operation::Column::Id.eq(id))
        .filter(operation::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await
        .map_err(fail)?;
    Ok(row.cancel_requested)
}

/// How an attempt ended, as the row records it.
pub(crate) struct Settlement {
    pub state: OperationState,
    pub error: Option<String>,
    /// For a retry: not before then.
    pub retry_at: Option<DateTime<Utc>>,
    pub last_step: String,
}

/// Ends an operation held by `owner`, or puts it back in the queue for another attempt.
pub(crate) async fn settle<C: ConnectionTrait>(
    conn: &C,
    op: &operation::Model,
    owner: &str,
    end: &Settlement,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Settlement {
        state,
        error,
        retry_at,
        last_step,
    } = end;
    let state = *state;
    let fail = |e| internal("finish operation", e);
    // Write first: on SQLite a transaction that reads and then writes can fail at once when
    // another connection wrote in between; one that starts with a write waits its turn.
    let held = operation::Entity::update_many()
        .col_expr(operation::Column::UpdatedAt, Expr::value(now))
        .filter(operation::Column::Id.eq(op.id))
        .filter(operation::Column::LeaseOwner.eq(owner))
        .exec(conn)
        .await
        .map_err(fail)?;
    if held.rows_affected != 1 {
        return Ok(false);
    }
    let Some(row) = operation::Entity::find_by_id(op.id)
        .one(conn)
        .await
        .map_err(fail)?
    else {
        return Ok(false);
    };
    let mut steps = parse_steps(&row.steps);
    steps.push(Step {
        at: show_time(now),
        step: last_step.clone(),
    });
    let finished = state.is_finished().then_some(now);
    let done = operation::Entity::update_many()
        .col_expr(operation::Column::State, Expr::value(state.as_str()))
        .col_expr(operation::Column::Error, Expr::value(error.clone()))
        .col_expr(operation::Column::Steps, Expr::value(steps_json(&steps)))
        .col_expr(operation::Column::UpdatedAt, Expr::value(now))
        .col_expr(operation::Column::FinishedAt, Expr::value(finished))
        .col_expr(
            operation::Column::NotBefore,
            Expr::value((*retry_at).unwrap_or(row.not_before)),
        )
        .col_expr(operation::Column::LeaseOwner, Expr::value(None::<String>))
        .col_expr(
            operation::Column::LeaseExpires,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(operation::Column::Id.eq(op.id))
        .filter(operation::Column::LeaseOwner.eq(owner))
        .exec(conn)
        .await
        .map_err(fail)?;
    Ok(done.rows_affected == 1)
}

/// Backoff before attempt `attempt + 1`: 1 s, 2 s, 4 s, … capped at a minute.
pub fn backoff(attempt: i32) -> Duration {
    Duration::seconds(1_i64 << attempt.clamp(1, 7).saturating_sub(1)).min(Duration::seconds(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(target: &str, state: &str, minutes: i64, lease: Option<i64>) -> operation::Model {
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        operation::Model {
            id: Uuid::new_v4(),
            kind: crate::entities::states::OperationKind::VmStart,
            target_type: "vm".into(),
            target_id: target.into(),
            organization_id: None,
            requested_by: None,
            generation: 1,
            state: state.into(),
            steps: "[]".into(),
            attempt: 0,
            max_attempts: 3,
            error: None,
            not_before: t0 + Duration::minutes(minutes),
            lease_owner: lease.map(|_| "other".into()),
            lease_expires: lease.map(|m| t0 + Duration::minutes(m)),
            cancel_requested: false,
            created_at: t0 + Duration::minutes(minutes),
            updated_at: t0,
            finished_at: None,
        }
    }

    #[test]
    fn one_operation_per_target_in_order_and_expired_leases_are_resumed() {
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let now = t0 + Duration::minutes(5);
        let a1 = op("a", "running", 0, Some(10)); // live lease: a is busy
        let a2 = op("a", "queued", 1, None);
        let b1 = op("b", "running", 0, Some(2)); // lease ran out: resumable
        let c1 = op("c", "queued", 9, None); // not due yet (backoff)
        let d1 = op("d", "queued", 1, None);
        let picked = claimable(&[a1, a2, b1.clone(), c1, d1.clone()], now);
        let ids: Vec<Uuid> = picked.iter().map(|o| o.id).collect();
        assert_eq!(ids, vec![b1.id, d1.id]);
    }

    #[test]
    fn hidden_errors_keep_only_the_public_text_and_a_reference() {
        let e = OpError::hidden(
            false,
            "a file the image needs is missing on the node",
            "the base image /var/lib/strata/images/gone.raw does not exist",
        );
        let OpError::Permanent(text) = &e else {
            panic!("not permanent: {e:?}");
        };
        assert!(text.starts_with("a file the image needs is missing on the node (reference "));
        assert!(!text.contains("/var/lib"), "{text}");
        assert!(matches!(
            OpError::hidden(true, "the database did not answer", "pool timed out"),
            OpError::Transient(_)
        ));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(1));
        assert_eq!(backoff(2), Duration::seconds(2));
        assert_eq!(backoff(3), Duration::seconds(4));
        assert_eq!(backoff(40), Duration::seconds(60));
    }
}
