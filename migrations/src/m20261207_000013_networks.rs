//! VM networks: an organization's networks (subnet, gateway, DNS server address, the number
//! naming its devices on every node), the network cards of VMs (a stable MAC and the address
//! pinned to it), and the rules that let traffic into a network from elsewhere.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Vms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Networks {
    Table,
    Id,
    OrganizationId,
    Name,
    Description,
    Vni,
    Subnet,
    Prefix,
    Gateway,
    Dns,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Nics {
    Table,
    Id,
    VmId,
    NetworkId,
    Slot,
    Mac,
    Address,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NetworkRules {
    Table,
    Id,
    NetworkId,
    Protocol,
    PortFrom,
    PortTo,
    SourceKind,
    Source,
    Description,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Networks::Table)
                    .col(pk_uuid(Networks::Id))
                    .col(uuid(Networks::OrganizationId))
                    .col(string_len(Networks::Name, 63))
                    .col(string_len(Networks::Description, 500))
                    .col(integer_uniq(Networks::Vni))
                    .col(string_len(Networks::Subnet, 15))
                    .col(integer(Networks::Prefix))
                    .col(string_len(Networks::Gateway, 15))
                    .col(string_len(Networks::Dns, 15))
                    .col(timestamp_with_time_zone(Networks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Networks::Table, Networks::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("networks_org_name")
                    .table(Networks::Table)
                    .col(Networks::OrganizationId)
                    .col(Networks::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Nics::Table)
                    .col(pk_uuid(Nics::Id))
                    .col(uuid(Nics::VmId))
                    .col(uuid(Nics::NetworkId))
                    .col(integer(Nics::Slot))
                    .col(string_len_uniq(Nics::Mac, 17))
                    .col(string_len(Nics::Address, 15))
                    .col(timestamp_with_time_zone(Nics::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nics::Table, Nics::VmId)
                            .to(Vms::Table, Vms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // A network with cards on it is not deleted (the code says so first).
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nics::Table, Nics::NetworkId)
                            .to(Networks::Table, Networks::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("nics_network_address")
                    .table(Nics::Table)
                    .col(Nics::NetworkId)
                    .col(Nics::Address)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("nics_vm_slot")
                    .table(Nics::Table)
                    .col(Nics::VmId)
                    .col(Nics::Slot)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NetworkRules::Table)
                    .col(pk_uuid(NetworkRules::Id))
                    .col(uuid(NetworkRules::NetworkId))
                    // tcp, udp, icmp or any.
                    .col(string_len(NetworkRules::Protocol, 8))
                    .col(integer_null(NetworkRules::PortFrom))
                    .col(integer_null(NetworkRules::PortTo))
                    // cidr (Source is `a.b.c.d/n`) or network (Source is its id).
                    .col(string_len(NetworkRules::SourceKind, 16))
                    .col(string_len(NetworkRules::Source, 64))
                    .col(string_len(NetworkRules::Description, 200))
                    .col(timestamp_with_time_zone(NetworkRules::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(NetworkRules::Table, NetworkRules::NetworkId)
                            .to(Networks::Table, Networks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("network_rules_network")
                    .table(NetworkRules::Table)
                    .col(NetworkRules::NetworkId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NetworkRules::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Nics::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Networks::Table).to_owned())
            .await
    }
}
