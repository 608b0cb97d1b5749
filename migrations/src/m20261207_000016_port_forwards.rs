//! A way in and out: ports of a node's addresses forwarded to a VM's port, and egress NAT per
//! network (off until those who manage it turn it on).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PortForwards {
    Table,
    Id,
    VmId,
    Protocol,
    HostPort,
    VmPort,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Vms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Networks {
    Table,
    Egress,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PortForwards::Table)
                    .if_not_exists()
                    .col(uuid(PortForwards::Id).primary_key())
                    .col(uuid(PortForwards::VmId))
                    .col(string(PortForwards::Protocol))
                    .col(integer(PortForwards::HostPort))
                    .col(integer(PortForwards::VmPort))
                    .col(string(PortForwards::Description).default(""))
                    .col(timestamp_with_time_zone(PortForwards::CreatedAt))
                    // A deleted VM's forwards go with it.
                    .foreign_key(
                        ForeignKey::create()
                            .from(PortForwards::Table, PortForwards::VmId)
                            .to(Vms::Table, Vms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A node port is one VM's wherever that VM runs.
        manager
            .create_index(
                Index::create()
                    .name("port_forwards_port")
                    .table(PortForwards::Table)
                    .col(PortForwards::Protocol)
                    .col(PortForwards::HostPort)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("port_forwards_vm")
                    .table(PortForwards::Table)
                    .col(PortForwards::VmId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Networks::Table)
                    .add_column(boolean(Networks::Egress).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Networks::Table)
                    .drop_column(Networks::Egress)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PortForwards::Table).to_owned())
            .await
    }
}
