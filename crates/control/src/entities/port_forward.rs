//! A port of a node's addresses forwarded to a port of a VM (its first card's address), on
//! whichever node the VM runs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "port_forwards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vm_id: Uuid,
    /// `tcp` or `udp`.
    pub protocol: String,
    pub host_port: i32,
    pub vm_port: i32,
    pub description: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
