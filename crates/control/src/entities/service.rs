//! A service: a named workload deployed as replica VMs, with what it should run now.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub description: String,
    /// The node region its replicas run in.
    pub region: String,
    pub image_id: Option<Uuid>,
    /// The release label deployed with the image.
    pub version: String,
    /// Replicas wanted.
    pub replicas: i32,
    pub cpu_count: i32,
    pub memory_mb: i32,
    /// A JSON Schema for configurations; empty: any JSON object.
    pub config_schema: String,
    /// The configuration version the replicas should run.
    pub config_version: i64,
    /// running, stopped or deleted.
    pub desired_state: super::states::Desired,
    /// Bumped by every deployment request; an older rollout stops when it sees a newer one.
    pub generation: i64,
    /// When the last deployment succeeded.
    pub deployed_at: Option<DateTimeUtc>,
    pub updated_at: Option<DateTimeUtc>,
    /// The highest replica number handed out (`<name>-<n>`); the next replica takes one more.
    pub replicas_named: i64,
    /// The network its replicas' cards are on (the organization's default, chosen with the
    /// first replica).
    pub network_id: Option<Uuid>,
    /// Its stable address on that network, spread over the running replicas.
    pub address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
