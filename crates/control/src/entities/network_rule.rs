//! A rule that lets traffic into a network from elsewhere in its organization: a protocol, a
//! port range, and a source (a subnet, or another network).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "network_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub network_id: Uuid,
    /// tcp, udp, icmp or any.
    pub protocol: String,
    pub port_from: Option<i32>,
    pub port_to: Option<i32>,
    /// `cidr` or `network`.
    pub source_kind: String,
    /// `a.b.c.d/n`, or the source network's id.
    pub source: String,
    pub description: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
