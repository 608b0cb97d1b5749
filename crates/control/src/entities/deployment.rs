//! A deployment: one requested change to what a service runs, rolled out by an operation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub service_id: Uuid,
    /// 1, 2, 3… per service.
    pub number: i64,
    pub kind: String,
    pub state: String,
    pub config_version: i64,
    pub image_id: Option<Uuid>,
    pub version: String,
    pub replicas: i32,
    pub desired_state: super::states::Desired,
    /// The service generation this deployment asked for.
    pub generation: i64,
    pub operation_id: Option<Uuid>,
    pub requested_by: Option<Uuid>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
