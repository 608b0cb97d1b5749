//! The audit log: one row per change made through Strata, written in the change's own
//! transaction (so a rolled-back change leaves no row claiming success), and one row per
//! refused attempt — per burst of them: a refusal repeated by the same actor on the same
//! target and action within [`DENIAL_WINDOW`] of the first only counts up on that row
//! (`count` and `last_at` in its detail), so a flood of refused calls cannot fill another
//! organization's log. That count is the only update Strata makes to a row; nothing deletes
//! rows except the configured retention.

mod action;
pub mod log;

pub use action::Action;

use chrono::{DateTime, Duration, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::access::model::Resource;
use crate::auth::{Caller, ClientInfo};
use crate::entities::audit;
use crate::internal;

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// Who acted, and from where.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub name: String,
    pub client: ClientInfo,
}

impl Actor {
    pub fn caller(c: &Caller) -> Self {
        Self {
            id: Some(c.user_id),
            name: c.actor_name(),
            client: c.client.clone(),
        }
    }

    pub fn person(id: Uuid, name: &str, client: &ClientInfo) -> Self {
        Self {
            id: Some(id),
            name: name.to_owned(),
            client: client.clone(),
        }
    }

    /// Strata itself (start-up, reconcilers).
    pub fn system() -> Self {
        Self {
            id: None,
            name: "system".into(),
            client: ClientInfo::default(),
        }
    }
}

/// What happened, to what.
#[derive(Clone, Debug)]
pub struct Entry {
    pub action: Action,
    pub resource_type: String,
    pub resource_id: String,
    pub organization: Option<Uuid>,
    pub detail: serde_json::Value,
}

impl Entry {
    pub fn new(action: Action, resource: &Resource) -> Self {
        Self {
            action,
            resource_type: resource.kind.as_str().to_owned(),
            resource_id: resource.id.clone(),
            organization: None,
            detail: serde_json::Value::Object(Default::default()),
        }
    }

    /// An entry about something that is not a permission-engine resource (a session, a
    /// passkey, a user account).
    pub fn about(action: Action, kind: &str, id: impl ToString) -> Self {
        Self {
            action,
            resource_type: kind.to_owned(),
            resource_id: id.to_string(),
            organization: None,
            detail: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn org(mut self, organization: Uuid) -> Self {
        self.organization = Some(organization);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// How long after a first refusal the same refusal again only counts up on its row.
pub const DENIAL_WINDOW: Duration = Duration::minutes(10);

/// Tries to count a refusal on the row of the same refusal's burst.
const FOLD_TRIES: usize = 5;

static DENIALS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Writes the row of something done (succeeded or failed) through `conn`, the change's
/// transaction; `allowed` is the proof it was allowed to happen.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    _allowed: &crate::access::Authorized,
    actor: &Actor,
    entry: Entry,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    write(conn, actor, entry, outcome, now).await
}

/// [`record`] of what a signed-in person did, which succeeded: most changes' row.
pub async fn record_success<C: ConnectionTrait>(
    conn: &C,
    allowed: &crate::access::Authorized,
    caller: &crate::auth::Caller,
    entry: Entry,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    record(
        conn,
        allowed,
        &Actor::caller(caller),
        entry,
        Outcome::Success,
        now,
    )
    .await
}

/// Writes the row of a refusal (which has no proof: it is what was refused). One repeated
/// within [`DENIAL_WINDOW`] counts up on the first one's row instead.
pub async fn record_denied<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entry: Entry,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    write(conn, actor, entry, Outcome::Denied, now).await
}

async fn write<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entry: Entry,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // Refusals are counted one at a time in this process, so a burst of them at once lands
    // on one row (instances sharing a database are kept apart by the compare-and-set in
    // `fold_denial`). Refusals are written outside any change's transaction, so holding this
    // across the write waits on nothing that waits on it.
    let _one_at_a_time = match outcome {
        Outcome::Denied => Some(DENIALS.lock().await),
        _ => None,
    };
    if outcome == Outcome::Denied && fold_denial(conn, actor, &entry, now).await? {
        return Ok(());
    }
    audit::ActiveModel {
        at: Set(now),
        actor_id: Set(actor.id),
        actor_name: Set(actor.name.chars().take(64).collect()),
        client_ip: Set(actor.client.ip.clone()),
        user_agent: Set(actor.client.user_agent.clone()),
        organization_id: Set(entry.organization),
        resource_type: Set(entry.resource_type),
        resource_id: Set(stored_id(&entry.resource_id)),
        action: Set(entry.action.as_str().to_owned()),
        outcome: Set(outcome.as_str().to_owned()),
        detail: Set(entry.detail.to_string()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map(|_| ())
    .map_err(|e| internal("write audit row", e))
}

/// The resource id as a row stores it.
fn stored_id(id: &str) -> String {
    id.chars().take(128).collect()
}

/// Counts a refusal on the row of an earlier identical one (same actor, action and target,
/// first seen within the window); false when there is none and a row must be written.
///
/// The count is a compare-and-set on the row's detail, so two refusals counted at once never
/// lose one; under heavy contention a few tries give up and a new row is written instead.
async fn fold_denial<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entry: &Entry,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let fail = |e| internal("count refused attempt", e);
    let mut query = audit::Entity::find()
        .filter(audit::Column::Outcome.eq(Outcome::Denied.as_str()))
        .filter(audit::Column::Action.eq(entry.action.as_str()))
        .filter(audit::Column::ResourceType.eq(entry.resource_type.as_str()))
        .filter(audit::Column::ResourceId.eq(stored_id(&entry.resource_id)))
        .filter(audit::Column::At.gt(now - DENIAL_WINDOW))
        .filter(audit::Column::At.lte(now))
        .order_by_desc(audit::Column::Id);
    query = match actor.id {
        Some(id) => query.filter(audit::Column::ActorId.eq(id)),
        // Nobody signed in: the same name from the same address.
        None => query
            .filter(audit::Column::ActorId.is_null())
            .filter(audit::Column::ActorName.eq(actor.name.chars().take(64).collect::<String>()))
            .filter(audit::Column::ClientIp.eq(actor.client.ip.as_str())),
    };
    query = match entry.organization {
        Some(org) => query.filter(audit::Column::OrganizationId.eq(org)),
        None => query.filter(audit::Column::OrganizationId.is_null()),
    };
    for _ in 0..FOLD_TRIES {
        let Some(row) = query.clone().one(conn).await.map_err(fail)? else {
            return Ok(false);
        };
        let detail = counted(&row.detail, now);
        let done = audit::Entity::update_many()
            .col_expr(audit::Column::Detail, Expr::value(detail))
            .filter(audit::Column::Id.eq(row.id))
            .filter(audit::Column::Detail.eq(row.detail))
            .exec(conn)
            .await
            .map_err(fail)?;
        if done.rows_affected == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A refused row's detail with one more attempt counted: `count` (attempts in this row,
/// the first included) and `last_at`.
fn counted(detail: &str, now: DateTime<Utc>) -> String {
    let mut map = match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let count = map
        .get("count")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1);
    map.insert("count".into(), serde_json::json!(count.saturating_add(1)));
    map.insert(
        "last_at".into(),
        serde_json::json!(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    );
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_refusal_keeps_its_detail_and_counts_from_two() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let once = counted(r#"{"reason":"No such virtual machine."}"#, now);
        let v: serde_json::Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v["count"], 2);
        assert_eq!(v["reason"], "No such virtual machine.");
        assert_eq!(v["last_at"], "2023-11-14T22:13:20.000Z");
        let twice: serde_json::Value = serde_json::from_str(&counted(&once, now)).unwrap();
        assert_eq!(twice["count"], 3);
        let garbage: serde_json::Value = serde_json::from_str(&counted("not json", now)).unwrap();
        assert_eq!(garbage["count"], 2);
    }
}
