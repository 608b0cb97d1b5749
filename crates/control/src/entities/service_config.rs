//! One numbered configuration version of a service.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_configs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: Uuid,
    pub version: i64,
    /// The JSON as saved (compact).
    pub config: String,
    pub author: Option<Uuid>,
    pub note: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
