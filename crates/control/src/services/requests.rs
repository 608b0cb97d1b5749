//! Requests that change a service: create, save a configuration, deploy, roll back, scale,
//! start, stop and delete.
//!
//! Each request commits, in one transaction, what the service should run now (a new
//! generation), a numbered deployment with the first line of its log, a queued operation and
//! the audit row; the operation runner then rolls the replicas.

use chrono::{DateTime, Utc};
use model::services::{
    validate_shape, ConfigVersion, DeployRequest, DeploymentKind, DeploymentView, NewService,
    ServiceAction, ServiceSummary,
};
use model::vms::{validate_spec, validate_vm_name, NewVm, MAX_DESCRIPTION};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use super::changes::{next_version, queue_deployment, save_version, Change};
use super::config::{blocking, check_config, compact, parse_schema};
use crate::access::model::{self as m, Kind, Permission, Rel, Resource};
use crate::access::parse_id;
use crate::access::{not_found, tuples};
use crate::audit::Action;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::entities::states::Desired;
use crate::entities::{node, organization, service, service_config};
use crate::locking::lock_row;
use crate::{internal, Control};

impl Control {
    /// Creates a service in an organization and queues its first rollout; the creator owns it.
    pub async fn create_service(
        &self,
        caller: &Caller,
        new: &NewService,
        now: DateTime<Utc>,
    ) -> Result<ServiceSummary, AppError> {
        let org_id = parse_id(&new.organization_id, Kind::Organization)?;
        let allowed = self
            .authorize_action(
                caller,
                Permission::CreateService,
                &Resource::organization(org_id),
                Action::ServiceCreate,
            )
            .await?;
        let name = new.name.trim();
        validate_vm_name(name).map_err(|e| AppError::Invalid(e.replace("A VM", "A service")))?;
        model::text::check_text("Description", &new.description, MAX_DESCRIPTION, true)
            .map_err(AppError::Invalid)?;
        validate_shape(new.replicas, &new.version).map_err(AppError::Invalid)?;
        let fail = |e| internal("create service", e);
        let local = node::Entity::find_by_id(self.local_node())
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| internal("create service", "the local node is not registered"))?;
        let mut shape = NewVm::named(&new.organization_id, name);
        shape.cpu_count = new.cpu_count;
        shape.memory_mb = new.memory_mb;
        validate_spec(&shape, u32::try_from(local.cpu_count).unwrap_or(1))
            .map_err(AppError::Invalid)?;
        let region = self.pick_region(new.region.trim(), &local).await?;
        let img = self.pick_image(caller, new.image_id.as_deref()).await?;
        let (schema, text) = (new.config_schema.clone(), new.config.clone());
        let config = blocking(move || {
            parse_schema(&schema)?;
            check_config(&schema, &text)
        })
        .await?;
        let org = organization::Entity::find_by_id(org_id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Organization))?;

        let txn = self.db().begin().await.map_err(fail)?;
        let id = Uuid::new_v4();
        let row = new_row(id, name, org_id, &region, img.id, new, now)
            .insert(&txn)
            .await
            .map_err(|e| {
                crate::error::unique_or(
                    e,
                    AppError::Conflict(format!(
                        "{} already has a service called {name}.",
                        org.name
                    )),
                    "create service",
                )
            })?;
        save_version(&txn, id, 1, &compact(&config), caller, "First version", now).await?;
        let res = Resource::new(Kind::Service, id);
        tuples::write(
            &txn,
            &allowed,
            &[
                tuples::points_to(
                    &res,
                    Rel::Organization,
                    Kind::Organization,
                    &org_id.to_string(),
                ),
                tuples::tuple(&res, Rel::Owner, m::user(caller.user_id)),
            ],
            now,
        )
        .await?;
        let (dep, line) =
            queue_deployment(&txn, &allowed, &row, DeploymentKind::Create, caller, now).await?;
        let entry = Entry::new(Action::ServiceCreate, &res)
            .org(org_id)
            .detail(serde_json::json!({
                "name": name, "image": img.name, "version": row.version,
                "replicas": new.replicas, "region": row.region,
            }));
        audit::record(
            &txn,
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)?;
        self.after_request(&dep, line).await;
        tracing::info!(service = %name, org = %org.name, by = %caller.username, "service created");
        self.service_summaries(&[id])
            .await?
            .pop()
            .ok_or_else(|| not_found(Kind::Service))
    }

    /// The region asked for, if some node is in it; empty: the local node's.
    async fn pick_region(&self, asked: &str, local: &node::Model) -> Result<String, AppError> {
        if asked.is_empty() {
            return Ok(local.region.clone());
        }
        let regions = self.regions().await?;
        if regions.iter().any(|r| r == asked) {
            Ok(asked.to_owned())
        } else {
            Err(AppError::Invalid(format!(
                "Region: no node is in {asked:?}; choose one of {}.",
                regions.join(", ")
            )))
        }
    }

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
        audit::record(
            &txn,
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
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
                    caller,
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
                caller,
                now,
            )
            .await?;
        let entry = Entry::new(Action::ServiceRollback, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name, "to": version, "version": new_version }));
        audit::record(
            &txn,
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
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
            ..Default::default()
        };
        let (dep, line) = self
            .request_deployment(
                &txn,
                &allowed,
                &row,
                change,
                DeploymentKind::Deploy,
                caller,
                now,
            )
            .await?;
        let entry = Entry::new(Action::ServiceDeploy, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({
                "name": row.name, "config_version": dep.config_version, "version": dep.version,
            }));
        audit::record(
            &txn,
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
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
        validate_shape(replicas, "1").map_err(AppError::Invalid)?;
        let change = Change {
            replicas: Some(i32::try_from(replicas).unwrap_or(0)),
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
        let change = Change {
            desired_state: Some(Desired::Deleted),
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

/// The row of a new service: generation 1, running its first configuration version.
fn new_row(
    id: Uuid,
    name: &str,
    org_id: Uuid,
    region: &str,
    image_id: Uuid,
    new: &NewService,
    now: DateTime<Utc>,
) -> service::ActiveModel {
    service::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        organization_id: Set(org_id),
        created_at: Set(now),
        description: Set(new.description.trim().to_owned()),
        region: Set(region.to_owned()),
        image_id: Set(Some(image_id)),
        version: Set(new.version.trim().to_owned()),
        replicas: Set(i32::try_from(new.replicas).unwrap_or(1)),
        cpu_count: Set(i32::try_from(new.cpu_count).unwrap_or(1)),
        memory_mb: Set(i32::try_from(new.memory_mb).unwrap_or(128)),
        config_schema: Set(new.config_schema.trim().to_owned()),
        config_version: Set(1),
        desired_state: Set(Desired::Running),
        generation: Set(1),
        deployed_at: Set(None),
        updated_at: Set(Some(now)),
    }
}
