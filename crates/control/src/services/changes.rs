//! How a request becomes a deployment: the changed service row (a new generation), the
//! numbered deployment with the first line of its log, and its queued operation, all in the
//! request's transaction; and, once committed, waking the runner and telling browsers.

use chrono::{DateTime, Utc};
use model::services::{DeploymentKind, DeploymentLogLine, DeploymentState, DeploymentView};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::logs;
use crate::access::model::{Kind, Permission, Resource};
use crate::access::parse_id;
use crate::access::Authorized;
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::entities::states::{Desired, LogLevel, OperationKind};
use crate::entities::{deployment, service, service_config};
use crate::locking::lock_row;
use crate::operations::queue::{self, NewOperation};
use crate::orgs::quotas::{self, Claim};
use crate::{internal, Control};

/// Who asked for a deployment: a person, or the control plane itself (named for the log).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Requester<'a> {
    Person(&'a Caller),
    System(&'a str),
}

impl Requester<'_> {
    fn user_id(self) -> Option<Uuid> {
        match self {
            Requester::Person(caller) => Some(caller.user_id),
            Requester::System(_) => None,
        }
    }

    fn name(&self) -> &str {
        match self {
            Requester::Person(caller) => &caller.username,
            Requester::System(who) => who,
        }
    }
}

/// What a deployment request changes on the service row.
#[derive(Default)]
pub(crate) struct Change {
    pub config_version: Option<i64>,
    pub image_id: Option<Uuid>,
    pub version: Option<String>,
    pub replicas: Option<i32>,
    pub desired_state: Option<Desired>,
    /// Refuse as stale unless the service is still at this generation (`If-Match`).
    pub expected_generation: Option<i64>,
}

pub(super) fn operation_kind(kind: DeploymentKind) -> OperationKind {
    match kind {
        DeploymentKind::Create => OperationKind::ServiceCreate,
        DeploymentKind::Deploy => OperationKind::ServiceDeploy,
        DeploymentKind::Rollback => OperationKind::ServiceRollback,
        DeploymentKind::Scale => OperationKind::ServiceScale,
        DeploymentKind::Start => OperationKind::ServiceStart,
        DeploymentKind::Stop => OperationKind::ServiceStop,
        DeploymentKind::Delete => OperationKind::ServiceDelete,
    }
}
impl Control {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn simple_request(
        &self,
        caller: &Caller,
        id: &str,
        permission: Permission,
        action: Action,
        change: Change,
        kind: DeploymentKind,
        now: DateTime<Utc>,
    ) -> Result<DeploymentView, AppError> {
        let id = parse_id(id, Kind::Service)?;
        let res = Resource::new(Kind::Service, id);
        let allowed = self
            .authorize_action(caller, permission, &res, action)
            .await?;
        let fail = |e| internal("service request", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = lock_row::<service::Entity>(&txn, id).await?;
        if let Some(wanted) = change.replicas {
            // More replicas: refused here, naming the quota, rather than half-way through the
            // rollout (which checks again as it places each one).
            let extra = i64::from(wanted - row.replicas);
            if extra > 0 {
                let claim = Claim {
                    vcpus: extra * i64::from(row.cpu_count),
                    memory_mb: extra * i64::from(row.memory_mb),
                    disk_gb: extra,
                    vms: extra,
                    services: 0,
                };
                quotas::check(&txn, row.organization_id, &claim).await?;
            }
        }
        let (dep, line) = self
            .request_deployment(
                &txn,
                &allowed,
                &row,
                change,
                kind,
                Requester::Person(caller),
                now,
            )
            .await?;
        let entry = Entry::new(action, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name, "replicas": dep.replicas }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.after_request(&dep, line).await;
        self.deployment_view(dep).await
    }

    /// Applies a change under a new generation and queues its deployment.
    // The proof, the transaction and the request's facts: grouping them would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn request_deployment(
        &self,
        txn: &DatabaseTransaction,
        allowed: &Authorized,
        row: &service::Model,
        change: Change,
        kind: DeploymentKind,
        requested_by: Requester<'_>,
        now: DateTime<Utc>,
    ) -> Result<(deployment::Model, DeploymentLogLine), AppError> {
        if let Some(g) = change.expected_generation.filter(|g| *g != row.generation) {
            return Err(AppError::Stale(format!(
                "{} changed since version {g}: it is at version {} now.",
                row.name, row.generation
            )));
        }
        if row.desired_state == Desired::Deleted {
            return Err(AppError::Conflict(format!(
                "{} is being deleted.",
                row.name
            )));
        }
        let mut next = row.clone();
        next.generation += 1;
        next.updated_at = Some(now);
        if let Some(v) = change.config_version {
            next.config_version = v;
        }
        if let Some(i) = change.image_id {
            next.image_id = Some(i);
        }
        if let Some(v) = change.version {
            next.version = v;
        }
        if let Some(r) = change.replicas {
            next.replicas = r;
        }
        if let Some(d) = change.desired_state {
            next.desired_state = d;
        }
        service::Entity::update_many()
            .col_expr(service::Column::Generation, Expr::value(next.generation))
            .col_expr(service::Column::UpdatedAt, Expr::value(next.updated_at))
            .col_expr(
                service::Column::ConfigVersion,
                Expr::value(next.config_version),
            )
            .col_expr(service::Column::ImageId, Expr::value(next.image_id))
            .col_expr(service::Column::Version, Expr::value(next.version.clone()))
            .col_expr(service::Column::Replicas, Expr::value(next.replicas))
            .col_expr(
                service::Column::DesiredState,
                Expr::value(next.desired_state.as_str()),
            )
            .filter(service::Column::Id.eq(row.id))
            .exec(txn)
            .await
            .map_err(|e| internal("update service", e))?;
        queue_deployment(txn, allowed, &next, kind, requested_by, now).await
    }

    /// Once a request committed: the runner wakes, pages hear of it.
    pub(crate) async fn after_request(
        &self,
        dep: &deployment::Model,
        first_line: DeploymentLogLine,
    ) {
        self.wake_runner();
        self.publish_service(dep.service_id).await;
        self.publish_log(dep, first_line).await;
    }
}

/// Inserts the numbered deployment of the service's current desired state, its first log
/// line (returned, to publish once committed) and its operation.
pub(super) async fn queue_deployment(
    txn: &DatabaseTransaction,
    allowed: &Authorized,
    svc: &service::Model,
    kind: DeploymentKind,
    requested_by: Requester<'_>,
    now: DateTime<Utc>,
) -> Result<(deployment::Model, DeploymentLogLine), AppError> {
    let fail = |e| internal("queue deployment", e);
    let number = deployment::Entity::find()
        .filter(deployment::Column::ServiceId.eq(svc.id))
        .order_by_desc(deployment::Column::Number)
        .one(txn)
        .await
        .map_err(fail)?
        .map_or(1, |d| d.number + 1);
    let operation = queue::enqueue(
        txn,
        allowed,
        NewOperation {
            kind: operation_kind(kind),
            target: Resource::new(Kind::Service, svc.id),
            organization: Some(svc.organization_id),
            requested_by: requested_by.user_id(),
            generation: svc.generation,
        },
        now,
    )
    .await?;
    let dep = deployment::ActiveModel {
        id: Set(Uuid::new_v4()),
        service_id: Set(svc.id),
        number: Set(number),
        kind: Set(kind.as_str().to_owned()),
        state: Set(DeploymentState::Queued.as_str().to_owned()),
        config_version: Set(svc.config_version),
        image_id: Set(svc.image_id),
        version: Set(svc.version.clone()),
        replicas: Set(svc.replicas),
        desired_state: Set(svc.desired_state),
        generation: Set(svc.generation),
        operation_id: Set(Some(operation)),
        requested_by: Set(requested_by.user_id()),
        error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
    }
    .insert(txn)
    .await
    .map_err(fail)?;
    let what = match kind {
        DeploymentKind::Stop => "stop every replica".to_owned(),
        DeploymentKind::Delete => "remove every replica and the service".to_owned(),
        _ => format!(
            "{} replica{} of version {} with config v{}",
            svc.replicas,
            if svc.replicas == 1 { "" } else { "s" },
            svc.version,
            svc.config_version
        ),
    };
    let line = logs::append(
        txn,
        dep.id,
        LogLevel::Info,
        &format!(
            "Deployment {number} ({}) requested by {}: {what}",
            kind.label().to_lowercase(),
            requested_by.name()
        ),
        now,
    )
    .await?;
    Ok((dep, line))
}

pub(super) async fn next_version(txn: &DatabaseTransaction, id: Uuid) -> Result<i64, AppError> {
    Ok(service_config::Entity::find()
        .filter(service_config::Column::ServiceId.eq(id))
        .order_by_desc(service_config::Column::Version)
        .one(txn)
        .await
        .map_err(|e| internal("next config version", e))?
        .map_or(1, |c| c.version + 1))
}

pub(super) async fn save_version(
    txn: &DatabaseTransaction,
    id: Uuid,
    version: i64,
    config: &str,
    caller: &Caller,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    service_config::ActiveModel {
        service_id: Set(id),
        version: Set(version),
        config: Set(config.to_owned()),
        author: Set(Some(caller.user_id)),
        note: Set(note.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map(|_| ())
    .map_err(|e| internal("save config version", e))
}
