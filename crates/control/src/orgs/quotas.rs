//! Organization quotas: limits platform administrators set, checked inside the transaction of
//! every create, start and scale that would pass them.
//!
//! vCPUs and memory count the VMs that should be running (as node capacity does); disk and the
//! VM count every VM not deleted; services every service not deleted.

use chrono::{DateTime, Utc};
use model::quotas::{validate_quota, OrgQuota, Quota, QuotaUsage};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::audit::{self, Action, Entry};
use crate::auth::Caller;
use crate::compute::placement::show_mib;
use crate::entities::states::Desired;
use crate::entities::{organization, quota, service, vm};
use crate::{internal, Control};

/// What a change would add to an organization's holdings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Claim {
    pub vcpus: i64,
    pub memory_mb: i64,
    pub disk_gb: i64,
    pub vms: i64,
    pub services: i64,
}

/// What the organization `org` holds now, counted as its quotas count.
pub(crate) async fn usage<C: ConnectionTrait>(conn: &C, org: Uuid) -> Result<QuotaUsage, DbErr> {
    let live = vm::Column::DesiredState.ne(Desired::Deleted.as_str());
    let holding = vm::Column::DesiredState.is_in(Desired::HOLDING_ROOM.map(Desired::as_str));
    let sums: Option<(Option<i64>, Option<i64>)> = vm::Entity::find()
        .select_only()
        .column_as(vm::Column::CpuCount.sum(), "cpus")
        .column_as(vm::Column::MemoryMb.sum(), "memory")
        .filter(vm::Column::OrganizationId.eq(org))
        .filter(holding)
        .into_tuple()
        .one(conn)
        .await?;
    let disk: Option<Option<i64>> = vm::Entity::find()
        .select_only()
        .column_as(vm::Column::DiskGb.sum(), "disk")
        .filter(vm::Column::OrganizationId.eq(org))
        .filter(live.clone())
        .into_tuple()
        .one(conn)
        .await?;
    let vms = vm::Entity::find()
        .filter(vm::Column::OrganizationId.eq(org))
        .filter(live)
        .count(conn)
        .await?;
    let services = service::Entity::find()
        .filter(service::Column::OrganizationId.eq(org))
        .filter(service::Column::DesiredState.ne(Desired::Deleted.as_str()))
        .count(conn)
        .await?;
    let (cpus, memory) = sums.unwrap_or_default();
    let count = |n: Option<i64>| u64::try_from(n.unwrap_or(0)).unwrap_or(0);
    Ok(QuotaUsage {
        vcpus: count(cpus),
        memory_mb: count(memory),
        disk_gb: count(disk.flatten()),
        vms,
        services,
    })
}

/// Refuses `claim` when it would take the organization past one of its quotas; the message
/// names the quota. Locks the organization's quota row first, so two changes in one
/// organization are checked one after the other.
pub(crate) async fn check(
    txn: &DatabaseTransaction,
    org: Uuid,
    claim: &Claim,
) -> Result<(), AppError> {
    let fail = |e| internal("check quota", e);
    quota::Entity::update_many()
        .col_expr(quota::Column::Vms, Expr::col(quota::Column::Vms).into())
        .filter(quota::Column::OrganizationId.eq(org))
        .exec(txn)
        .await
        .map_err(fail)?;
    let Some(limits) = quota::Entity::find_by_id(org)
        .one(txn)
        .await
        .map_err(fail)?
    else {
        return Ok(());
    };
    let used = usage(txn, org).await.map_err(fail)?;
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let lines: [(&str, Option<i64>, i64, i64, Unit); 5] = [
        (
            "vCPU",
            limits.vcpus,
            as_i64(used.vcpus),
            claim.vcpus,
            unit_count,
        ),
        (
            "memory",
            limits.memory_mb,
            as_i64(used.memory_mb),
            claim.memory_mb,
            show_mib,
        ),
        (
            "disk",
            limits.disk_gb,
            as_i64(used.disk_gb),
            claim.disk_gb,
            gib,
        ),
        ("VM", limits.vms, as_i64(used.vms), claim.vms, unit_count),
        (
            "service",
            limits.services,
            as_i64(used.services),
            claim.services,
            unit_count,
        ),
    ];
    for (name, limit, used, asked, show) in lines {
        if let Some(limit) = limit {
            if asked > 0 && used + asked > limit {
                return Err(AppError::Conflict(format!(
                    "The organization's {name} quota is {}: {} in use, and this needs {} more. \
                     A platform administrator can raise it.",
                    show(limit),
                    show(used),
                    show(asked)
                )));
            }
        }
    }
    Ok(())
}

type Unit = fn(i64) -> String;

fn unit_count(n: i64) -> String {
    n.to_string()
}

fn gib(n: i64) -> String {
    format!("{n} GiB")
}

fn to_column(limit: Option<u64>) -> Option<i64> {
    limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn from_column(limit: Option<i64>) -> Option<u64> {
    limit.map(|n| u64::try_from(n).unwrap_or(0))
}

impl Control {
    /// An organization's quotas and usage, for those who may see the organization.
    pub async fn org_quota(&self, caller: &Caller, org_id: &str) -> Result<OrgQuota, AppError> {
        let id = parse_id(org_id, Kind::Organization)?;
        self.authorize(caller, Permission::View, &Resource::organization(id))
            .await?;
        let fail = |e| internal("load quota", e);
        let row = quota::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?;
        let usage = usage(self.db(), id).await.map_err(fail)?;
        let can_edit = self
            .can(
                Some(caller),
                Permission::ManageQuotas,
                &Resource::platform(),
            )
            .await?;
        let quota = row
            .map(|q| Quota {
                vcpus: from_column(q.vcpus),
                memory_mb: from_column(q.memory_mb),
                disk_gb: from_column(q.disk_gb),
                vms: from_column(q.vms),
                services: from_column(q.services),
            })
            .unwrap_or_default();
        Ok(OrgQuota {
            quota,
            usage,
            can_edit,
        })
    }

    /// Sets an organization's quotas (platform administrators). Lowering a limit below what
    /// is in use refuses nothing already there; it stops what would add more.
    pub async fn set_org_quota(
        &self,
        caller: &Caller,
        org_id: &str,
        limits: &Quota,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(org_id, Kind::Organization)?;
        let allowed = self
            .authorize_action(
                caller,
                Permission::ManageQuotas,
                &Resource::platform(),
                Action::OrganizationSetQuota,
            )
            .await?;
        validate_quota(limits).map_err(AppError::Invalid)?;
        let fail = |e| internal("set quota", e);
        let txn = self.db().begin().await.map_err(fail)?;
        organization::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Organization))?;
        let row = quota::ActiveModel {
            organization_id: Set(id),
            vcpus: Set(to_column(limits.vcpus)),
            memory_mb: Set(to_column(limits.memory_mb)),
            disk_gb: Set(to_column(limits.disk_gb)),
            vms: Set(to_column(limits.vms)),
            services: Set(to_column(limits.services)),
            updated_at: Set(now),
        };
        quota::Entity::insert(row)
            .on_conflict(
                OnConflict::column(quota::Column::OrganizationId)
                    .update_columns([
                        quota::Column::Vcpus,
                        quota::Column::MemoryMb,
                        quota::Column::DiskGb,
                        quota::Column::Vms,
                        quota::Column::Services,
                        quota::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await
            .map_err(fail)?;
        let entry = Entry::new(Action::OrganizationSetQuota, &Resource::organization(id))
            .org(id)
            .detail(serde_json::json!(limits));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        Ok(())
    }
}
