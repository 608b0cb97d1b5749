//! Agents: a node joins with a single-use token and is known afterwards by the SHA-256 of the
//! certificate the control plane's CA signed for it; the CA itself is one row, shared by every
//! instance on the database. Nodes also keep the inventory their agent reports.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Nodes {
    Table,
    Id,
    CertSha256,
    JoinedAt,
    Accel,
    QemuVersion,
    DiskFreeGb,
    Labels,
    AgentVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum JoinTokens {
    Table,
    Id,
    NodeId,
    SecretSha256,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    CreatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum NodeAuthority {
    Table,
    Id,
    CertPem,
    KeyPem,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE; new NOT NULL columns need defaults.
        let columns = [
            string_null(Nodes::CertSha256).to_owned(),
            timestamp_with_time_zone_null(Nodes::JoinedAt).to_owned(),
            string(Nodes::Accel).default("").to_owned(),
            string_null(Nodes::QemuVersion).to_owned(),
            big_integer(Nodes::DiskFreeGb).default(0).to_owned(),
            text(Nodes::Labels).default("{}").to_owned(),
            string_null(Nodes::AgentVersion).to_owned(),
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
            .create_index(
                Index::create()
                    .name("idx_nodes_cert_sha256")
                    .table(Nodes::Table)
                    .col(Nodes::CertSha256)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JoinTokens::Table)
                    .if_not_exists()
                    .col(uuid(JoinTokens::Id).primary_key())
                    .col(uuid(JoinTokens::NodeId))
                    .col(string_uniq(JoinTokens::SecretSha256))
                    .col(timestamp_with_time_zone(JoinTokens::CreatedAt))
                    .col(timestamp_with_time_zone(JoinTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(JoinTokens::UsedAt))
                    .col(uuid_null(JoinTokens::CreatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JoinTokens::Table, JoinTokens::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NodeAuthority::Table)
                    .if_not_exists()
                    .col(integer(NodeAuthority::Id).primary_key())
                    .col(text(NodeAuthority::CertPem))
                    .col(text(NodeAuthority::KeyPem))
                    .col(timestamp_with_time_zone(NodeAuthority::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NodeAuthority::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(JoinTokens::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_nodes_cert_sha256")
                    .table(Nodes::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Nodes::CertSha256,
            Nodes::JoinedAt,
            Nodes::Accel,
            Nodes::QemuVersion,
            Nodes::DiskFreeGb,
            Nodes::Labels,
            Nodes::AgentVersion,
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
