//! The dashboard use case: what this installation is and how much of everything exists.

use chrono::{DateTime, Utc};
use model::{AppError, Counts, DashboardInfo};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::entities::{node, organization, service, user, vm};
use crate::{internal, Control};

/// The version compiled into this binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Control {
    /// Version, backends, uptime at `now`, and the counts of every kind of resource.
    pub async fn dashboard(&self, now: DateTime<Utc>) -> Result<DashboardInfo, AppError> {
        let db = self.db();
        let counts = Counts {
            users: user::Entity::find().count(db).await.map_err(count_failed)?,
            organizations: organization::Entity::find()
                .count(db)
                .await
                .map_err(count_failed)?,
            nodes: node::Entity::find().count(db).await.map_err(count_failed)?,
            virtual_machines: vm::Entity::find().count(db).await.map_err(count_failed)?,
            services: service::Entity::find()
                .count(db)
                .await
                .map_err(count_failed)?,
        };
        let uptime = (now - self.started_at()).num_seconds().max(0);
        Ok(DashboardInfo {
            version: VERSION.to_owned(),
            database: self.backend(),
            events: self.events(),
            uptime_seconds: u64::try_from(uptime).unwrap_or(0),
            counts,
        })
    }
}

fn count_failed(e: sea_orm::DbErr) -> AppError {
    internal("dashboard counts", e)
}
