//! The dashboard use case: what this installation is and how much of everything the caller
//! may see (counts come from the permission engine's lookups, never from whole tables).

use chrono::{DateTime, Utc};
use model::{AppError, Counts, DashboardInfo};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use crate::access::model::{Kind, Permission, Resource};
use crate::auth::Caller;
use crate::entities::{relation_tuple, user};
use crate::{internal, Control};

/// The version compiled into this binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Control {
    /// Version, backends, uptime at `now`, and how many of each kind of resource the caller may
    /// see. People: everyone for platform admins, otherwise the people in the caller's
    /// organizations.
    pub async fn dashboard(
        &self,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<DashboardInfo, AppError> {
        let orgs = self
            .visible(caller, Permission::View, Kind::Organization)
            .await?;
        let admin = self
            .can(Some(caller), Permission::ManageUsers, &Resource::platform())
            .await?;
        let users = if admin {
            user::Entity::find()
                .count(self.db())
                .await
                .map_err(count_failed)?
        } else {
            let mut people: Vec<String> = Vec::new();
            for chunk in orgs.chunks(500) {
                people.extend(
                    relation_tuple::Entity::find()
                        .select_only()
                        .column(relation_tuple::Column::SubjectId)
                        .filter(relation_tuple::Column::EntityType.eq("organization"))
                        .filter(relation_tuple::Column::EntityId.is_in(chunk.iter().cloned()))
                        .filter(relation_tuple::Column::Relation.is_in(["owner", "member"]))
                        .into_tuple::<String>()
                        .all(self.db())
                        .await
                        .map_err(count_failed)?,
                );
            }
            people.push(caller.user_id.to_string());
            people.sort();
            people.dedup();
            people.len() as u64
        };
        let count = |ids: Vec<String>| ids.len() as u64;
        let counts = Counts {
            users,
            organizations: orgs.len() as u64,
            nodes: count(self.visible(caller, Permission::Read, Kind::Node).await?),
            virtual_machines: count(self.visible(caller, Permission::Read, Kind::Vm).await?),
            services: count(
                self.visible(caller, Permission::Read, Kind::Service)
                    .await?,
            ),
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
