//! Compute: the image catalog, a VM's spec and lifecycle columns, its event timeline, and
//! durable operations (long work that survives a restart of the control plane).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
    Name,
    Os,
    Format,
    KernelPath,
    InitrdPath,
    DiskPath,
    Cmdline,
    BootMarker,
    SizeBytes,
    Sha256,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Vms {
    Table,
    Description,
    ImageId,
    CpuCount,
    MemoryMb,
    DiskGb,
    DesiredState,
    ObservedState,
    StateReason,
    Generation,
    ObservedGeneration,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum VmEvents {
    Table,
    Id,
    VmId,
    At,
    Kind,
    Message,
}

#[derive(DeriveIden)]
enum Operations {
    Table,
    Id,
    Kind,
    TargetType,
    TargetId,
    OrganizationId,
    RequestedBy,
    Generation,
    State,
    Steps,
    Attempt,
    MaxAttempts,
    Error,
    NotBefore,
    LeaseOwner,
    LeaseExpires,
    CancelRequested,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Images::Table)
                    .col(pk_uuid(Images::Id))
                    .col(string_len_uniq(Images::Name, 64))
                    .col(string_len(Images::Os, 64))
                    .col(string_len(Images::Format, 16))
                    .col(text_null(Images::KernelPath))
                    .col(text_null(Images::InitrdPath))
                    .col(text_null(Images::DiskPath))
                    .col(text(Images::Cmdline).default(""))
                    .col(string_len_null(Images::BootMarker, 128))
                    .col(big_integer(Images::SizeBytes))
                    .col(string_len(Images::Sha256, 64))
                    .col(timestamp_with_time_zone(Images::CreatedAt))
                    .to_owned(),
            )
            .await?;

        // SQLite adds one column per ALTER TABLE; new NOT NULL columns need defaults.
        let columns = [
            text(Vms::Description).default("").to_owned(),
            uuid_null(Vms::ImageId).to_owned(),
            integer(Vms::CpuCount).default(1).to_owned(),
            integer(Vms::MemoryMb).default(256).to_owned(),
            integer(Vms::DiskGb).default(1).to_owned(),
            string_len(Vms::DesiredState, 16)
                .default("stopped")
                .to_owned(),
            string_len(Vms::ObservedState, 16)
                .default("stopped")
                .to_owned(),
            text_null(Vms::StateReason).to_owned(),
            big_integer(Vms::Generation).default(1).to_owned(),
            big_integer(Vms::ObservedGeneration).default(0).to_owned(),
            timestamp_with_time_zone_null(Vms::UpdatedAt).to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Vms::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(VmEvents::Table)
                    .col(pk_auto(VmEvents::Id).big_integer())
                    .col(uuid(VmEvents::VmId))
                    .col(timestamp_with_time_zone(VmEvents::At))
                    .col(string_len(VmEvents::Kind, 32))
                    .col(text(VmEvents::Message))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("vm_events_vm")
                    .table(VmEvents::Table)
                    .col(VmEvents::VmId)
                    .col(VmEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Operations::Table)
                    .col(pk_uuid(Operations::Id))
                    .col(string_len(Operations::Kind, 32))
                    .col(string_len(Operations::TargetType, 16))
                    .col(string_len(Operations::TargetId, 64))
                    .col(uuid_null(Operations::OrganizationId))
                    .col(uuid_null(Operations::RequestedBy))
                    .col(big_integer(Operations::Generation))
                    .col(string_len(Operations::State, 16))
                    .col(text(Operations::Steps))
                    .col(integer(Operations::Attempt))
                    .col(integer(Operations::MaxAttempts))
                    .col(text_null(Operations::Error))
                    .col(timestamp_with_time_zone(Operations::NotBefore))
                    .col(string_len_null(Operations::LeaseOwner, 64))
                    .col(timestamp_with_time_zone_null(Operations::LeaseExpires))
                    .col(boolean(Operations::CancelRequested).default(false))
                    .col(timestamp_with_time_zone(Operations::CreatedAt))
                    .col(timestamp_with_time_zone(Operations::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Operations::FinishedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "operations_state",
                vec![Operations::State, Operations::CreatedAt],
            ),
            (
                "operations_target",
                vec![
                    Operations::TargetType,
                    Operations::TargetId,
                    Operations::CreatedAt,
                ],
            ),
            (
                "operations_org",
                vec![Operations::OrganizationId, Operations::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Operations::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Operations::Table.into_iden(),
            VmEvents::Table.into_iden(),
            Images::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for col in [
            Vms::Description,
            Vms::ImageId,
            Vms::CpuCount,
            Vms::MemoryMb,
            Vms::DiskGb,
            Vms::DesiredState,
            Vms::ObservedState,
            Vms::StateReason,
            Vms::Generation,
            Vms::ObservedGeneration,
            Vms::UpdatedAt,
        ] {
            manager
                .alter_table(Table::alter().table(Vms::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
