//! The audit log as the Audit page and exports show it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRow {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub client_ip: String,
    pub user_agent: String,
    pub organization: Option<String>,
    pub resource_type: String,
    pub resource_id: String,
    pub action: String,
    pub outcome: String,
    /// A small JSON object.
    pub detail: String,
}

/// Which rows to show. Empty strings mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// Username of the actor.
    pub actor: String,
    /// Organization name.
    pub organization: String,
    pub resource_type: String,
    pub resource_id: String,
    pub action: String,
    /// success, denied or failed.
    pub outcome: String,
    /// A date (2026-11-22) or time (2026-11-22T10:00:00Z), inclusive.
    pub from: String,
    /// A date or time; a date means the end of that day.
    pub to: String,
    /// Keyset cursor: only rows older than this id.
    pub before: Option<i64>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass as `before` for the next (older) page; None on the last page.
    pub next_before: Option<i64>,
}
