//! The node CA: made once by the first instance to start (one row that every instance on the
//! database shares, so an agent trusts them all), loaded by the others.

use std::sync::Arc;

use agent::pki::Authority;
use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::entities::node_authority;
use crate::{internal, Control};

const ROW: i32 = 1;

impl Control {
    /// The CA that signs node certificates, made on first use.
    pub async fn node_authority(&self, now: DateTime<Utc>) -> Result<Arc<Authority>, AppError> {
        self.authority
            .get_or_try_init(|| async { load_or_create(self, now).await.map(Arc::new) })
            .await
            .cloned()
    }
}

fn fail(e: impl std::fmt::Display) -> AppError {
    internal("node authority", e)
}

async fn load_or_create(control: &Control, now: DateTime<Utc>) -> Result<Authority, AppError> {
    let db = control.db();
    if let Some(row) = node_authority::Entity::find_by_id(ROW)
        .one(db)
        .await
        .map_err(fail)?
    {
        return Authority::from_pem(&row.cert_pem, &row.key_pem).map_err(fail);
    }
    let made = Authority::generate().map_err(fail)?;
    // Two instances starting together: the first insert wins and both read it back.
    node_authority::Entity::insert(node_authority::ActiveModel {
        id: Set(ROW),
        cert_pem: Set(made.cert_pem().to_owned()),
        key_pem: Set(made.key_pem()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(node_authority::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(fail)?;
    let row = node_authority::Entity::find_by_id(ROW)
        .one(db)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail("the node authority row is missing after its insert"))?;
    if row.cert_pem == made.cert_pem() {
        tracing::info!(sha256 = %made.sha256(), "made the node CA");
        return Ok(made);
    }
    // Another instance made it first.
    Authority::from_pem(&row.cert_pem, &row.key_pem).map_err(fail)
}
