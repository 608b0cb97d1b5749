//! A VM's tags: labels its organization's firewall rules name as a source. Tags open
//! networks, so those who manage the organization's networks set them (at create or later);
//! a change rebuilds the organization's routers at once.

use chrono::{DateTime, Utc};
use model::vms::{joined_tags, split_tags, validate_tags};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::audit::{self, Action, Entry};
use crate::auth::Caller;
use crate::entities::vm;
use crate::{internal, Control};

impl Control {
    /// Replaces a VM's tags; returns them as stored (sorted, once each).
    pub async fn set_vm_tags(
        &self,
        caller: &Caller,
        vm_id: &str,
        tags: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, AppError> {
        let id = parse_id(vm_id, Kind::Vm)?;
        self.authorize(caller, Permission::Read, &Resource::vm(id))
            .await?;
        let fail = |e| internal("tag vm", e);
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Vm))?;
        let org = Resource::organization(row.organization_id);
        let allowed = self
            .authorize_action(caller, Permission::CreateNetwork, &org, Action::VmTag)
            .await?;
        validate_tags(tags).map_err(AppError::Invalid)?;
        let stored = joined_tags(tags);
        let txn = self.db().begin().await.map_err(fail)?;
        vm::Entity::update_many()
            .col_expr(vm::Column::Tags, Expr::value(stored.clone()))
            .filter(vm::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        let entry = Entry::new(Action::VmTag, &Resource::vm(id))
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name, "tags": stored }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.publish_vm(id).await;
        self.push_routers(row.organization_id).await;
        Ok(split_tags(&stored))
    }

    /// Whether the caller may tag the VMs of an organization.
    pub(crate) async fn may_tag(&self, caller: &Caller, org: Uuid) -> Result<bool, AppError> {
        self.can(
            Some(caller),
            Permission::CreateNetwork,
            &Resource::organization(org),
        )
        .await
    }
}
