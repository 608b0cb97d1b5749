//! The first tables: people, organizations, nodes and the resources the dashboard counts.
//!
//! Later issues grow `vms` and `services` with their own columns in new migrations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    IsAdmin,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
    Name,
    Address,
    IsLocal,
    CpuCount,
    MemoryMb,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Vms {
    Table,
    Id,
    Name,
    OrganizationId,
    NodeId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    Name,
    OrganizationId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len_uniq(Users::Username, 64))
                    .col(string_len(Users::DisplayName, 128))
                    .col(boolean(Users::IsAdmin).default(false))
                    .col(boolean(Users::Disabled).default(false))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(pk_uuid(Organizations::Id))
                    .col(string_len_uniq(Organizations::Name, 64))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Nodes::Table)
                    .col(pk_uuid(Nodes::Id))
                    .col(string_len_uniq(Nodes::Name, 64))
                    .col(string(Nodes::Address))
                    .col(boolean(Nodes::IsLocal).default(false))
                    .col(integer(Nodes::CpuCount))
                    .col(big_integer(Nodes::MemoryMb))
                    .col(timestamp_with_time_zone(Nodes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Vms::Table)
                    .col(pk_uuid(Vms::Id))
                    .col(string_len(Vms::Name, 64))
                    .col(uuid(Vms::OrganizationId))
                    .col(uuid_null(Vms::NodeId))
                    .col(timestamp_with_time_zone(Vms::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Vms::Table, Vms::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Vms::Table, Vms::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("vms_org_name")
                    .table(Vms::Table)
                    .col(Vms::OrganizationId)
                    .col(Vms::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Services::Table)
                    .col(pk_uuid(Services::Id))
                    .col(string_len(Services::Name, 64))
                    .col(uuid(Services::OrganizationId))
                    .col(timestamp_with_time_zone(Services::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Services::Table, Services::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("services_org_name")
                    .table(Services::Table)
                    .col(Services::OrganizationId)
                    .col(Services::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Services::Table.into_iden(),
            Vms::Table.into_iden(),
            Nodes::Table.into_iden(),
            Organizations::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
