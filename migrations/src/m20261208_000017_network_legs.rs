//! A router's own address on a network, one per network and node: what traffic from the
//! organization's other networks to the network's cards on other nodes leaves a node with.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NetworkLegs {
    Table,
    Id,
    NetworkId,
    NodeId,
    Address,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Networks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NetworkLegs::Table)
                    .if_not_exists()
                    .col(uuid(NetworkLegs::Id).primary_key())
                    .col(uuid(NetworkLegs::NetworkId))
                    .col(uuid(NetworkLegs::NodeId))
                    .col(string(NetworkLegs::Address))
                    .col(timestamp_with_time_zone(NetworkLegs::CreatedAt))
                    // A deleted network's or node's legs go with it.
                    .foreign_key(
                        ForeignKey::create()
                            .from(NetworkLegs::Table, NetworkLegs::NetworkId)
                            .to(Networks::Table, Networks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(NetworkLegs::Table, NetworkLegs::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One leg per network and node; no two legs of a network share an address.
        for (name, col) in [
            ("network_legs_node", NetworkLegs::NodeId),
            ("network_legs_address", NetworkLegs::Address),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(NetworkLegs::Table)
                        .col(NetworkLegs::NetworkId)
                        .col(col)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NetworkLegs::Table).to_owned())
            .await
    }
}
