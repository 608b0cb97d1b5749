//! A deployment's step-by-step log: written as the rollout goes, streamed live to pages that
//! may read the service, and read back whole.

use chrono::{DateTime, Utc};
use model::events::{LiveEvent, EVENT_VERSION};
use model::services::DeploymentLogLine;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::not_found;
use crate::access::parse_id;
use crate::auth::{show_time, Caller};
use crate::entities::states::LogLevel;
use crate::entities::{deployment, deployment_log};
use crate::events::Envelope;
use crate::{internal, Control};

/// Writes one line through `conn` and returns it as pages show it.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    deployment_id: Uuid,
    level: LogLevel,
    message: &str,
    now: DateTime<Utc>,
) -> Result<DeploymentLogLine, AppError> {
    deployment_log::ActiveModel {
        deployment_id: Set(deployment_id),
        at: Set(now),
        level: Set(level),
        message: Set(message.to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| internal("write deployment log", e))?;
    Ok(DeploymentLogLine {
        at: show_time(now),
        level: level.as_str().to_owned(),
        message: message.to_owned(),
    })
}

impl Control {
    /// Sends a committed log line to everyone who may read the service.
    pub(crate) async fn publish_log(&self, dep: &deployment::Model, line: DeploymentLogLine) {
        let event = LiveEvent::Log {
            v: EVENT_VERSION,
            id: dep.service_id.to_string(),
            stream: dep.id.to_string(),
            line,
        };
        self.publish(Envelope::new(
            event,
            Some((Kind::Service, dep.service_id.to_string())),
            Permission::Read,
        ))
        .await;
    }

    /// Writes a line on its own and streams it.
    pub(crate) async fn log(
        &self,
        dep: &deployment::Model,
        level: LogLevel,
        message: &str,
    ) -> Result<(), AppError> {
        let line = append(self.db(), dep.id, level, message, self.now()).await?;
        tracing::info!(deployment = %dep.id, level = level.as_str(), "{message}");
        self.publish_log(dep, line).await;
        Ok(())
    }

    /// A deployment's whole log, oldest line first.
    pub async fn deployment_log(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<DeploymentLogLine>, AppError> {
        let id = parse_id(id, Kind::Service)?;
        let fail = |e| internal("load deployment log", e);
        let dep = deployment::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Service))?;
        self.authorize(
            caller,
            Permission::Read,
            &Resource::new(Kind::Service, dep.service_id),
        )
        .await?;
        Ok(deployment_log::Entity::find()
            .filter(deployment_log::Column::DeploymentId.eq(id))
            .order_by_asc(deployment_log::Column::Id)
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|l| DeploymentLogLine {
                at: show_time(l.at),
                level: l.level.as_str().to_owned(),
                message: l.message,
            })
            .collect())
    }
}
