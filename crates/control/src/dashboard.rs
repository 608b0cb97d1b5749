//! The dashboard use case: what this installation is, how much of everything the caller may
//! see (counts come from the permission engine's lookups, never from whole tables), and what an
//! operator checks first: nodes' use (platform administrators), the caller's VMs and services
//! that are failing or out of reach, operations under way, the newest audit rows.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use model::audit::AuditFilter;
use model::dashboard::{ActivityLine, Attention, NodeUse, WorkLine};
use model::services::ServiceStatus;
use model::vms::VmState;
use model::{AppError, Counts, DashboardInfo};
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::access::model::{Kind, Permission, Resource};
use crate::auth::Caller;
use crate::compute::Unreachable;
use crate::entities::{relation_tuple, user, vm};
use crate::operations::queue::{self, parse_steps};
use crate::operations::views::may_see;
use crate::{internal, Control};

/// How many VMs and services needing attention, operations and audit rows the dashboard lists.
const SHOWN: usize = 5;

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
        let count = |ids: &[String]| ids.len() as u64;
        let vms = self.visible(caller, Permission::Read, Kind::Vm).await?;
        let services = self
            .visible(caller, Permission::Read, Kind::Service)
            .await?;
        let counts = Counts {
            users,
            organizations: orgs.len() as u64,
            nodes: count(&self.visible(caller, Permission::Read, Kind::Node).await?),
            virtual_machines: count(&vms),
            services: count(&services),
        };
        let admin = self
            .can(Some(caller), Permission::ManageNodes, &Resource::platform())
            .await?;
        let nodes = if admin {
            self.list_nodes(caller, now)
                .await?
                .into_iter()
                .map(|n| NodeUse {
                    name: n.name,
                    status: n.status.label().to_owned(),
                    vcpus_used: n.vcpus_used,
                    vcpu_capacity: n.vcpu_capacity,
                    memory_used_mb: n.memory_used_mb,
                    memory_capacity_mb: n.memory_capacity_mb,
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut attention = self.vms_needing_attention(&vms, now).await?;
        let service_ids: Vec<Uuid> = services.iter().filter_map(|s| s.parse().ok()).collect();
        attention.extend(
            self.service_summaries(&service_ids)
                .await?
                .into_iter()
                .filter(|s| matches!(s.status, ServiceStatus::Degraded | ServiceStatus::Failed))
                .take(SHOWN)
                .map(|s| Attention {
                    href: format!("/services/{}", s.id),
                    kind: "Service".into(),
                    reason: Some(format!("{} of {} replicas running", s.running, s.replicas)),
                    status: s.status.label().to_owned(),
                    name: s.name,
                }),
        );
        let operations = self.work_under_way(caller, &vms, admin).await?;
        let uptime = (now - self.started_at()).num_seconds().max(0);
        Ok(DashboardInfo {
            version: VERSION.to_owned(),
            database: self.backend(),
            events: self.events(),
            uptime_seconds: u64::try_from(uptime).unwrap_or(0),
            counts,
            nodes,
            attention,
            operations,
            recent: self.recent_audit(caller).await?,
        })
    }

    /// The caller's VMs (`readable`) in error or on an unreachable node, at most [`SHOWN`].
    async fn vms_needing_attention(
        &self,
        readable: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<Attention>, AppError> {
        let unreachable = Unreachable::at(self.db(), now).await?;
        // The few VMs in trouble, then those the caller may read: one query without binding
        // every readable id.
        let mut trouble = vm::Column::ObservedState.eq(VmState::Error.as_str());
        let lost = unreachable.nodes();
        if !lost.is_empty() {
            trouble = trouble.or(vm::Column::NodeId.is_in(lost));
        }
        let readable: HashSet<&str> = readable.iter().map(String::as_str).collect();
        let rows = vm::Entity::find()
            .filter(trouble)
            .order_by_asc(vm::Column::Name)
            .all(self.db())
            .await
            .map_err(|e| internal("dashboard vms", e))?;
        Ok(rows
            .into_iter()
            .filter(|row| readable.contains(row.id.to_string().as_str()))
            .take(SHOWN)
            .map(|row| {
                let (state, reason) = unreachable.shown(&row);
                Attention {
                    href: format!("/vms/{}", row.id),
                    kind: "VM".into(),
                    name: row.name,
                    status: state.label().to_owned(),
                    reason,
                }
            })
            .collect())
    }

    /// The newest unfinished operations the caller may see (as the Operations page decides:
    /// on VMs they may read, or asked for by them; everything for platform administrators),
    /// at most [`SHOWN`]. Read from the small set of unfinished operations, not the history.
    async fn work_under_way(
        &self,
        caller: &Caller,
        readable: &[String],
        admin: bool,
    ) -> Result<Vec<WorkLine>, AppError> {
        let readable: HashSet<&str> = readable.iter().map(String::as_str).collect();
        let shown: Vec<_> = queue::unfinished(self.db())
            .await?
            .into_iter()
            .rev()
            .filter(|op| may_see(op, caller, admin, |id| readable.contains(id)))
            .take(SHOWN)
            .collect();
        let names = self.vm_names(&shown).await?;
        Ok(shown
            .into_iter()
            .map(|op| WorkLine {
                kind: op.kind.to_string(),
                step: parse_steps(&op.steps)
                    .last()
                    .map_or_else(|| "Queued".to_owned(), |s| s.step.clone()),
                target: names.get(&op.target_id).cloned().unwrap_or(op.target_id),
            })
            .collect())
    }

    /// The newest audit rows the caller may read; none for someone without audit access.
    async fn recent_audit(&self, caller: &Caller) -> Result<Vec<ActivityLine>, AppError> {
        let filter = AuditFilter {
            limit: Some(SHOWN as u64),
            ..AuditFilter::default()
        };
        match self.audit_page(caller, &filter).await {
            Ok(page) => Ok(page
                .rows
                .into_iter()
                .map(|r| ActivityLine {
                    at: r.at.replace('T', " ").chars().take(19).collect(),
                    actor: r.actor,
                    action: r.action,
                    outcome: r.outcome,
                })
                .collect()),
            Err(AppError::Forbidden(_)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

fn count_failed(e: sea_orm::DbErr) -> AppError {
    internal("dashboard counts", e)
}
