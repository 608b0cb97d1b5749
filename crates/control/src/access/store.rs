//! The engine's tuple store over the `relation_tuples` table, on any connection or transaction.

use std::sync::Arc;

use authz::{Object, StoreError, Subject, TupleStore};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::relation_tuple::{Column, Entity};

/// Reads tuples through `conn` (the pool, or the transaction making a change).
pub struct DbStore<'c, C> {
    conn: &'c C,
}

impl<'c, C> DbStore<'c, C> {
    pub fn new(conn: &'c C) -> Self {
        Self { conn }
    }
}

/// Most ids put in one `IN (...)` list.
const CHUNK: usize = 500;

fn fail(e: sea_orm::DbErr) -> StoreError {
    StoreError(e.to_string())
}

impl<C: ConnectionTrait + Sync> TupleStore for DbStore<'_, C> {
    async fn subjects(
        &self,
        object: &Object,
        relation: &str,
    ) -> Result<Arc<[Subject]>, StoreError> {
        let rows: Vec<(String, String, String)> = Entity::find()
            .select_only()
            .column(Column::SubjectType)
            .column(Column::SubjectId)
            .column(Column::SubjectRelation)
            .filter(Column::EntityType.eq(object.kind.as_str()))
            .filter(Column::EntityId.eq(object.id.as_str()))
            .filter(Column::Relation.eq(relation))
            .into_tuple()
            .all(self.conn)
            .await
            .map_err(fail)?;
        Ok(rows
            .into_iter()
            .map(|(kind, id, rel)| Subject {
                kind,
                id,
                relation: (!rel.is_empty()).then_some(rel),
            })
            .collect())
    }

    async fn objects(
        &self,
        kind: &str,
        relation: &str,
        subject_kind: &str,
        subject_relation: Option<&str>,
        subject_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in subject_ids.chunks(CHUNK) {
            let rows: Vec<(String, String)> = Entity::find()
                .select_only()
                .column(Column::SubjectId)
                .column(Column::EntityId)
                .filter(Column::SubjectType.eq(subject_kind))
                .filter(Column::SubjectRelation.eq(subject_relation.unwrap_or("")))
                .filter(Column::SubjectId.is_in(chunk.iter().map(String::as_str)))
                .filter(Column::EntityType.eq(kind))
                .filter(Column::Relation.eq(relation))
                .into_tuple()
                .all(self.conn)
                .await
                .map_err(fail)?;
            out.extend(rows);
        }
        Ok(out)
    }
}
