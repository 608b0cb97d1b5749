//! Creating a service: checked spec, region, image and first configuration, then, in one
//! transaction, the organization's service quota, its row, first configuration version,
//! grants, first deployment and audit row.

use chrono::{DateTime, Utc};
use model::services::{validate_shape, DeploymentKind, NewService, ServiceSummary};
use model::vms::{validate_spec, validate_vm_name, NewVm, MAX_DESCRIPTION};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, TransactionTrait};

use super::changes::{queue_deployment, save_version, Requester};
use super::config::{blocking, check_config, compact, parse_schema};
use crate::access::model::{Kind, Permission, Resource};
use crate::access::parse_id;
use crate::access::{not_found, tuples};
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::entities::states::Desired;
use crate::entities::{node, organization, service};
use crate::orgs::quotas::{self, Claim};
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
        let region = self.place_service(new, name).await?;
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
        // Its replicas count against the quotas as the rollout places them.
        let claim = Claim {
            services: 1,
            ..Claim::default()
        };
        quotas::check(&txn, org_id, &claim).await?;
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
            &tuples::created_in(&res, org_id, caller.user_id),
            now,
        )
        .await?;
        let (dep, line) = queue_deployment(
            &txn,
            &allowed,
            &row,
            DeploymentKind::Create,
            Requester::Person(caller),
            now,
        )
        .await?;
        let entry = Entry::new(Action::ServiceCreate, &res)
            .org(org_id)
            .detail(serde_json::json!({
                "name": name, "image": img.name, "version": row.version,
                "replicas": new.replicas, "region": row.region,
            }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.after_request(&dep, line).await;
        tracing::info!(service = %name, org = %org.name, by = %caller.username, "service created");
        self.service_summaries(&[id])
            .await?
            .pop()
            .ok_or_else(|| not_found(Kind::Service))
    }

    /// The region a new service's replicas go to, once its replicas' spec fits the local node.
    async fn place_service(&self, new: &NewService, name: &str) -> Result<String, AppError> {
        let local = node::Entity::find_by_id(self.local_node())
            .one(self.db())
            .await
            .map_err(|e| internal("create service", e))?
            .ok_or_else(|| internal("create service", "the local node is not registered"))?;
        let mut shape = NewVm::named(&new.organization_id, name);
        shape.cpu_count = new.cpu_count;
        shape.memory_mb = new.memory_mb;
        validate_spec(&shape, u32::try_from(local.cpu_count).unwrap_or(1))
            .map_err(AppError::Invalid)?;
        self.pick_region(new.region.trim(), &local).await
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
        replicas_named: Set(0),
        network_id: Set(None),
        address: Set(None),
    }
}
