//! Serializing changes to one row: lock it inside the change's transaction, then read it.
//!
//! A no-op write of the row's `generation` takes the row lock on PostgreSQL and the database's
//! write lock on SQLite, so two requests changing the same VM or service one after the other
//! each see what the other committed (a plain read first would let both act on the same state).

use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PrimaryKeyTrait, QueryFilter};

use crate::access::model::Kind;
use crate::access::not_found;
use crate::entities::{service, vm};
use crate::internal;

/// A table whose rows carry a generation that every change bumps.
pub(crate) trait Versioned: EntityTrait {
    /// The primary key column.
    const ID: Self::Column;
    /// The generation column.
    const GENERATION: Self::Column;
    /// What a missing row is called in the error.
    const KIND: Kind;
}

impl Versioned for vm::Entity {
    const ID: vm::Column = vm::Column::Id;
    const GENERATION: vm::Column = vm::Column::Generation;
    const KIND: Kind = Kind::Vm;
}

impl Versioned for service::Entity {
    const ID: service::Column = service::Column::Id;
    const GENERATION: service::Column = service::Column::Generation;
    const KIND: Kind = Kind::Service;
}

/// Locks the row `id` of `E` for the rest of `txn` and returns it as it is now.
pub(crate) async fn lock_row<E>(txn: &DatabaseTransaction, id: Uuid) -> Result<E::Model, AppError>
where
    E: Versioned,
    Uuid: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    let fail = |e| internal(&format!("lock {}", E::KIND.noun()), e);
    E::update_many()
        .col_expr(E::GENERATION, Expr::col(E::GENERATION).into())
        .filter(E::ID.eq(id))
        .exec(txn)
        .await
        .map_err(fail)?;
    E::find_by_id(id)
        .one(txn)
        .await
        .map_err(fail)?
        .ok_or_else(|| not_found(E::KIND))
}
