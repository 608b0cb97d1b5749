//! Services as pages show them: replicas, versioned configuration, deployments and metrics.

use serde::{Deserialize, Serialize};

use crate::vms::VmState;

/// A service's status, derived from its replicas and its deployments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    /// Every wanted replica runs the wanted configuration.
    Running,
    /// Some wanted replicas are not running, or the last deployment failed with old replicas
    /// still serving.
    Degraded,
    /// Stopped on request (no replica runs).
    Stopped,
    /// A deployment is queued or rolling.
    Deploying,
    /// Replicas should run and none does.
    Failed,
}

impl ServiceStatus {
    pub const ALL: [ServiceStatus; 5] = [
        ServiceStatus::Running,
        ServiceStatus::Degraded,
        ServiceStatus::Stopped,
        ServiceStatus::Deploying,
        ServiceStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Running => "running",
            ServiceStatus::Degraded => "degraded",
            ServiceStatus::Stopped => "stopped",
            ServiceStatus::Deploying => "deploying",
            ServiceStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ServiceStatus::Running => "Running",
            ServiceStatus::Degraded => "Degraded",
            ServiceStatus::Stopped => "Stopped",
            ServiceStatus::Deploying => "Deploying",
            ServiceStatus::Failed => "Failed",
        }
    }
}

/// What a deployment does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKind {
    /// The first rollout of a new service.
    Create,
    /// A new configuration, image or version, rolled replica by replica.
    Deploy,
    /// A rollback to an earlier configuration (itself a new version).
    Rollback,
    /// A new replica count.
    Scale,
    Start,
    Stop,
    /// Removes every replica, then the service.
    Delete,
}

impl DeploymentKind {
    pub const ALL: [DeploymentKind; 7] = [
        DeploymentKind::Create,
        DeploymentKind::Deploy,
        DeploymentKind::Rollback,
        DeploymentKind::Scale,
        DeploymentKind::Start,
        DeploymentKind::Stop,
        DeploymentKind::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentKind::Create => "create",
            DeploymentKind::Deploy => "deploy",
            DeploymentKind::Rollback => "rollback",
            DeploymentKind::Scale => "scale",
            DeploymentKind::Start => "start",
            DeploymentKind::Stop => "stop",
            DeploymentKind::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            DeploymentKind::Create => "Create",
            DeploymentKind::Deploy => "Deploy",
            DeploymentKind::Rollback => "Rollback",
            DeploymentKind::Scale => "Scale",
            DeploymentKind::Start => "Start",
            DeploymentKind::Stop => "Stop",
            DeploymentKind::Delete => "Delete",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// A newer deployment took over, or someone cancelled it.
    Cancelled,
}

impl DeploymentState {
    pub const ALL: [DeploymentState; 5] = [
        DeploymentState::Queued,
        DeploymentState::Running,
        DeploymentState::Succeeded,
        DeploymentState::Failed,
        DeploymentState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Queued => "queued",
            DeploymentState::Running => "running",
            DeploymentState::Succeeded => "succeeded",
            DeploymentState::Failed => "failed",
            DeploymentState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            DeploymentState::Succeeded | DeploymentState::Failed | DeploymentState::Cancelled
        )
    }
}

/// Start or stop a whole service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceAction {
    Start,
    Stop,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub organization_id: String,
    pub organization: String,
    pub region: String,
    pub image: Option<String>,
    pub image_id: Option<String>,
    pub version: String,
    /// Replicas wanted.
    pub replicas: u32,
    /// Replicas running now.
    pub running: u32,
    pub status: ServiceStatus,
    /// The configuration version the replicas should run.
    pub config_version: i64,
    /// When the last deployment succeeded.
    pub deployed_at: Option<String>,
    /// Seconds since the last successful deployment, while the service is not stopped.
    pub uptime_seconds: Option<i64>,
    pub cpu_count: u32,
    pub memory_mb: u32,
    pub generation: i64,
}

/// A replica: one of the service's VMs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicaView {
    pub vm_id: String,
    pub name: String,
    pub state: VmState,
    pub config_version: i64,
    pub version: String,
}

/// One saved configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigVersion {
    pub version: i64,
    /// The JSON, pretty-printed.
    pub config: String,
    pub author: Option<String>,
    pub created_at: String,
    /// "Rolled back to version 2", or empty.
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentView {
    pub id: String,
    pub number: i64,
    pub kind: DeploymentKind,
    pub state: DeploymentState,
    pub config_version: i64,
    pub version: String,
    pub image: Option<String>,
    pub replicas: u32,
    pub requested_by: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// The operation that carries it out (`GET /api/v1/operations/{id}`).
    #[serde(default)]
    pub operation_id: Option<String>,
}

/// One line of a deployment's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentLogLine {
    pub at: String,
    /// info, warn or error.
    pub level: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceDetail {
    pub service: ServiceSummary,
    /// The JSON Schema every configuration must match, pretty-printed.
    pub config_schema: String,
    pub replicas: Vec<ReplicaView>,
    /// Its stable address, spread over its running replicas (given with its first replica),
    /// and the network it is on.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub network: Option<String>,
    /// Newest first.
    pub configs: Vec<ConfigVersion>,
    /// Newest first.
    pub deployments: Vec<DeploymentView>,
    /// May save configurations (and roll back).
    pub can_update: bool,
    pub can_deploy: bool,
    pub can_start: bool,
    pub can_stop: bool,
    pub can_delete: bool,
}

/// What the create form sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewService {
    pub organization_id: String,
    pub name: String,
    pub description: String,
    /// A node region; empty: the local node's.
    pub region: String,
    /// None: the first image the caller may use.
    pub image_id: Option<String>,
    pub version: String,
    pub replicas: u32,
    pub cpu_count: u32,
    pub memory_mb: u32,
    /// The first configuration (JSON); empty: `{}`.
    pub config: String,
    /// A JSON Schema for configurations; empty: any JSON object.
    pub config_schema: String,
}

impl NewService {
    /// One small replica of the default image with an empty configuration.
    pub fn named(organization_id: &str, name: &str) -> Self {
        Self {
            organization_id: organization_id.to_owned(),
            name: name.to_owned(),
            description: String::new(),
            region: String::new(),
            image_id: None,
            version: "1".into(),
            replicas: 1,
            cpu_count: 1,
            memory_mb: crate::vms::MIN_MEMORY_MB,
            config: String::new(),
            config_schema: String::new(),
        }
    }
}

/// What a deploy asks for; None keeps what the service has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployRequest {
    pub config_version: Option<i64>,
    pub image_id: Option<String>,
    pub version: Option<String>,
    /// Refuse as stale unless the service is still at this generation (the API's `If-Match`).
    #[serde(default)]
    pub expected_generation: Option<i64>,
}

/// One line of a diff between two configuration versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// ' ' same, '+' only in the newer, '-' only in the older.
    pub tag: char,
    pub text: String,
}

/// One usage sample of a replica VM, read from its QEMU process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub vm_id: String,
    /// Host CPU time used over the last interval, as a percentage of one core.
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    pub uptime_seconds: f64,
}

pub const MAX_REPLICAS: u32 = 16;
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
pub const MAX_VERSION_LEN: usize = 64;

/// Checks the replica count and version label.
pub fn validate_shape(replicas: u32, version: &str) -> Result<(), String> {
    if replicas > MAX_REPLICAS {
        return Err(format!(
            "Replicas: at most {MAX_REPLICAS} (scale to 0 to run none)."
        ));
    }
    let v = version.trim();
    if v.is_empty() || v.len() > MAX_VERSION_LEN {
        return Err(format!(
            "Version: 1 to {MAX_VERSION_LEN} characters, such as 1.4.2."
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
    {
        return Err("Version: letters, digits and . - _ + only.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked() {
        assert!(validate_shape(2, "1.4.2").is_ok());
        assert!(validate_shape(0, "v1").is_ok());
        assert!(validate_shape(17, "1").unwrap_err().starts_with("Replicas"));
        assert!(validate_shape(1, " ").unwrap_err().starts_with("Version"));
        assert!(validate_shape(1, "a b").unwrap_err().starts_with("Version"));
    }

    #[test]
    fn statuses_round_trip() {
        for s in ServiceStatus::ALL {
            assert_eq!(ServiceStatus::parse(s.as_str()), Some(s));
        }
        for k in DeploymentKind::ALL {
            assert_eq!(DeploymentKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(DeploymentState::parse("nope"), None);
    }
}
