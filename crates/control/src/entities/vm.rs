//! A virtual machine: its spec, where it runs, and desired versus observed state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub organization_id: Uuid,
    pub node_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub description: String,
    pub image_id: Option<Uuid>,
    pub cpu_count: i32,
    pub memory_mb: i32,
    pub disk_gb: i32,
    /// What people asked for: running, stopped, paused or deleted.
    pub desired_state: super::states::Desired,
    /// What the node last reported: creating, stopped, starting, running, paused, stopping,
    /// restarting, error, deleting.
    pub observed_state: String,
    /// Why it is in that state, when that needs saying (errors, forced stops).
    pub state_reason: Option<String>,
    /// Bumped by every request; a step of an older request never overwrites a newer one.
    pub generation: i64,
    /// The generation the observed state belongs to.
    pub observed_generation: i64,
    pub updated_at: Option<DateTimeUtc>,
    /// The service this VM is a replica of.
    pub service_id: Option<Uuid>,
    /// The service configuration version this replica was booted with.
    pub config_version: Option<i64>,
    /// The service version label this replica runs.
    pub service_version: Option<String>,
    /// Labels firewall rules may name as a source: sorted, comma-separated, empty for none.
    pub tags: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
