//! Passkeys, server-side sessions, WebAuthn ceremonies and single-use links (invites, recovery).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    Name,
    CredentialId,
    Passkey,
    BackupEligible,
    BackupState,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    UserAgent,
    Ip,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Ceremonies {
    Table,
    Id,
    Kind,
    State,
    UserId,
    Username,
    DisplayName,
    LinkId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Links {
    Table,
    Id,
    TokenHash,
    Kind,
    UserId,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    UsedBy,
}

fn user_fk(
    from_table: impl IntoIden + 'static,
    from_col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(pk_uuid(Passkeys::Id))
                    .col(uuid(Passkeys::UserId))
                    .col(string_len(Passkeys::Name, 64))
                    .col(string_len_uniq(Passkeys::CredentialId, 1400))
                    .col(text(Passkeys::Passkey))
                    .col(boolean(Passkeys::BackupEligible))
                    .col(boolean(Passkeys::BackupState))
                    .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .foreign_key(&mut user_fk(Passkeys::Table, Passkeys::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("passkeys_user")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(string_len_uniq(Sessions::TokenHash, 64))
                    .col(uuid(Sessions::UserId))
                    .col(string_len(Sessions::UserAgent, 256))
                    .col(string_len(Sessions::Ip, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(&mut user_fk(Sessions::Table, Sessions::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Ceremonies::Table)
                    .col(pk_uuid(Ceremonies::Id))
                    .col(string_len(Ceremonies::Kind, 32))
                    .col(text(Ceremonies::State))
                    .col(uuid_null(Ceremonies::UserId))
                    .col(string_len_null(Ceremonies::Username, 64))
                    .col(string_len_null(Ceremonies::DisplayName, 128))
                    .col(uuid_null(Ceremonies::LinkId))
                    .col(timestamp_with_time_zone(Ceremonies::CreatedAt))
                    .col(timestamp_with_time_zone(Ceremonies::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Links::Table)
                    .col(pk_uuid(Links::Id))
                    .col(string_len_uniq(Links::TokenHash, 64))
                    .col(string_len(Links::Kind, 16))
                    .col(uuid_null(Links::UserId))
                    .col(uuid(Links::CreatedBy))
                    .col(timestamp_with_time_zone(Links::CreatedAt))
                    .col(timestamp_with_time_zone(Links::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Links::UsedAt))
                    .col(uuid_null(Links::UsedBy))
                    .foreign_key(&mut user_fk(Links::Table, Links::UserId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Links::Table.into_iden(),
            Ceremonies::Table.into_iden(),
            Sessions::Table.into_iden(),
            Passkeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
