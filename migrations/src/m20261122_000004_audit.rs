//! The audit log: one row per change (or refused attempt), written in the change's transaction.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    ActorName,
    ClientIp,
    UserAgent,
    OrganizationId,
    ResourceType,
    ResourceId,
    Action,
    Outcome,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_auto(AuditLog::Id).big_integer())
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::ActorName, 64))
                    .col(string_len(AuditLog::ClientIp, 64))
                    .col(string_len(AuditLog::UserAgent, 256))
                    .col(uuid_null(AuditLog::OrganizationId))
                    .col(string_len(AuditLog::ResourceType, 32))
                    .col(string_len(AuditLog::ResourceId, 128))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Outcome, 16))
                    .col(text(AuditLog::Detail))
                    .to_owned(),
            )
            .await?;
        // Keyset pages are `ORDER BY id DESC` under each common filter.
        for (name, col) in [
            ("audit_log_org", AuditLog::OrganizationId),
            ("audit_log_actor", AuditLog::ActorId),
            ("audit_log_action", AuditLog::Action),
            ("audit_log_at", AuditLog::At),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(col)
                        .col(AuditLog::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("audit_log_resource")
                    .table(AuditLog::Table)
                    .col(AuditLog::ResourceType)
                    .col(AuditLog::ResourceId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
