//! A VM network of an organization: its subnet, gateway and DNS server address, and the
//! number that names its devices on every node (its VXLAN id across nodes).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "networks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: String,
    pub vni: i32,
    /// The subnet's first address, dotted; with `prefix`, its CIDR.
    pub subnet: String,
    pub prefix: i32,
    pub gateway: String,
    pub dns: String,
    pub created_at: DateTimeUtc,
    /// Its VMs may open connections out of their node (egress NAT); off by default.
    pub egress: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
