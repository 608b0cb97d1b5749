//! Replicas belong to their service: the grants a new replica gets, the repair of replicas
//! made before that rule, and the refusal of VM-level changes that must go through the service.
//!
//! A replica never has an owner or direct shares, so nobody gains powers over it by having
//! asked for a rollout, and nobody can hand its console to someone outside the service.

use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::access::model::{Kind, Permission, Rel, Resource};
use crate::access::{not_found, tuples, Authorized};
use crate::audit::Action;
use crate::auth::Caller;
use crate::entities::{relation_tuple, service, vm};
use crate::{internal, Control};

/// The tuples of a new replica of `svc`: its organization and its service, nothing else.
pub(crate) fn replica_grants(res: &Resource, svc: &service::Model) -> Vec<authz::Tuple> {
    vec![
        tuples::points_to(
            res,
            Rel::Organization,
            Kind::Organization,
            &svc.organization_id.to_string(),
        ),
        tuples::points_to(res, Rel::Service, Kind::Service, &svc.id.to_string()),
    ]
}

impl Control {
    /// Authorizes `permission` on a VM as [`Control::authorize_action`] does, and then refuses
    /// (audited like any refusal) when the VM is a service's replica: power, delete and share
    /// go through the service, whose name the message gives.
    pub(crate) async fn authorize_own_vm(
        &self,
        caller: &Caller,
        permission: Permission,
        id: Uuid,
        action: Action,
    ) -> Result<(Authorized, vm::Model), AppError> {
        let res = Resource::vm(id);
        let allowed = self
            .authorize_action(caller, permission, &res, action)
            .await?;
        let fail = |e| internal("load vm", e);
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Vm))?;
        let Some(service_id) = row.service_id else {
            return Ok((allowed, row));
        };
        let service = service::Entity::find_by_id(service_id)
            .one(self.db())
            .await
            .map_err(fail)?
            .map_or_else(
                || "its service".to_owned(),
                |s| format!("the service {}", s.name),
            );
        let refusal = AppError::Forbidden(format!(
            "{} is a replica of {service}: start, stop, delete and share it through the service.",
            row.name
        ));
        self.record_denial(caller, action, &res, &refusal).await?;
        Err(refusal)
    }
}

/// Gives every replica its `service` tuple and removes owners and shares replicas got before
/// they belonged to their service. Idempotent; runs at start.
pub async fn repair_replica_grants(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fail = |e| internal("replica grants", e);
    let replicas = vm::Entity::find()
        .filter(vm::Column::ServiceId.is_not_null())
        .all(db)
        .await
        .map_err(fail)?;
    if replicas.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = replicas.iter().map(|v| v.id.to_string()).collect();
    let stray = relation_tuple::Entity::find()
        .filter(relation_tuple::Column::EntityType.eq(Kind::Vm.as_str()))
        .filter(relation_tuple::Column::EntityId.is_in(ids.clone()))
        .filter(relation_tuple::Column::Relation.is_in([
            Rel::Owner.as_str(),
            Rel::Viewer.as_str(),
            Rel::Operator.as_str(),
        ]))
        .all(db)
        .await
        .map_err(fail)?;
    let linked: std::collections::HashSet<String> = relation_tuple::Entity::find()
        .filter(relation_tuple::Column::EntityType.eq(Kind::Vm.as_str()))
        .filter(relation_tuple::Column::EntityId.is_in(ids))
        .filter(relation_tuple::Column::Relation.eq(Rel::Service.as_str()))
        .all(db)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|t| t.entity_id)
        .collect();
    let missing: Vec<authz::Tuple> = replicas
        .iter()
        .filter(|v| !linked.contains(&v.id.to_string()))
        .filter_map(|v| {
            v.service_id.map(|s| {
                tuples::points_to(
                    &Resource::vm(v.id),
                    Rel::Service,
                    Kind::Service,
                    &s.to_string(),
                )
            })
        })
        .collect();
    if stray.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let txn = sea_orm::TransactionTrait::begin(db).await.map_err(fail)?;
    if !stray.is_empty() {
        relation_tuple::Entity::delete_many()
            .filter(relation_tuple::Column::Id.is_in(stray.iter().map(|t| t.id)))
            .exec(&txn)
            .await
            .map_err(fail)?;
    }
    tuples::write(
        &txn,
        &Authorized::system("start-up: replica grants"),
        &missing,
        now,
    )
    .await?;
    tuples::bump(&txn).await?;
    txn.commit().await.map_err(fail)?;
    tracing::info!(
        removed = stray.len(),
        linked = missing.len(),
        "replica grants repaired"
    );
    Ok(())
}
