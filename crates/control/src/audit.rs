//! The audit log: one row per change made through Strata, written in the change's own
//! transaction (so a rolled-back change leaves no row claiming success), and one row per
//! refused attempt. Rows are never updated or deleted by Strata except by the configured
//! retention.

use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

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
            name: c.username.clone(),
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
    pub action: &'static str,
    pub resource_type: String,
    pub resource_id: String,
    pub organization: Option<Uuid>,
    pub detail: serde_json::Value,
}

impl Entry {
    pub fn new(action: &'static str, resource: &Resource) -> Self {
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
    pub fn about(action: &'static str, kind: &str, id: impl ToString) -> Self {
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

/// Writes one row through `conn`: pass the change's transaction for a success.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entry: Entry,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    audit::ActiveModel {
        at: Set(now),
        actor_id: Set(actor.id),
        actor_name: Set(actor.name.chars().take(64).collect()),
        client_ip: Set(actor.client.ip.clone()),
        user_agent: Set(actor.client.user_agent.clone()),
        organization_id: Set(entry.organization),
        resource_type: Set(entry.resource_type),
        resource_id: Set(entry.resource_id.chars().take(128).collect()),
        action: Set(entry.action.to_owned()),
        outcome: Set(outcome.as_str().to_owned()),
        detail: Set(entry.detail.to_string()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map(|_| ())
    .map_err(|e| internal("write audit row", e))
}
