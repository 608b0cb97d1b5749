//! Placement and quotas: nodes can be cordoned, overcommit their CPUs and memory by a ratio and
//! report when they were last seen; organizations get quotas that platform administrators set.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    Table,
    Cordoned,
    CpuOvercommitPct,
    MemoryOvercommitPct,
    LastSeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quotas {
    Table,
    OrganizationId,
    Vcpus,
    MemoryMb,
    DiskGb,
    Vms,
    Services,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE; new NOT NULL columns need defaults.
        let columns = [
            boolean(Nodes::Cordoned).default(false).to_owned(),
            integer(Nodes::CpuOvercommitPct).default(1600).to_owned(),
            integer(Nodes::MemoryOvercommitPct).default(100).to_owned(),
            timestamp_with_time_zone_null(Nodes::LastSeenAt).to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Nodes::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Quotas::Table)
                    .if_not_exists()
                    .col(uuid(Quotas::OrganizationId).primary_key())
                    .col(big_integer_null(Quotas::Vcpus))
                    .col(big_integer_null(Quotas::MemoryMb))
                    .col(big_integer_null(Quotas::DiskGb))
                    .col(big_integer_null(Quotas::Vms))
                    .col(big_integer_null(Quotas::Services))
                    .col(timestamp_with_time_zone(Quotas::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Quotas::Table, Quotas::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Quotas::Table).to_owned())
            .await?;
        for column in [
            Nodes::Cordoned,
            Nodes::CpuOvercommitPct,
            Nodes::MemoryOvercommitPct,
            Nodes::LastSeenAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Nodes::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
