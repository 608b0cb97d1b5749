//! Virtual machines as people read them (list, detail page with timeline and operations) and
//! their direct shares. Requests that change a VM are in [`crate::compute::requests`].

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use model::vms::{
    ShareLevel, VmAction, VmCursor, VmDetail, VmEvent, VmPage, VmQuery, VmShare, VmSummary,
    VM_PAGE, VM_PAGE_MAX,
};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};

use crate::access::model::{self as m, Kind, Permission, Rel, Resource};
use crate::access::parse_id;
use crate::access::{not_found, tuples};
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::{show_time, Caller};
use crate::compute::requests::{action_allowed, action_permission};
use crate::compute::shown::Unreachable;
use crate::entities::states::Desired;
use crate::entities::{image, node, organization, relation_tuple, vm, vm_event};
use crate::{internal, Control};

fn rel_of(level: ShareLevel) -> Rel {
    match level {
        ShareLevel::Viewer => Rel::Viewer,
        ShareLevel::Operator => Rel::Operator,
    }
}

impl Control {
    /// One page of the VMs the caller may read, optionally of one organization and in one
    /// state, sorted by organization and name. Only the page's rows are loaded whole: the
    /// sort reads three columns of every readable VM.
    pub async fn list_vms(&self, caller: &Caller, query: &VmQuery) -> Result<VmPage, AppError> {
        let limit = query.limit.unwrap_or(VM_PAGE).clamp(1, VM_PAGE_MAX) as usize;
        let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
            Some(text) => Some(VmCursor::decode(text).ok_or_else(|| {
                AppError::Invalid("That page of the list does not exist.".into())
            })?),
            None => None,
        };
        let org_filter: Option<Uuid> = match query.organization_id.as_deref() {
            Some(id) if !id.trim().is_empty() => Some(parse_id(id, Kind::Organization)?),
            _ => None,
        };
        let ids: Vec<Uuid> = self
            .visible(caller, Permission::Read, Kind::Vm)
            .await?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        let fail = |e| internal("list vms", e);
        let mut keys: Vec<(Uuid, Uuid, String)> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut find = vm::Entity::find()
                .select_only()
                .column(vm::Column::Id)
                .column(vm::Column::OrganizationId)
                .column(vm::Column::Name)
                .filter(vm::Column::Id.is_in(chunk.iter().copied()));
            if let Some(org) = org_filter {
                find = find.filter(vm::Column::OrganizationId.eq(org));
            }
            if let Some(state) = query.state {
                find = find.filter(vm::Column::ObservedState.eq(state.as_str()));
            }
            keys.extend(
                find.into_tuple::<(Uuid, Uuid, String)>()
                    .all(self.db())
                    .await
                    .map_err(fail)?,
            );
        }
        let org_ids: BTreeSet<Uuid> = keys.iter().map(|k| k.1).collect();
        let orgs: HashMap<Uuid, String> = organization::Entity::find()
            .select_only()
            .column(organization::Column::Id)
            .column(organization::Column::Name)
            .filter(organization::Column::Id.is_in(org_ids))
            .into_tuple::<(Uuid, String)>()
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .collect();
        let mut sorted: Vec<VmCursor> = keys
            .into_iter()
            .map(|(id, org, name)| VmCursor {
                organization: orgs.get(&org).cloned().unwrap_or_default(),
                name,
                id: id.to_string(),
            })
            .collect();
        sorted.sort_unstable();
        let total = sorted.len() as u64;
        let start = match &after {
            Some(cursor) => sorted.partition_point(|k| k <= cursor),
            None => 0,
        };
        let page: Vec<&VmCursor> = sorted.iter().skip(start).take(limit).collect();
        let next = (start + page.len() < sorted.len())
            .then(|| page.last().map(|k| k.encode()))
            .flatten();
        let page_ids: Vec<Uuid> = page.iter().filter_map(|k| k.id.parse().ok()).collect();
        Ok(VmPage {
            vms: self.summaries(&page_ids).await?,
            total,
            next,
        })
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
        let org_ids: BTreeSet<Uuid> = rows.iter().map(|v| v.organization_id).collect();
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
        let images: HashMap<Uuid, String> = image::Entity::find()
            .filter(
                image::Column::Id.is_in(
                    rows.iter()
                        .filter_map(|v| v.image_id)
                        .collect::<BTreeSet<Uuid>>(),
                ),
            )
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect();
        let unreachable = Unreachable::at(self.db(), self.now()).await?;
        let mut out: Vec<VmSummary> = rows
            .into_iter()
            .map(|v| {
                let id = v.id.to_string();
                let (state, state_reason) = unreachable.shown(&v);
                VmSummary {
                    state,
                    state_reason,
                    image: v.image_id.and_then(|i| images.get(&i).cloned()),
                    cpu_count: u32::try_from(v.cpu_count).unwrap_or(0),
                    memory_mb: u32::try_from(v.memory_mb).unwrap_or(0),
                    disk_gb: u32::try_from(v.disk_gb).unwrap_or(0),
                    generation: v.generation,
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
        out.sort_by(|a, b| {
            (&a.organization, &a.name, &a.id).cmp(&(&b.organization, &b.name, &b.id))
        });
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
        let shares = self.shares_of(&res).await?;
        let fail = |e| internal("load vm", e);
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Vm))?;
        // A replica is powered, deleted and shared through its service, never here.
        let own = row.service_id.is_none();
        let mut actions = Vec::new();
        for action in VmAction::ALL {
            if own
                && action_allowed(action, vm.state, row.desired_state)
                && self
                    .can(Some(caller), action_permission(action), &res)
                    .await?
            {
                actions.push(action);
            }
        }
        let events = self.timeline(id).await?;
        let node = match row.node_id {
            Some(n) => node::Entity::find_by_id(n)
                .one(self.db())
                .await
                .map_err(fail)?
                .map(|n| n.name),
            None => None,
        };
        let operations = self
            .list_operations(caller, Some((Kind::Vm, &id.to_string())))
            .await?
            .into_iter()
            .take(20)
            .collect();
        let nics = crate::networks::cards::views(self.db(), id, &row.name).await?;
        Ok(VmDetail {
            vm,
            description: row.description,
            desired_state: row.desired_state.as_str().to_owned(),
            node,
            actions,
            can_delete: own
                && row.desired_state != Desired::Deleted
                && self.can(Some(caller), Permission::Delete, &res).await?,
            can_share: own && self.can(Some(caller), Permission::Share, &res).await?,
            can_console: self.can(Some(caller), Permission::Console, &res).await?,
            shares,
            events,
            operations,
            nics,
            tags: model::vms::split_tags(&row.tags),
            can_tag: self.may_tag(caller, row.organization_id).await?,
        })
    }

    /// The people a VM is shared with directly, operators first.
    async fn shares_of(&self, res: &Resource) -> Result<Vec<VmShare>, AppError> {
        let mut shares = Vec::new();
        for level in [ShareLevel::Operator, ShareLevel::Viewer] {
            let subjects = tuples::direct(self.db(), res, rel_of(level)).await?;
            let people = self.people(subjects.iter().map(|s| &s.id)).await?;
            shares.extend(subjects.iter().filter_map(|s| {
                people
                    .get(&s.id)
                    .cloned()
                    .map(|person| VmShare { person, level })
            }));
        }
        Ok(shares)
    }

    /// The VM's last 50 timeline lines, newest first.
    async fn timeline(&self, id: Uuid) -> Result<Vec<VmEvent>, AppError> {
        Ok(vm_event::Entity::find()
            .filter(vm_event::Column::VmId.eq(id))
            .order_by_desc(vm_event::Column::Id)
            .limit(50)
            .all(self.db())
            .await
            .map_err(|e| internal("load vm", e))?
            .into_iter()
            .map(|e| VmEvent {
                at: show_time(e.at),
                kind: e.kind,
                message: e.message,
            })
            .collect())
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
        let (allowed, row) = self
            .authorize_own_vm(caller, Permission::Share, id, Action::VmShare)
            .await?;
        let org_id = row.organization_id;
        let person = self.enabled_person(username).await?;
        let fail = |e| internal("share vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        for other in [ShareLevel::Viewer, ShareLevel::Operator] {
            tuples::delete(
                &txn,
                &allowed,
                &tuples::tuple(&res, rel_of(other), m::user(person.id)),
            )
            .await?;
        }
        tuples::write(
            &txn,
            &allowed,
            &[tuples::tuple(&res, rel_of(level), m::user(person.id))],
            now,
        )
        .await?;
        let entry = Entry::new(Action::VmShare, &res)
            .org(org_id)
            .detail(serde_json::json!({ "with": person.username, "level": level.label() }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(vm = %id, with = %person.username, ?level, by = %caller.username, "vm shared");
        Ok(VmShare {
            person: crate::access::panel::person_ref(person),
            level,
        })
    }

    /// Ends a direct share.
    pub async fn unshare_vm(
        &self,
        caller: &Caller,
        id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        let (allowed, row) = self
            .authorize_own_vm(caller, Permission::Share, id, Action::VmUnshare)
            .await?;
        let org_id = row.organization_id;
        let person: Uuid = user_id
            .trim()
            .parse()
            .map_err(|_| AppError::NotFound("No such share.".into()))?;
        let fail = |e| internal("unshare vm", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let mut removed = false;
        for level in [ShareLevel::Viewer, ShareLevel::Operator] {
            removed |= tuples::delete(
                &txn,
                &allowed,
                &tuples::tuple(&res, rel_of(level), m::user(person)),
            )
            .await?;
        }
        if !removed {
            return Err(AppError::NotFound("No such share.".into()));
        }
        let entry = Entry::new(Action::VmUnshare, &res)
            .org(org_id)
            .detail(serde_json::json!({ "with": person }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        Ok(())
    }
}
