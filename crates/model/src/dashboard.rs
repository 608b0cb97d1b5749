//! What the dashboard shows: the installation's identity, how much of everything exists, and
//! what an operator checks first (nodes' use, what is failing, work under way, recent audit).

use serde::{Deserialize, Serialize};

/// Which database the control plane is running on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseBackend {
    Sqlite,
    Postgres,
}

impl DatabaseBackend {
    /// Human-readable name for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// How live events travel between server instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTransport {
    /// One instance; events stay in this process.
    InProcess,
    /// Several instances share events through Redis pub/sub.
    Redis,
}

impl EventTransport {
    /// Human-readable name for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::InProcess => "In-process",
            Self::Redis => "Redis",
        }
    }
}

/// How many of each kind of thing exist in this installation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub users: u64,
    pub organizations: u64,
    pub nodes: u64,
    pub virtual_machines: u64,
    pub services: u64,
}

// The dashboard's lines are plain text on purpose: every type a server function returns adds
// its own decoder to the page's WASM (docs/performance.md), and the dashboard is the page a
// person lands on.

/// One node's use, for platform administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeUse {
    pub name: String,
    /// As the Nodes page labels it (`Ready`, `Unreachable` …).
    pub status: String,
    pub vcpus_used: u64,
    pub vcpu_capacity: u64,
    pub memory_used_mb: u64,
    pub memory_capacity_mb: u64,
}

/// A VM or service that is failing, degraded or out of reach, with where to look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    /// The page to open: `/vms/ID` or `/services/ID`.
    pub href: String,
    /// `VM` or `Service`.
    pub kind: String,
    pub name: String,
    /// Its state or status, as the pages label it.
    pub status: String,
    pub reason: Option<String>,
}

/// An operation queued or running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkLine {
    /// `vm.start`
    pub kind: String,
    /// Its target's name (or id, when gone).
    pub target: String,
    /// Its newest step, or `Queued`.
    pub step: String,
}

/// An audit row, as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityLine {
    /// `2026-12-07 10:00:00`, UTC.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub outcome: String,
}

/// The dashboard's data, loaded through one server function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardInfo {
    pub version: String,
    pub database: DatabaseBackend,
    pub events: EventTransport,
    pub uptime_seconds: u64,
    pub counts: Counts,
    /// Every node with its use (platform administrators; empty for others).
    #[serde(default)]
    pub nodes: Vec<NodeUse>,
    /// The caller's VMs in error or on an unreachable node, services degraded or failed.
    #[serde(default)]
    pub attention: Vec<Attention>,
    /// Operations queued or running that the caller may see, newest first (at most 5).
    #[serde(default)]
    pub operations: Vec<WorkLine>,
    /// The newest audit rows the caller may read (at most 5; none without audit access).
    #[serde(default)]
    pub recent: Vec<ActivityLine>,
}

/// Formats a duration in seconds as a short human string such as `2d 3h` or `4m 10s`.
pub fn format_uptime(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        (seconds % 86_400) / 3_600,
        (seconds % 3_600) / 60,
        seconds % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_formatted_at_each_scale() {
        assert_eq!(format_uptime(0), "0s");
        assert_eq!(format_uptime(59), "59s");
        assert_eq!(format_uptime(61), "1m 1s");
        assert_eq!(format_uptime(3_661), "1h 1m");
        assert_eq!(format_uptime(90_061), "1d 1h");
    }

    #[test]
    fn dashboard_round_trips_through_json() {
        let info = DashboardInfo {
            version: "0.1.0".into(),
            database: DatabaseBackend::Postgres,
            events: EventTransport::InProcess,
            uptime_seconds: 5,
            counts: Counts {
                nodes: 1,
                ..Counts::default()
            },
            nodes: Vec::new(),
            attention: Vec::new(),
            operations: Vec::new(),
            recent: Vec::new(),
        };
        let json = serde_json::to_string(&info).unwrap();
        assert!(json.contains("\"database\":\"postgres\""), "{json}");
        let back: DashboardInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
    }
}
