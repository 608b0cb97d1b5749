//! A hypervisor host that runs VMs; the server embeds one local node.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub address: String,
    pub is_local: bool,
    pub cpu_count: i32,
    pub memory_mb: i64,
    pub created_at: DateTimeUtc,
    /// The label services name to run here.
    pub region: String,
    /// Takes no new VMs (its running ones stay).
    pub cordoned: bool,
    /// Cordoned, and its service replicas are moved elsewhere (each rollout replaces them).
    pub draining: bool,
    /// What placement may hand out, in percent of the node's CPUs and memory (400: four vCPUs
    /// per CPU; 100: no memory overcommit).
    pub cpu_overcommit_pct: i32,
    pub memory_overcommit_pct: i32,
    /// The node's last heartbeat (the embedded node is always in reach).
    pub last_seen_at: Option<DateTimeUtc>,
    /// SHA-256 of the certificate the node's agent got at join; `None` until it joins. A link
    /// is this node's only if its client certificate has this fingerprint.
    pub cert_sha256: Option<String>,
    pub joined_at: Option<DateTimeUtc>,
    /// From the agent's inventory: `kvm` or `tcg` (empty until its first hello).
    pub accel: String,
    pub qemu_version: Option<String>,
    pub disk_free_gb: i64,
    /// JSON object of the labels the agent was started with.
    pub labels: String,
    pub agent_version: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
