//! Relation tuples for the permission engine, and the revision every tuple write bumps.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RelationTuples {
    Table,
    Id,
    EntityType,
    EntityId,
    Relation,
    SubjectType,
    SubjectId,
    /// Empty for a plain subject, so the unique index treats it like any other value.
    SubjectRelation,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuthzRevision {
    Table,
    Id,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RelationTuples::Table)
                    .col(pk_auto(RelationTuples::Id).big_integer())
                    .col(string_len(RelationTuples::EntityType, 32))
                    .col(string_len(RelationTuples::EntityId, 128))
                    .col(string_len(RelationTuples::Relation, 64))
                    .col(string_len(RelationTuples::SubjectType, 32))
                    .col(string_len(RelationTuples::SubjectId, 128))
                    .col(string_len(RelationTuples::SubjectRelation, 64).default(""))
                    .col(timestamp_with_time_zone(RelationTuples::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // Forward: the subjects of one object's relation (check, lookup_subjects).
        manager
            .create_index(
                Index::create()
                    .name("relation_tuples_unique")
                    .table(RelationTuples::Table)
                    .col(RelationTuples::EntityType)
                    .col(RelationTuples::EntityId)
                    .col(RelationTuples::Relation)
                    .col(RelationTuples::SubjectType)
                    .col(RelationTuples::SubjectId)
                    .col(RelationTuples::SubjectRelation)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Reverse: the objects that name a subject (lookup_resources).
        manager
            .create_index(
                Index::create()
                    .name("relation_tuples_reverse")
                    .table(RelationTuples::Table)
                    .col(RelationTuples::SubjectType)
                    .col(RelationTuples::SubjectRelation)
                    .col(RelationTuples::SubjectId)
                    .col(RelationTuples::EntityType)
                    .col(RelationTuples::Relation)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuthzRevision::Table)
                    .col(integer(AuthzRevision::Id).primary_key())
                    .col(big_integer(AuthzRevision::Revision))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuthzRevision::Table)
                    .columns([AuthzRevision::Id, AuthzRevision::Revision])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthzRevision::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RelationTuples::Table).to_owned())
            .await
    }
}
