//! Services: a service's shape and desired state, its numbered configuration versions, its
//! deployments with their step-by-step logs, replicas as VMs that name their service, and a
//! region on nodes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Services {
    Table,
    Description,
    Region,
    ImageId,
    Version,
    Replicas,
    CpuCount,
    MemoryMb,
    ConfigSchema,
    ConfigVersion,
    DesiredState,
    Generation,
    DeployedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceConfigs {
    Table,
    Id,
    ServiceId,
    Version,
    Config,
    Author,
    Note,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Deployments {
    Table,
    Id,
    ServiceId,
    Number,
    Kind,
    State,
    ConfigVersion,
    ImageId,
    Version,
    Replicas,
    DesiredState,
    Generation,
    OperationId,
    RequestedBy,
    Error,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DeploymentLogs {
    Table,
    Id,
    DeploymentId,
    At,
    Level,
    Message,
}

#[derive(DeriveIden, Clone, Copy)]
enum Vms {
    Table,
    ServiceId,
    ConfigVersion,
    ServiceVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    Table,
    Region,
}

async fn add_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Copy + 'static,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    // SQLite adds one column per ALTER TABLE; new NOT NULL columns need defaults.
    for mut column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            Services::Table,
            vec![
                text(Services::Description).default("").to_owned(),
                string_len(Services::Region, 64).default("local").to_owned(),
                uuid_null(Services::ImageId).to_owned(),
                string_len(Services::Version, 64).default("1").to_owned(),
                integer(Services::Replicas).default(1).to_owned(),
                integer(Services::CpuCount).default(1).to_owned(),
                integer(Services::MemoryMb).default(128).to_owned(),
                text(Services::ConfigSchema).default("").to_owned(),
                big_integer(Services::ConfigVersion).default(1).to_owned(),
                string_len(Services::DesiredState, 16)
                    .default("running")
                    .to_owned(),
                big_integer(Services::Generation).default(1).to_owned(),
                timestamp_with_time_zone_null(Services::DeployedAt).to_owned(),
                timestamp_with_time_zone_null(Services::UpdatedAt).to_owned(),
            ],
        )
        .await?;
        add_columns(
            manager,
            Vms::Table,
            vec![
                uuid_null(Vms::ServiceId).to_owned(),
                big_integer_null(Vms::ConfigVersion).to_owned(),
                string_len_null(Vms::ServiceVersion, 64).to_owned(),
            ],
        )
        .await?;
        add_columns(
            manager,
            Nodes::Table,
            vec![string_len(Nodes::Region, 64).default("local").to_owned()],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("vms_service")
                    .table(Vms::Table)
                    .col(Vms::ServiceId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServiceConfigs::Table)
                    .col(pk_auto(ServiceConfigs::Id).big_integer())
                    .col(uuid(ServiceConfigs::ServiceId))
                    .col(big_integer(ServiceConfigs::Version))
                    .col(text(ServiceConfigs::Config))
                    .col(uuid_null(ServiceConfigs::Author))
                    .col(text(ServiceConfigs::Note).default(""))
                    .col(timestamp_with_time_zone(ServiceConfigs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("service_configs_version")
                    .table(ServiceConfigs::Table)
                    .col(ServiceConfigs::ServiceId)
                    .col(ServiceConfigs::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deployments::Table)
                    .col(pk_uuid(Deployments::Id))
                    .col(uuid(Deployments::ServiceId))
                    .col(big_integer(Deployments::Number))
                    .col(string_len(Deployments::Kind, 16))
                    .col(string_len(Deployments::State, 16))
                    .col(big_integer(Deployments::ConfigVersion))
                    .col(uuid_null(Deployments::ImageId))
                    .col(string_len(Deployments::Version, 64))
                    .col(integer(Deployments::Replicas))
                    .col(string_len(Deployments::DesiredState, 16))
                    .col(big_integer(Deployments::Generation))
                    .col(uuid_null(Deployments::OperationId))
                    .col(uuid_null(Deployments::RequestedBy))
                    .col(text_null(Deployments::Error))
                    .col(timestamp_with_time_zone(Deployments::CreatedAt))
                    .col(timestamp_with_time_zone_null(Deployments::FinishedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "deployments_number",
                vec![Deployments::ServiceId, Deployments::Number],
                true,
            ),
            (
                "deployments_operation",
                vec![Deployments::OperationId],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Deployments::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(DeploymentLogs::Table)
                    .col(pk_auto(DeploymentLogs::Id).big_integer())
                    .col(uuid(DeploymentLogs::DeploymentId))
                    .col(timestamp_with_time_zone(DeploymentLogs::At))
                    .col(string_len(DeploymentLogs::Level, 8))
                    .col(text(DeploymentLogs::Message))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deployment_logs_deployment")
                    .table(DeploymentLogs::Table)
                    .col(DeploymentLogs::DeploymentId)
                    .col(DeploymentLogs::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DeploymentLogs::Table.into_iden(),
            Deployments::Table.into_iden(),
            ServiceConfigs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("vms_service")
                    .table(Vms::Table)
                    .to_owned(),
            )
            .await?;
        for col in [Vms::ServiceId, Vms::ConfigVersion, Vms::ServiceVersion] {
            manager
                .alter_table(Table::alter().table(Vms::Table).drop_column(col).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Nodes::Table)
                    .drop_column(Nodes::Region)
                    .to_owned(),
            )
            .await?;
        for col in [
            Services::Description,
            Services::Region,
            Services::ImageId,
            Services::Version,
            Services::Replicas,
            Services::CpuCount,
            Services::MemoryMb,
            Services::ConfigSchema,
            Services::ConfigVersion,
            Services::DesiredState,
            Services::Generation,
            Services::DeployedAt,
            Services::UpdatedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Services::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
