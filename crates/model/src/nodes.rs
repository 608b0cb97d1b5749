//! Hypervisor nodes as the Nodes page shows them.

use serde::{Deserialize, Serialize};

/// Whether a node takes new VMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeStatus {
    /// Added; its agent has not joined yet.
    Pending,
    /// Heartbeating and taking new VMs.
    Ready,
    /// Heartbeating; its VMs stay, new ones go elsewhere.
    Cordoned,
    /// No heartbeat for 15 seconds.
    Unreachable,
}

impl NodeStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Waiting to join",
            Self::Ready => "Ready",
            Self::Cordoned => "Cordoned",
            Self::Unreachable => "Unreachable",
        }
    }
}

/// One node with its capacity (after overcommit) and what its running VMs take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct JoinTicket {
    pub node_id: String,
    pub name: String,
    pub token: String,
    pub command: String,
    pub expires_at: String,
}
