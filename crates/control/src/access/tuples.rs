//! Writing and deleting tuples, always inside the caller's transaction and always bumping the
//! revision in that same transaction, so caches see the change the moment it commits.

use authz::{Object, Subject, Tuple};
use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::model::{Kind, Rel, Resource};
use super::Authorized;
use crate::entities::relation_tuple::{self, Column, Entity};
use crate::internal;

/// `resource#rel@subject`.
pub fn tuple(resource: &Resource, rel: Rel, subject: Subject) -> Tuple {
    Tuple::new(resource.object(), rel.as_str(), subject)
}

/// `resource#rel@kind:id` for a plain object subject.
pub fn points_to(resource: &Resource, rel: Rel, kind: Kind, id: &str) -> Tuple {
    tuple(resource, rel, Subject::new(kind.as_str(), id))
}

/// Bumps the revision; every write calls this in its transaction.
pub async fn bump<C: ConnectionTrait>(conn: &C) -> Result<(), AppError> {
    conn.execute_unprepared("UPDATE authz_revision SET revision = revision + 1 WHERE id = 1")
        .await
        .map(|_| ())
        .map_err(|e| internal("bump authz revision", e))
}

/// The revision as of now.
pub async fn revision<C: ConnectionTrait>(conn: &C) -> Result<i64, AppError> {
    let row = conn
        .query_one(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT revision FROM authz_revision WHERE id = 1",
        ))
        .await
        .map_err(|e| internal("read authz revision", e))?
        .ok_or_else(|| internal("read authz revision", "no revision row"))?;
    row.try_get::<i64>("", "revision")
        .map_err(|e| internal("read authz revision", e))
}

/// What a resource made in an organization starts with: it belongs to the organization and
/// its creator owns it.
pub fn created_in(
    resource: &Resource,
    org: sea_orm::prelude::Uuid,
    creator: sea_orm::prelude::Uuid,
) -> [Tuple; 2] {
    [
        points_to(
            resource,
            Rel::Organization,
            Kind::Organization,
            &org.to_string(),
        ),
        tuple(resource, Rel::Owner, crate::access::model::user(creator)),
    ]
}

/// Adds tuples (already present ones are left alone).
pub async fn write<C: ConnectionTrait>(
    conn: &C,
    _allowed: &Authorized,
    tuples: &[Tuple],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if tuples.is_empty() {
        return Ok(());
    }
    let rows = tuples.iter().map(|t| relation_tuple::ActiveModel {
        entity_type: Set(t.object.kind.clone()),
        entity_id: Set(t.object.id.clone()),
        relation: Set(t.relation.clone()),
        subject_type: Set(t.subject.kind.clone()),
        subject_id: Set(t.subject.id.clone()),
        subject_relation: Set(t.subject.relation.clone().unwrap_or_default()),
        created_at: Set(now),
        ..Default::default()
    });
    let result = Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                Column::EntityType,
                Column::EntityId,
                Column::Relation,
                Column::SubjectType,
                Column::SubjectId,
                Column::SubjectRelation,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await;
    match result {
        Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => bump(conn).await,
        Err(e) => Err(internal("write tuples", e)),
    }
}

/// Removes one tuple; returns whether it existed.
pub async fn delete<C: ConnectionTrait>(
    conn: &C,
    _allowed: &Authorized,
    t: &Tuple,
) -> Result<bool, AppError> {
    let done = Entity::delete_many()
        .filter(Column::EntityType.eq(t.object.kind.as_str()))
        .filter(Column::EntityId.eq(t.object.id.as_str()))
        .filter(Column::Relation.eq(t.relation.as_str()))
        .filter(Column::SubjectType.eq(t.subject.kind.as_str()))
        .filter(Column::SubjectId.eq(t.subject.id.as_str()))
        .filter(Column::SubjectRelation.eq(t.subject.relation.clone().unwrap_or_default()))
        .exec(conn)
        .await
        .map_err(|e| internal("delete tuple", e))?;
    bump(conn).await?;
    Ok(done.rows_affected > 0)
}

/// Removes every tuple about `object`, as the entity and as the subject.
pub async fn delete_object<C: ConnectionTrait>(
    conn: &C,
    _allowed: &Authorized,
    object: &Object,
) -> Result<(), AppError> {
    Entity::delete_many()
        .filter(
            Expr::col(Column::EntityType)
                .eq(object.kind.as_str())
                .and(Expr::col(Column::EntityId).eq(object.id.as_str()))
                .or(Expr::col(Column::SubjectType)
                    .eq(object.kind.as_str())
                    .and(Expr::col(Column::SubjectId).eq(object.id.as_str()))),
        )
        .exec(conn)
        .await
        .map_err(|e| internal("delete tuples of object", e))?;
    bump(conn).await
}

/// Direct subjects of `resource#rel` (not a permission decision: the stored relation itself).
pub async fn direct<C: ConnectionTrait>(
    conn: &C,
    resource: &Resource,
    rel: Rel,
) -> Result<Vec<Subject>, AppError> {
    let rows = Entity::find()
        .filter(Column::EntityType.eq(resource.kind.as_str()))
        .filter(Column::EntityId.eq(resource.id.as_str()))
        .filter(Column::Relation.eq(rel.as_str()))
        .all(conn)
        .await
        .map_err(|e| internal("read tuples", e))?;
    Ok(rows
        .into_iter()
        .map(|r| Subject {
            kind: r.subject_type,
            id: r.subject_id,
            relation: (!r.subject_relation.is_empty()).then_some(r.subject_relation),
        })
        .collect())
}
