//! Services as people read them: the list, the detail page (replicas, configuration history,
//! deployments), regions, and the live update a change publishes.

use std::collections::HashMap;

use model::events::{LiveEvent, EVENT_VERSION};
use model::services::{
    ConfigVersion, DeploymentKind, DeploymentState, DeploymentView, DiffLine, ReplicaView,
    ServiceDetail, ServiceStatus, ServiceSummary,
};
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::config::{diff, pretty};
use crate::access::model::{Kind, Permission, Resource};
use crate::access::not_found;
use crate::access::parse_id;
use crate::auth::{show_time, Caller};
use crate::entities::states::Desired;
use crate::entities::{deployment, image, node, organization, service, service_config, vm};
use crate::events::Envelope;
use crate::{internal, Control};

/// A service's status from what it should do, its replicas and its newest deployment.
pub fn derive_status(
    desired: Desired,
    wanted: u32,
    running: u32,
    newest: Option<DeploymentState>,
) -> ServiceStatus {
    if newest.is_some_and(|s| !s.is_finished()) {
        return ServiceStatus::Deploying;
    }
    if desired != Desired::Running || wanted == 0 {
        return ServiceStatus::Stopped;
    }
    if running == 0 {
        return ServiceStatus::Failed;
    }
    if running < wanted || newest == Some(DeploymentState::Failed) {
        ServiceStatus::Degraded
    } else {
        ServiceStatus::Running
    }
}

impl Control {
    /// Every service the caller may read.
    pub async fn list_services(&self, caller: &Caller) -> Result<Vec<ServiceSummary>, AppError> {
        let ids: Vec<Uuid> = self
            .visible(caller, Permission::Read, Kind::Service)
            .await?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        let mut list = self.service_summaries(&ids).await?;
        list.sort_by(|a, b| (&a.organization, &a.name).cmp(&(&b.organization, &b.name)));
        Ok(list)
    }

    /// The regions services can run in: the nodes' labels.
    pub async fn list_regions(&self, _caller: &Caller) -> Result<Vec<String>, AppError> {
        self.regions().await
    }

    pub(crate) async fn regions(&self) -> Result<Vec<String>, AppError> {
        let mut regions: Vec<String> = node::Entity::find()
            .all(self.db())
            .await
            .map_err(|e| internal("list regions", e))?
            .into_iter()
            .map(|n| n.region)
            .collect();
        regions.sort();
        regions.dedup();
        Ok(regions)
    }

    pub(crate) async fn service_summaries(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<ServiceSummary>, AppError> {
        let fail = |e| internal("list services", e);
        let mut rows = Vec::new();
        let mut replicas = Vec::new();
        let mut deployments = Vec::new();
        for chunk in ids.chunks(500) {
            rows.extend(
                service::Entity::find()
                    .filter(service::Column::Id.is_in(chunk.iter().copied()))
                    .all(self.db())
                    .await
                    .map_err(fail)?,
            );
            replicas.extend(
                vm::Entity::find()
                    .filter(vm::Column::ServiceId.is_in(chunk.iter().copied()))
                    .all(self.db())
                    .await
                    .map_err(fail)?,
            );
            deployments.extend(
                deployment::Entity::find()
                    .filter(deployment::Column::ServiceId.is_in(chunk.iter().copied()))
                    .order_by_desc(deployment::Column::Number)
                    .all(self.db())
                    .await
                    .map_err(fail)?,
            );
        }
        let (newest, running) = (newest_states(&deployments), running_counts(&replicas));
        let orgs: HashMap<Uuid, String> = organization::Entity::find()
            .filter(organization::Column::Id.is_in(rows.iter().map(|s| s.organization_id)))
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let images = self
            .image_names(rows.iter().filter_map(|s| s.image_id))
            .await?;
        let now = self.now();
        Ok(rows
            .into_iter()
            .map(|s| {
                let wanted = u32::try_from(s.replicas).unwrap_or(0);
                let up = running.get(&s.id).copied().unwrap_or(0);
                let status = derive_status(s.desired_state, wanted, up, newest.get(&s.id).copied());
                ServiceSummary {
                    id: s.id.to_string(),
                    organization: orgs.get(&s.organization_id).cloned().unwrap_or_default(),
                    organization_id: s.organization_id.to_string(),
                    description: s.description,
                    region: s.region,
                    image: s.image_id.and_then(|i| images.get(&i).cloned()),
                    image_id: s.image_id.map(|i| i.to_string()),
                    version: s.version,
                    replicas: wanted,
                    running: up,
                    status,
                    config_version: s.config_version,
                    deployed_at: s.deployed_at.map(show_time),
                    uptime_seconds: s
                        .deployed_at
                        .filter(|_| status != ServiceStatus::Stopped)
                        .map(|t| (now - t).num_seconds().max(0)),
                    cpu_count: u32::try_from(s.cpu_count).unwrap_or(1),
                    memory_mb: u32::try_from(s.memory_mb).unwrap_or(128),
                    generation: s.generation,
                    name: s.name,
                }
            })
            .collect())
    }

    async fn image_names(
        &self,
        ids: impl Iterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, String>, AppError> {
        Ok(image::Entity::find()
            .filter(image::Column::Id.is_in(ids.collect::<Vec<_>>()))
            .all(self.db())
            .await
            .map_err(|e| internal("load images", e))?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect())
    }

    /// One service's page.
    pub async fn service(&self, caller: &Caller, id: &str) -> Result<ServiceDetail, AppError> {
        let id = parse_id(id, Kind::Service)?;
        let res = Resource::new(Kind::Service, id);
        self.authorize(caller, Permission::Read, &res).await?;
        let summary = self
            .service_summaries(&[id])
            .await?
            .pop()
            .ok_or_else(|| not_found(Kind::Service))?;
        let fail = |e| internal("load service", e);
        let row = service::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Service))?;
        let unreachable = crate::compute::Unreachable::at(self.db(), self.now()).await?;
        let replicas = vm::Entity::find()
            .filter(vm::Column::ServiceId.eq(id))
            .order_by_asc(vm::Column::Name)
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|r| ReplicaView {
                vm_id: r.id.to_string(),
                state: unreachable.shown(&r).0,
                config_version: r.config_version.unwrap_or(0),
                version: r.service_version.unwrap_or_default(),
                name: r.name,
            })
            .collect();
        let configs = self.config_history(id).await?;
        let deployments = deployment::Entity::find()
            .filter(deployment::Column::ServiceId.eq(id))
            .order_by_desc(deployment::Column::Number)
            .limit(50)
            .all(self.db())
            .await
            .map_err(fail)?;
        let deployments = self.deployment_views(deployments).await?;
        let network = match row.network_id {
            Some(net) => crate::entities::network::Entity::find_by_id(net)
                .one(self.db())
                .await
                .map_err(fail)?
                .map(|n| n.name),
            None => None,
        };
        let live = row.desired_state != Desired::Deleted;
        let may = |p| self.can(Some(caller), p, &res);
        Ok(ServiceDetail {
            service: summary,
            config_schema: pretty(if row.config_schema.is_empty() {
                r#"{"type":"object"}"#
            } else {
                &row.config_schema
            }),
            replicas,
            address: row.address,
            network,
            configs,
            deployments,
            can_update: live && may(Permission::Update).await?,
            can_deploy: live && may(Permission::Deploy).await?,
            can_start: live && may(Permission::Start).await?,
            can_stop: live && may(Permission::Stop).await?,
            can_delete: live && may(Permission::Delete).await?,
        })
    }

    /// The service's last 100 configuration versions, newest first, with their authors.
    async fn config_history(&self, id: Uuid) -> Result<Vec<ConfigVersion>, AppError> {
        let configs = service_config::Entity::find()
            .filter(service_config::Column::ServiceId.eq(id))
            .order_by_desc(service_config::Column::Version)
            .limit(100)
            .all(self.db())
            .await
            .map_err(|e| internal("load service", e))?;
        let authors = self
            .people(
                configs
                    .iter()
                    .filter_map(|c| c.author.map(|a| a.to_string()))
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .await?;
        Ok(configs
            .into_iter()
            .map(|c| ConfigVersion {
                version: c.version,
                config: pretty(&c.config),
                author: c
                    .author
                    .and_then(|a| authors.get(&a.to_string()).map(|p| p.username.clone())),
                created_at: show_time(c.created_at),
                note: c.note,
            })
            .collect())
    }

    /// The diff between two configuration versions of a service.
    pub async fn diff_service_config(
        &self,
        caller: &Caller,
        id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<DiffLine>, AppError> {
        let id = parse_id(id, Kind::Service)?;
        self.authorize(caller, Permission::Read, &Resource::new(Kind::Service, id))
            .await?;
        let fail = |e| internal("diff service config", e);
        let rows = service_config::Entity::find()
            .filter(service_config::Column::ServiceId.eq(id))
            .filter(service_config::Column::Version.is_in([from, to]))
            .all(self.db())
            .await
            .map_err(fail)?;
        let text = |v: i64| {
            rows.iter()
                .find(|c| c.version == v)
                .map(|c| c.config.clone())
                .ok_or_else(|| AppError::Invalid(format!("There is no version {v}.")))
        };
        let (older, newer) = (text(from)?, text(to)?);
        super::config::blocking(move || diff(&older, &newer)).await
    }

    pub(crate) async fn deployment_views(
        &self,
        rows: Vec<deployment::Model>,
    ) -> Result<Vec<DeploymentView>, AppError> {
        let images = self
            .image_names(rows.iter().filter_map(|d| d.image_id))
            .await?;
        let requesters: Vec<String> = rows
            .iter()
            .filter_map(|d| d.requested_by.map(|u| u.to_string()))
            .collect();
        let people = self.people(requesters.iter()).await?;
        Ok(rows
            .into_iter()
            .map(|d| DeploymentView {
                id: d.id.to_string(),
                number: d.number,
                kind: DeploymentKind::parse(&d.kind).unwrap_or(DeploymentKind::Deploy),
                state: DeploymentState::parse(&d.state).unwrap_or(DeploymentState::Failed),
                config_version: d.config_version,
                version: d.version,
                image: d.image_id.and_then(|i| images.get(&i).cloned()),
                replicas: u32::try_from(d.replicas).unwrap_or(0),
                requested_by: d
                    .requested_by
                    .and_then(|u| people.get(&u.to_string()).map(|p| p.username.clone())),
                created_at: show_time(d.created_at),
                finished_at: d.finished_at.map(show_time),
                error: d.error,
                operation_id: d.operation_id.map(|o| o.to_string()),
            })
            .collect())
    }

    pub(crate) async fn deployment_view(
        &self,
        row: deployment::Model,
    ) -> Result<DeploymentView, AppError> {
        self.deployment_views(vec![row])
            .await?
            .pop()
            .ok_or_else(|| not_found(Kind::Service))
    }

    /// A service's current status to everyone who may read it.
    pub async fn publish_service(&self, id: Uuid) {
        let summary = match self.service_summaries(&[id]).await {
            Ok(mut list) => list.pop(),
            Err(e) => {
                tracing::warn!(error = %e, "service event not published");
                return;
            }
        };
        let Some(s) = summary else {
            return;
        };
        let event = LiveEvent::ServiceUpdate {
            v: EVENT_VERSION,
            id: s.id.clone(),
            name: s.name,
            organization_id: s.organization_id,
            state: s.status.as_str().to_owned(),
            generation: s.generation,
            deleted: false,
        };
        self.publish(Envelope::new(
            event,
            Some((Kind::Service, id.to_string())),
            Permission::Read,
        ))
        .await;
    }

    /// A service removed for good: its organization hears of it.
    pub(crate) async fn publish_service_deleted(&self, row: &service::Model) {
        let event = LiveEvent::ServiceUpdate {
            v: EVENT_VERSION,
            id: row.id.to_string(),
            name: row.name.clone(),
            organization_id: row.organization_id.to_string(),
            state: "deleted".into(),
            generation: row.generation,
            deleted: true,
        };
        self.publish(Envelope::new(
            event,
            Some((Kind::Organization, row.organization_id.to_string())),
            Permission::View,
        ))
        .await;
    }
}

/// Each service's newest deployment state (`deployments` newest first).
fn newest_states(deployments: &[deployment::Model]) -> HashMap<Uuid, DeploymentState> {
    let mut newest = HashMap::new();
    for d in deployments {
        if let Some(state) = DeploymentState::parse(&d.state) {
            newest.entry(d.service_id).or_insert(state);
        }
    }
    newest
}

/// How many replicas of each service are running.
fn running_counts(replicas: &[vm::Model]) -> HashMap<Uuid, u32> {
    let mut running: HashMap<Uuid, u32> = HashMap::new();
    for r in replicas {
        if let (Some(s), Some(VmState::Running)) = (r.service_id, VmState::parse(&r.observed_state))
        {
            *running.entry(s).or_default() += 1;
        }
    }
    running
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentState as D;
    use ServiceStatus as S;

    #[test]
    fn status_follows_replicas_and_deployments() {
        assert_eq!(
            derive_status(Desired::Running, 2, 2, Some(D::Succeeded)),
            S::Running
        );
        assert_eq!(
            derive_status(Desired::Running, 2, 1, Some(D::Succeeded)),
            S::Degraded
        );
        assert_eq!(
            derive_status(Desired::Running, 2, 2, Some(D::Failed)),
            S::Degraded
        );
        assert_eq!(
            derive_status(Desired::Running, 2, 0, Some(D::Failed)),
            S::Failed
        );
        assert_eq!(
            derive_status(Desired::Running, 2, 2, Some(D::Running)),
            S::Deploying
        );
        assert_eq!(
            derive_status(Desired::Running, 2, 0, Some(D::Queued)),
            S::Deploying
        );
        assert_eq!(
            derive_status(Desired::Stopped, 2, 0, Some(D::Succeeded)),
            S::Stopped
        );
        assert_eq!(derive_status(Desired::Running, 0, 0, None), S::Stopped);
    }
}
