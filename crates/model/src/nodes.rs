//! Hypervisor nodes as the Nodes page shows them.

use serde::{Deserialize, Serialize};

/// Whether a node takes new VMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NodeStatus {
    /// Added; its agent has not joined yet.
    Pending,
    /// Heartbeating and taking new VMs.
    Ready,
    /// Heartbeating; its VMs stay, new ones go elsewhere.
    Cordoned,
    /// Cordoned, and its service replicas are moving elsewhere.
    Draining,
    /// No heartbeat for 15 seconds.
    Unreachable,
}

impl NodeStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Waiting to join",
            Self::Ready => "Ready",
            Self::Cordoned => "Cordoned",
            Self::Draining => "Draining",
            Self::Unreachable => "Unreachable",
        }
    }
}

/// One node with its capacity (after overcommit) and what its running VMs take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeView {
    pub id: String,
    pub name: String,
    pub region: String,
    /// The node the control plane embeds.
    pub is_local: bool,
    pub status: NodeStatus,
    pub cpus: u32,
    pub vcpu_capacity: u64,
    pub vcpus_used: u64,
    pub memory_capacity_mb: u64,
    pub memory_used_mb: u64,
    /// VMs placed here, running or not.
    pub vms: u64,
    /// When it was last heard from; `None` for the embedded node.
    pub last_seen: Option<String>,
    /// From its agent's inventory (empty before the first hello).
    pub accel: String,
    pub qemu_version: Option<String>,
    pub disk_free_gb: u64,
    /// `key=value`, sorted.
    pub labels: Vec<String>,
    /// The address its agent last dialed from.
    pub address: String,
}

/// What adding a node gives the administrator: a single-use token and the command to paste on
/// the new host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinTicket {
    pub node_id: String,
    pub name: String,
    pub token: String,
    pub command: String,
    pub expires_at: String,
}

/// Node names: 1 to 63 of `a-z`, `0-9` and `-`, not starting with `-`.
pub fn validate_node_name(name: &str) -> Result<(), String> {
    host_label(name, "a node name")
}

/// Regions (an agent's `--region`): the same rule as node names.
pub fn validate_region(region: &str) -> Result<(), String> {
    host_label(region, "a region")
}

fn host_label(value: &str, what: &str) -> Result<(), String> {
    let ok = (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} is 1 to 63 of a-z, 0-9 and -, not starting with -"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_and_regions_are_host_labels() {
        assert!(validate_node_name("host-b").is_ok());
        assert!(validate_region("eu-1").is_ok());
        for bad in ["", "-a", "Host", "a b", &"a".repeat(64)] {
            assert!(validate_node_name(bad).is_err(), "{bad:?}");
            assert!(validate_region(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            validate_region("EU").unwrap_err(),
            "a region is 1 to 63 of a-z, 0-9 and -, not starting with -"
        );
    }
}

/// What draining a node does: the replicas that move (by service) and the VMs that stay, whose
/// disks are on the node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrainReport {
    /// `web-2 (service web)`
    pub moving: Vec<String>,
    pub staying: Vec<String>,
}

impl DrainReport {
    /// One sentence for the page.
    pub fn sentence(&self, node: &str) -> String {
        let moving = if self.moving.is_empty() {
            "No service replicas to move".to_owned()
        } else {
            format!("Moving {}", self.moving.join(", "))
        };
        let staying = if self.staying.is_empty() {
            format!("{node} runs no other VMs.")
        } else {
            format!(
                "These VMs stay on {node} (their disks are there): {}.",
                self.staying.join(", ")
            )
        };
        format!("{moving}. {staying}")
    }
}
