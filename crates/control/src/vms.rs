//! Virtual machines as records the permission engine protects: create, list, view, delete and
//! direct shares. (Booting them under QEMU arrives with the hypervisor driver.)
//!
//! Each change commits the VM row and its relation tuples in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use model::vms::{validate_vm_name, ShareLevel, VmDetail, VmShare, VmSummary};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use crate::access::model::{self as m, Kind, Permission, Rel, Resource};
use crate::access::{not_found, tuples};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::{show_time, Caller};
use crate::entities::{organization, relation_tuple, vm};
use crate::orgs::parse_id;
use crate::{internal, Control};

fn rel_of(level: ShareLevel) -> Rel {
    match level {
        ShareLevel::Viewer => Rel::Viewer,
        ShareLevel::Operator => Rel::Operator,
    }
}

impl Control {
    /// Creates a VM record in an organization; the creator owns it.
    pub async fn create_vm(
        &self,
        caller: &Caller,
        organization_id: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<VmSummary, AppError> {
        let org_id = parse_id(organization_id, Kind::Organization)?;
        let org_res = Resource::organization(org_id);
        self.authorize_action(caller, Permission::CreateVm, &org_res, "vm.create")
            .await?;
        let name = name.trim();
        validate_vm_name(name).map_err(AppError::Invalid)?;
        let org = organization::Entity::find_by_id(org_id)
            .one(self.db())
            .await
            .map_err(|e| internal("load organization", e))?
            .ok_or_else(|| not_found(Kind::Organization))?;
        let fail = |e| internal("create vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let id = Uuid::new_v4();
        vm::ActiveModel {
            id: Set(id),
            name: Set(name.to_owned()),
            organization_id: Set(org_id),
            node_id: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            crate::auth::signup::unique_or(
                e,
                AppError::Conflict(format!("{} already has a VM called {name}.", org.name)),
                "create vm",
            )
        })?;
        let res = Resource::vm(id);
        tuples::write(
            &txn,
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
        let entry = Entry::new("vm.create", &res)
            .org(org_id)
            .detail(serde_json::json!({ "name": name }));
        audit::record(&txn, &Actor::caller(caller), entry, Outcome::Success, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(vm = %name, org = %org.name, by = %caller.username, "vm created");
        Ok(VmSummary {
            id: id.to_string(),
            name: name.to_owned(),
            organization_id: org_id.to_string(),
            organization: org.name,
            owner: Some(caller.username.clone()),
            created_at: show_time(now),
        })
    }

    /// Every VM the caller may read.
    pub async fn list_vms(&self, caller: &Caller) -> Result<Vec<VmSummary>, AppError> {
        let ids: Vec<Uuid> = self
            .visible(caller, Permission::Read, Kind::Vm)
            .await?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        self.summaries(&ids).await
    }

    async fn summaries(&self, ids: &[Uuid]) -> Result<Vec<VmSummary>, AppError> {
        let fail = |e| internal("list vms", e);
        let mut rows = Vec::new();
        for chunk in ids.chunks(500) {
            rows.extend(
                vm::Entity::find()
                    .filter(vm::Column::Id.is_in(chunk.iter().copied()))
                    .all(self.db())
                    .await
                    .map_err(fail)?,
            );
        }
        let org_ids: Vec<Uuid> = rows.iter().map(|v| v.organization_id).collect();
        let orgs: HashMap<Uuid, String> = organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let mut owners: HashMap<String, String> = HashMap::new();
        let strings: Vec<String> = rows.iter().map(|v| v.id.to_string()).collect();
        for chunk in strings.chunks(500) {
            for t in relation_tuple::Entity::find()
                .filter(relation_tuple::Column::EntityType.eq("vm"))
                .filter(relation_tuple::Column::Relation.eq("owner"))
                .filter(relation_tuple::Column::EntityId.is_in(chunk.iter().cloned()))
                .all(self.db())
                .await
                .map_err(fail)?
            {
                owners.insert(t.entity_id, t.subject_id);
            }
        }
        let people = self.people(owners.values()).await?;
        let mut out: Vec<VmSummary> = rows
            .into_iter()
            .map(|v| {
                let id = v.id.to_string();
                VmSummary {
                    owner: owners
                        .get(&id)
                        .and_then(|o| people.get(o))
                        .map(|p| p.username.clone()),
                    organization: orgs.get(&v.organization_id).cloned().unwrap_or_default(),
                    organization_id: v.organization_id.to_string(),
                    name: v.name,
                    created_at: show_time(v.created_at),
                    id,
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.organization, &a.name).cmp(&(&b.organization, &b.name)));
        Ok(out)
    }

    /// One VM's page.
    pub async fn vm(&self, caller: &Caller, id: &str) -> Result<VmDetail, AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        self.authorize(caller, Permission::Read, &res).await?;
        let vm = self
            .summaries(&[id])
            .await?
            .pop()
            .ok_or_else(|| not_found(Kind::Vm))?;
        let mut shares = Vec::new();
        for level in [ShareLevel::Operator, ShareLevel::Viewer] {
            let subjects = tuples::direct(self.db(), &res, rel_of(level)).await?;
            let people = self.people(subjects.iter().map(|s| &s.id)).await?;
            shares.extend(subjects.iter().filter_map(|s| {
                people
                    .get(&s.id)
                    .cloned()
                    .map(|person| VmShare { person, level })
            }));
        }
        Ok(VmDetail {
            vm,
            can_delete: self.can(Some(caller), Permission::Delete, &res).await?,
            can_share: self.can(Some(caller), Permission::Share, &res).await?,
            shares,
        })
    }

    /// Deletes a VM record and every grant on it.
    pub async fn delete_vm(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        self.authorize_action(caller, Permission::Delete, &res, "vm.delete")
            .await?;
        let fail = |e| internal("delete vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = vm::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Vm))?;
        vm::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(fail)?;
        tuples::delete_object(&txn, &res.object()).await?;
        let entry = Entry::new("vm.delete", &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name }));
        let now = chrono::Utc::now();
        audit::record(&txn, &Actor::caller(caller), entry, Outcome::Success, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(vm = %id, by = %caller.username, "vm deleted");
        Ok(())
    }

    /// Shares a VM directly with one person, replacing any share they had.
    pub async fn share_vm(
        &self,
        caller: &Caller,
        id: &str,
        username: &str,
        level: ShareLevel,
        now: DateTime<Utc>,
    ) -> Result<VmShare, AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        self.authorize_action(caller, Permission::Share, &res, "vm.share")
            .await?;
        let org_id = self.vm_org(id).await?;
        let person = self.enabled_person(username).await?;
        let fail = |e| internal("share vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        for other in [ShareLevel::Viewer, ShareLevel::Operator] {
            tuples::delete(
                &txn,
                &tuples::tuple(&res, rel_of(other), m::user(person.id)),
            )
            .await?;
        }
        tuples::write(
            &txn,
            &[tuples::tuple(&res, rel_of(level), m::user(person.id))],
            now,
        )
        .await?;
        let entry = Entry::new("vm.share", &res)
            .org(org_id)
            .detail(serde_json::json!({ "with": person.username, "level": level.label() }));
        audit::record(&txn, &Actor::caller(caller), entry, Outcome::Success, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(vm = %id, with = %person.username, ?level, by = %caller.username, "vm shared");
        Ok(VmShare {
            person: crate::access::panel::person_ref(person),
            level,
        })
    }

    async fn vm_org(&self, id: Uuid) -> Result<Uuid, AppError> {
        vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("load vm", e))?
            .map(|v| v.organization_id)
            .ok_or_else(|| not_found(Kind::Vm))
    }

    /// Ends a direct share.
    pub async fn unshare_vm(
        &self,
        caller: &Caller,
        id: &str,
        user_id: &str,
    ) -> Result<(), AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        self.authorize_action(caller, Permission::Share, &res, "vm.unshare")
            .await?;
        let org_id = self.vm_org(id).await?;
        let person: Uuid = user_id
            .trim()
            .parse()
            .map_err(|_| AppError::NotFound("No such share.".into()))?;
        let fail = |e| internal("unshare vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let mut removed = false;
        for level in [ShareLevel::Viewer, ShareLevel::Operator] {
            removed |=
                tuples::delete(&txn, &tuples::tuple(&res, rel_of(level), m::user(person))).await?;
        }
        if !removed {
            return Err(AppError::NotFound("No such share.".into()));
        }
        let entry = Entry::new("vm.unshare", &res)
            .org(org_id)
            .detail(serde_json::json!({ "with": person }));
        let now = chrono::Utc::now();
        audit::record(&txn, &Actor::caller(caller), entry, Outcome::Success, now).await?;
        txn.commit().await.map_err(fail)?;
        Ok(())
    }
}
