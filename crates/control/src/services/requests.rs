//! Requests that change a service: save a configuration, deploy, roll back, scale, start, stop
//! and delete (creating one is [`super::create`]).
//!
//! Each request commits, in one transaction, what the service should run now (a new
//! generation), a numbered deployment with the first line of its log, a queued operation and
//! the audit row; the operation runner then rolls the replicas.

use chrono::{DateTime, Utc};
use model::services::{
    validate_shape, ConfigVersion, DeployRequest, DeploymentKind, DeploymentView, ServiceAction,
};
use model::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::changes::{next_version, save_version, Change, Requester};
use super::config::{blocking, check_config, compact};
use crate::access::model::{Kind, Permission, Resource};
use crate::access::not_found;
use crate::access::parse_id;
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::entities::states::Desired;
use crate::entities::{service, service_config};
use crate::locking::lock_row;
use crate::{internal, Control};

impl Control {
    /// Saves a new configuration version (checked against the schema); with `deploy`, rolls
    /// it out at once.
    pub async fn save_service_config(
        &self,
        caller: &Caller,
        id: &str,
        text: &str,
        deploy: bool,
        now: DateTime<Utc>,
    ) -> Result<ConfigVersion, AppError> {
        let id = parse_id(id, Kind::Service)?;
        let res = Resource::new(Kind::Service, id);
        let allowed = self
            .authorize_action(caller, Permission::Update, &res, Action::ServiceConfig)
            .await?;
        if deploy {
            self.authorize_action(caller, Permission::Deploy, &res, Action::ServiceDeploy)
                .await?;
        }
        let fail = |e| internal("save service config", e);
        // Checked before any lock or transaction, off the async threads: the schema never
        // changes after the service is created, so the check cannot go stale.
        let schema = service::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Service))?
            .config_schema;
        let owned = text.to_owned();
        let config = blocking(move || check_config(&schema, &owned)).await?;
        let txn = self.db().begin().await.map_err(fail)?;
        let row = lock_row::<service::Entity>(&txn, id).await?;
        let version = next_version(&txn, id).await?;
        save_version(&txn, id, version, &compact(&config), caller, "", now).await?;
        let entry = Entry::new(Action::ServiceConfig, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name, "version": version, "deploy": deploy }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        let dep = if deploy {
            let change = Change {
                config_version: Some(version),
                ..Default::default()
            };
            Some(
                self.request_deployment(
                    &txn,
                    &allowed,
                    &row,
                    change,
                    DeploymentKind::Deploy,
                    Requester::Person(caller),
                    now,
                )
                .await?,
            )
        } else {
            None
        };
        txn.commit().await.map_err(fail)?;
        match dep {
            Some((dep, line)) => self.after_request(&dep, line).await,
            None => self.publish_service(id).await,
        }
        Ok(ConfigVersion {
            version,
            config: super::config::pretty(&compact(&config)),
            author: Some(caller.username.clone()),
            created_at: crate::auth::show_time(now),
            note: String::new(),
        })
    }

    /// Saves version `version`'s configuration again as a new version and deploys it.
    pub async fn rollback_service(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        let id = parse_id(id, Kind::Service)?;
        let res = Resource::new(Kind::Service, id);
        let allowed = self
            .authorize_action(caller, Permission::Update, &res, Action::ServiceRollback)
            .await?;
        self.authorize_action(caller, Permission::Deploy, &res, Action::ServiceRollback)
            .await?;
        let fail = |e| internal("roll back service", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = lock_row::<service::Entity>(&txn, id).await?;
        let old = service_config::Entity::find()
            .filter(service_config::Column::ServiceId.eq(id))
            .filter(service_config::Column::Version.eq(version))
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| AppError::Invalid(format!("{} has no version {version}.", row.name)))?;
        let new_version = next_version(&txn, id).await?;
        let note = format!("Rolled back to version {version}");
        save_version(&txn, id, new_version, &old.config, caller, &note, now).await?;
        let change = Change {
            config_version: Some(new_version),
            ..Default::default()
        };
        let (dep, line) = self
            .request_deployment(
                &txn,
                &allowed,
                &row,
                change,
                DeploymentKind::Rollback,
                Requester::Person(caller),
                now,
            )
            .await?;
        let entry = Entry::new(Action::ServiceRollback, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name, "to": version, "version": new_version }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.after_request(&dep, line).await;
        self.deployment_view(dep).await
    }

    /// Deploys a configuration version, image or version label (None keeps the current one).
    pub async fn deploy_service(
        &self,
        caller: &Caller,
        id: &str,
        request: &DeployRequest,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        let id = parse_id(id, Kind::Service)?;
        let res = Resource::new(Kind::Service, id);
        let allowed = self
            .authorize_action(caller, Permission::Deploy, &res, Action::ServiceDeploy)
            .await?;
        let image_id = match request.image_id.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(asked) => Some(self.pick_image(caller, Some(asked)).await?.id),
            None => None,
        };
        if let Some(v) = &request.version {
            validate_shape(0, v).map_err(AppError::Invalid)?;
        }
        let fail = |e| internal("deploy service", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = lock_row::<service::Entity>(&txn, id).await?;
        if let Some(v) = request.config_version {
            let exists = service_config::Entity::find()
                .filter(service_config::Column::ServiceId.eq(id))
                .filter(service_config::Column::Version.eq(v))
                .one(&txn)
                .await
                .map_err(fail)?
                .is_some();
            if !exists {
                return Err(AppError::Invalid(format!(
                    "{} has no version {v}.",
                    row.name
                )));
            }
        }
        let change = Change {
            config_version: request.config_version,
            image_id,
            version: request.version.as_ref().map(|v| v.trim().to_owned()),
            expected_generation: request.expected_generation,
            ..Default::default()
        };
        let (dep, line) = self
            .request_deployment(
                &txn,
                &allowed,
                &row,
                change,
                DeploymentKind::Deploy,
                Requester::Person(caller),
                now,
            )
            .await?;
        let entry = Entry::new(Action::ServiceDeploy, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({
                "name": row.name, "config_version": dep.config_version, "version": dep.version,
            }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.after_request(&dep, line).await;
        self.deployment_view(dep).await
    }

    /// Changes how many replicas run.
    pub async fn scale_service(
        &self,
        caller: &Caller,
        id: &str,
        replicas: u32,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        self.scale_service_if(caller, id, replicas, None, now).await
    }

    /// [`Control::scale_service`], refused as stale unless the service is still at
    /// `generation` (when given), checked under the service's row lock.
    pub async fn scale_service_if(
        &self,
        caller: &Caller,
        id: &str,
        replicas: u32,
        generation: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        validate_shape(replicas, "1").map_err(AppError::Invalid)?;
        let change = Change {
            replicas: Some(i32::try_from(replicas).unwrap_or(0)),
            expected_generation: generation,
            ..Default::default()
        };
        self.simple_request(
            caller,
            id,
            Permission::Deploy,
            Action::ServiceScale,
            change,
            DeploymentKind::Scale,
            now,
        )
        .await
    }

    /// Starts or stops every replica.
    pub async fn service_action(
        &self,
        caller: &Caller,
        id: &str,
        action: ServiceAction,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        self.service_action_if(caller, id, action, None, now).await
    }

    /// [`Control::service_action`] with an expected generation.
    pub async fn service_action_if(
        &self,
        caller: &Caller,
        id: &str,
        action: ServiceAction,
        generation: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        let (permission, name, desired, kind) = match action {
            ServiceAction::Start => (
                Permission::Start,
                Action::ServiceStart,
                Desired::Running,
                DeploymentKind::Start,
            ),
            ServiceAction::Stop => (
                Permission::Stop,
                Action::ServiceStop,
                Desired::Stopped,
                DeploymentKind::Stop,
            ),
        };
        let change = Change {
            desired_state: Some(desired),
            expected_generation: generation,
            ..Default::default()
        };
        self.simple_request(caller, id, permission, name, change, kind, now)
            .await
    }

    /// Removes every replica, then the service with its history and grants.
    pub async fn delete_service(
        &self,
        caller: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        self.delete_service_if(caller, id, None, now).await
    }

    /// [`Control::delete_service`] with an expected generation.
    pub async fn delete_service_if(
        &self,
        caller: &Caller,
        id: &str,
        generation: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        let change = Change {
            desired_state: Some(Desired::Deleted),
            expected_generation: generation,
            ..Default::default()
        };
        self.simple_request(
            caller,
            id,
            Permission::Delete,
            Action::ServiceDelete,
            change,
            DeploymentKind::Delete,
            now,
        )
        .await
    }
}
