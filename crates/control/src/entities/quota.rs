//! An organization's quotas, set by platform administrators; a missing row or column is no limit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quotas")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    /// vCPUs of the VMs that should be running.
    pub vcpus: Option<i64>,
    /// Memory (MiB) of the VMs that should be running.
    pub memory_mb: Option<i64>,
    /// Disk (GiB) of every VM, running or not.
    pub disk_gb: Option<i64>,
    /// VMs, running or not (service replicas included).
    pub vms: Option<i64>,
    pub services: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
