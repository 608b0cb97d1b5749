//! What the control plane publishes on the event bus, and who may receive it.

use std::time::Duration;

use model::events::{LiveEvent, EVENT_VERSION};
use sea_orm::prelude::Uuid;
use sea_orm::EntityTrait;

use crate::access::model::{self as m, Kind, Permission, Resource};
use crate::access::tuples;
use crate::auth::Caller;
use crate::entities::{audit, vm};
use crate::events::Envelope;
use crate::internal;
use crate::Control;
use model::AppError;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

/// How often the permission revision is looked at for grant changes.
const ACCESS_POLL: Duration = Duration::from_millis(250);

impl Control {
    /// Publishes an event after its change committed, stamped with the current revision.
    pub async fn publish(&self, mut envelope: Envelope) {
        match tuples::revision(self.db()).await {
            Ok(r) => envelope.revision = r,
            Err(e) => {
                tracing::warn!(error = %e, "no revision for an event; dropped");
                return;
            }
        }
        self.bus().publish(envelope).await;
    }

    /// That an operation moved on, to everyone who may read its target (operations on no
    /// resource a person can read, such as the runner's tests, are not published).
    pub(crate) async fn publish_operation(&self, op: &crate::entities::operation::Model) {
        let Some(kind) = Kind::parse(&op.target_type) else {
            return;
        };
        let event = LiveEvent::OperationUpdate {
            v: EVENT_VERSION,
            id: op.id.to_string(),
        };
        self.publish(Envelope::new(
            event,
            Some((kind, op.target_id.clone())),
            Permission::Read,
        ))
        .await;
    }

    /// That a node changed, to platform administrators (the Nodes page refetches).
    pub async fn publish_node(&self, id: Uuid) {
        let event = LiveEvent::NodeUpdate {
            v: EVENT_VERSION,
            id: id.to_string(),
        };
        let platform = Resource::platform();
        self.publish(Envelope::new(
            event,
            Some((platform.kind, platform.id)),
            Permission::ManageNodes,
        ))
        .await;
    }

    /// A VM's current state to everyone who may read it; a deletion to its organization.
    pub async fn publish_vm(&self, id: Uuid) {
        let row = match vm::Entity::find_by_id(id).one(self.db()).await {
            Ok(row) => row,
            Err(e) => {
                tracing::warn!(error = %e, "vm event not published");
                return;
            }
        };
        let Some(row) = row else {
            return;
        };
        let state = match crate::compute::Unreachable::at(self.db(), self.now()).await {
            Ok(unreachable) => unreachable.shown(&row).0.as_str().to_owned(),
            Err(_) => row.observed_state.clone(),
        };
        let event = LiveEvent::VmUpdate {
            v: EVENT_VERSION,
            id: id.to_string(),
            name: row.name.clone(),
            organization_id: row.organization_id.to_string(),
            state,
            generation: row.generation,
            deleted: false,
        };
        self.publish(Envelope::new(
            event,
            Some((Kind::Vm, id.to_string())),
            Permission::Read,
        ))
        .await;
    }

    /// A VM removed for good: its grants are gone, so its organization hears of it (shares
    /// hear of it through the access change).
    pub(crate) async fn publish_vm_deleted(&self, row: &vm::Model) {
        let event = LiveEvent::VmUpdate {
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

    /// Whether `caller` may receive `envelope`.
    pub async fn may_receive(&self, caller: &Caller, envelope: &Envelope) -> bool {
        let (Some(kind), Some(id)) = (envelope.kind, &envelope.resource) else {
            return true;
        };
        let permission = envelope.permission;
        let resource = Resource {
            kind,
            id: id.clone(),
        };
        let (decision, warm) = envelope.decision(caller.user_id);
        // The first subscriber to look at an event checks for nobody: every branch of the
        // permission is evaluated, which loads the tuples all decisions read into the cache
        // while the other subscribers wait, instead of each loading them at once.
        warm.get_or_init(|| async {
            let nobody = m::user(Uuid::nil());
            let _ = self
                .check_subject_at(&nobody, permission, &resource, envelope.revision)
                .await;
        })
        .await;
        *decision
            .get_or_init(|| async {
                self.check_subject_at(
                    &m::user(caller.user_id),
                    permission,
                    &resource,
                    envelope.revision,
                )
                .await
                .unwrap_or(false)
            })
            .await
    }

    /// Watches the permission revision and tells this instance's subscribers when grants
    /// change anywhere (any instance writes the same database), so pages refetch their lists
    /// and drop what their person may no longer see.
    pub fn spawn_access_watch(&self) -> tokio::task::JoinHandle<()> {
        let control = self.clone();
        tokio::spawn(async move {
            let mut last = tuples::revision(control.db()).await.unwrap_or(0);
            let mut tick = tokio::time::interval(ACCESS_POLL);
            loop {
                tick.tick().await;
                let Ok(now) = tuples::revision(control.db()).await else {
                    continue;
                };
                if now != last {
                    last = now;
                    let mut envelope = Envelope::new(
                        LiveEvent::AccessChanged {
                            v: EVENT_VERSION,
                            revision: now,
                        },
                        None,
                        Permission::Read,
                    );
                    envelope.revision = now;
                    control.bus().deliver_locally(envelope);
                }
            }
        })
    }

    /// Watches the audit table and tells this instance's subscribers of each new row (rows
    /// are written by every instance into the same database, so each instance delivers to
    /// its own subscribers only): organization rows to those who may see the organization's
    /// audit, other rows to platform administrators.
    pub fn spawn_audit_watch(&self) -> tokio::task::JoinHandle<()> {
        let control = self.clone();
        tokio::spawn(async move {
            let mut last = control.last_audit_id().await.unwrap_or(0);
            let mut tick = tokio::time::interval(ACCESS_POLL);
            loop {
                tick.tick().await;
                match control.deliver_audit_after(last).await {
                    Ok(Some(newest)) => last = newest,
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "watching the audit log failed"),
                }
            }
        })
    }

    async fn last_audit_id(&self) -> Result<i64, AppError> {
        Ok(audit::Entity::find()
            .order_by_desc(audit::Column::Id)
            .one(self.db())
            .await
            .map_err(|e| internal("read audit", e))?
            .map_or(0, |r| r.id))
    }

    /// Delivers rows newer than `after`; the newest id delivered.
    async fn deliver_audit_after(&self, after: i64) -> Result<Option<i64>, AppError> {
        let rows = audit::Entity::find()
            .filter(audit::Column::Id.gt(after))
            .order_by_asc(audit::Column::Id)
            .limit(500)
            .all(self.db())
            .await
            .map_err(|e| internal("read audit", e))?;
        let Some(newest) = rows.last().map(|r| r.id) else {
            return Ok(None);
        };
        let revision = tuples::revision(self.db()).await?;
        for row in rows {
            let target = match row.organization_id {
                Some(org) => (Kind::Organization, org.to_string()),
                None => (Kind::Platform, Resource::platform().id),
            };
            let mut envelope = Envelope::new(
                LiveEvent::Audit {
                    v: EVENT_VERSION,
                    id: row.id.to_string(),
                    action: row.action,
                    outcome: row.outcome,
                },
                Some(target),
                Permission::ViewAudit,
            );
            envelope.revision = revision;
            self.bus().deliver_locally(envelope);
        }
        Ok(Some(newest))
    }
}
