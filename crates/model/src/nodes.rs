//! Hypervisor nodes as the Nodes page shows them.

use serde::{Deserialize, Serialize};

/// Whether a node takes new VMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeStatus {
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
}
