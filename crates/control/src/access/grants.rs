//! Grants that follow from facts outside the tuple table: every account is a platform member,
//! the first account a platform admin, and every organization and node belongs to the platform.
//!
//! New rows write these in their own transaction (sign-up, organization creation); at start
//! [`ensure_platform_grants`] adds any that are missing, for data made before the engine.

use std::collections::HashSet;

use authz::Tuple;
use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};

use super::model::{self as m, Kind, Rel, Resource};
use super::tuples;
use crate::access::Authorized;
use crate::entities::{node, organization, relation_tuple, user};
use crate::internal;

/// What an account holds on the platform.
pub fn account_grants(user_id: Uuid, admin: bool) -> Vec<Tuple> {
    let platform = Resource::platform();
    let mut out = vec![tuples::tuple(&platform, Rel::Member, m::user(user_id))];
    if admin {
        out.push(tuples::tuple(&platform, Rel::Admin, m::user(user_id)));
    }
    out
}

/// Adds every platform grant the rows imply and the tuple table lacks. Idempotent.
pub async fn ensure_platform_grants(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fail = |e| internal("platform grants", e);
    let mut wanted: Vec<Tuple> = Vec::new();
    for u in user::Entity::find().all(db).await.map_err(fail)? {
        wanted.extend(account_grants(u.id, u.is_admin));
    }
    for o in organization::Entity::find().all(db).await.map_err(fail)? {
        wanted.push(tuples::points_to(
            &Resource::organization(o.id),
            Rel::Platform,
            Kind::Platform,
            m::PLATFORM_ID,
        ));
    }
    for n in node::Entity::find().all(db).await.map_err(fail)? {
        wanted.push(tuples::points_to(
            &Resource::new(Kind::Node, n.id),
            Rel::Platform,
            Kind::Platform,
            m::PLATFORM_ID,
        ));
    }
    let existing: HashSet<(String, String, String, String, String)> =
        relation_tuple::Entity::find()
            .filter(relation_tuple::Column::Relation.is_in(["member", "admin", "platform"]))
            .all(db)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|t| {
                (
                    t.entity_type,
                    t.entity_id,
                    t.relation,
                    t.subject_type,
                    t.subject_id,
                )
            })
            .collect();
    let missing: Vec<Tuple> = wanted
        .into_iter()
        .filter(|t| {
            !existing.contains(&(
                t.object.kind.clone(),
                t.object.id.clone(),
                t.relation.clone(),
                t.subject.kind.clone(),
                t.subject.id.clone(),
            ))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await.map_err(fail)?;
    for chunk in missing.chunks(500) {
        tuples::write(
            &txn,
            &Authorized::system("start-up: platform grants"),
            chunk,
            now,
        )
        .await?;
    }
    txn.commit().await.map_err(fail)?;
    tracing::info!(count = missing.len(), "platform grants added");
    Ok(())
}
