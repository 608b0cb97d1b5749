//! The Access panel: who holds each permission on a resource, and why a person does or not.
//!
//! It must not become a directory of the installation. To anyone but a platform administrator
//! the panel answers as if nobody were an administrator (administrators reach every resource
//! through `platform.admin`, which would otherwise list them everywhere), and an explanation
//! for a username that has no account reads exactly like one for an account with no part in
//! the resource.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use ::model::access::{AccessOverview, ExplainStep, Explanation, PermissionHolders, PersonRef};
use ::model::AppError;
use authz::{Object, StoreError, Subject, Trace, TupleStore};
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::model::{self as m, Kind, Permission, Rel, Resource};
use super::store::DbStore;
use super::tuples;
use crate::auth::Caller;
use crate::entities::{organization, service, user, vm};
use crate::{internal, Control};

fn read_permission(kind: Kind) -> Permission {
    match kind {
        Kind::Organization => Permission::View,
        _ => Permission::Read,
    }
}

/// A tuple store in which, when `hide` is set, `platform:*#admin` has no subjects: questions
/// answered through it come out as if nobody were a platform administrator.
struct AdminsHidden<S> {
    inner: S,
    hide: bool,
}

impl<S> AdminsHidden<S> {
    fn hides(&self, kind: &str, relation: &str) -> bool {
        self.hide && kind == Kind::Platform.as_str() && relation == Rel::Admin.as_str()
    }
}

impl<S: TupleStore> TupleStore for AdminsHidden<S> {
    async fn subjects(
        &self,
        object: &Object,
        relation: &str,
    ) -> Result<Arc<[Subject]>, StoreError> {
        if self.hides(&object.kind, relation) {
            return Ok(Arc::from(Vec::new()));
        }
        self.inner.subjects(object, relation).await
    }

    async fn objects(
        &self,
        kind: &str,
        relation: &str,
        subject_kind: &str,
        subject_relation: Option<&str>,
        subject_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        if self.hides(kind, relation) {
            return Ok(Vec::new());
        }
        self.inner
            .objects(kind, relation, subject_kind, subject_relation, subject_ids)
            .await
    }
}

impl Control {
    /// Whether the panel shows platform administrators to this caller: only to another
    /// administrator (who may inspect anyone's access anyway).
    async fn sees_admins(&self, caller: &Caller) -> Result<bool, AppError> {
        self.can(
            Some(caller),
            Permission::InspectAccess,
            &Resource::platform(),
        )
        .await
    }

    /// For every permission of the resource, the people who hold it.
    pub async fn access_overview(
        &self,
        caller: &Caller,
        resource: &Resource,
    ) -> Result<AccessOverview, AppError> {
        self.authorize(caller, read_permission(resource.kind), resource)
            .await?;
        let hide = !self.sees_admins(caller).await?;
        let revision = tuples::revision(self.db()).await?;
        let store = DbStore::new(self.db());
        let cached = AdminsHidden {
            inner: self.access().cache().at(revision, &store),
            hide,
        };
        let engine = self.access().engine();
        let entity = engine
            .schema()
            .entity(resource.kind.as_str())
            .ok_or_else(|| internal("access overview", "kind missing from schema"))?;
        let mut found = Vec::new();
        for p in resource.kind.permissions() {
            let ids = engine
                .lookup_subjects(&cached, &resource.object(), p.as_str(), "user", None)
                .await
                .map_err(|e| internal("lookup subjects", e))?;
            let rule = entity
                .permission(p.as_str())
                .map(|d| d.expr.to_string())
                .unwrap_or_default();
            found.push((p, rule, ids));
        }
        let all: BTreeSet<&String> = found.iter().flat_map(|(_, _, ids)| ids.iter()).collect();
        let people = self.people(all.into_iter()).await?;
        Ok(AccessOverview {
            kind: resource.kind.as_str().to_owned(),
            id: resource.id.clone(),
            permissions: found
                .into_iter()
                .map(|(p, rule, ids)| {
                    let mut list: Vec<PersonRef> = ids
                        .iter()
                        .filter_map(|id| people.get(id).cloned())
                        .collect();
                    list.sort_by(|a, b| a.username.cmp(&b.username));
                    PermissionHolders {
                        permission: p.as_str().to_owned(),
                        rule,
                        people: list,
                    }
                })
                .collect(),
        })
    }

    /// Why `username` holds `permission` on the resource, or why not.
    pub async fn explain_access(
        &self,
        caller: &Caller,
        resource: &Resource,
        username: &str,
        permission: &str,
    ) -> Result<Explanation, AppError> {
        self.authorize(caller, read_permission(resource.kind), resource)
            .await?;
        let permission = Permission::parse(permission)
            .filter(|p| resource.kind.permissions().contains(p))
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "A {} has no permission called that.",
                    resource.kind.noun()
                ))
            })?;
        let username = username.trim();
        // No account by that name: explained for an id nobody holds, which reads exactly like
        // an account with no part in the resource.
        let person = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(self.db())
            .await
            .map_err(|e| internal("find user", e))?
            .map(|u| u.id)
            .unwrap_or_else(Uuid::nil);
        let hide = !self.sees_admins(caller).await?;
        let trace = self
            .access()
            .engine()
            .explain(
                &AdminsHidden {
                    inner: DbStore::new(self.db()),
                    hide,
                },
                &m::user(person),
                permission.as_str(),
                &resource.object(),
            )
            .await
            .map_err(|e| internal("explain", e))?;
        let mut names = self.names_in(&trace).await?;
        names.insert(format!("user:{person}"), format!("user:{username}"));
        let tree = step(&trace, &names);
        let path: Vec<String> = trace
            .granting_path()
            .into_iter()
            .map(|l| rename(l, &names))
            .collect();
        let sentence = super::sentence::sentence(
            username,
            permission.as_str(),
            &rename(&resource.object().to_string(), &names),
            trace.granted,
            &path,
        );
        Ok(Explanation {
            username: username.to_owned(),
            permission: permission.as_str().to_owned(),
            granted: trace.granted,
            sentence,
            path,
            tree,
        })
    }

    /// People by id, for lists.
    pub(crate) async fn people<'a>(
        &self,
        ids: impl Iterator<Item = &'a String>,
    ) -> Result<HashMap<String, PersonRef>, AppError> {
        // Callers pass one id per row they show (a thousand VMs of a few owners).
        let uuids: Vec<Uuid> = ids
            .filter_map(|s| s.parse().ok())
            .collect::<std::collections::BTreeSet<Uuid>>()
            .into_iter()
            .collect();
        let mut out = HashMap::new();
        for chunk in uuids.chunks(500) {
            let rows = user::Entity::find()
                .filter(user::Column::Id.is_in(chunk.iter().copied()))
                .all(self.db())
                .await
                .map_err(|e| internal("load people", e))?;
            for u in rows {
                out.insert(u.id.to_string(), person_ref(u));
            }
        }
        Ok(out)
    }

    /// An enabled account by username, for adding members and sharing; a clear error if
    /// there is none.
    pub(crate) async fn enabled_person(&self, username: &str) -> Result<user::Model, AppError> {
        user::Entity::find()
            .filter(user::Column::Username.eq(username.trim()))
            .filter(user::Column::Disabled.eq(false))
            .one(self.db())
            .await
            .map_err(|e| internal("find user", e))?
            .ok_or_else(|| AppError::Invalid(format!("Nobody is called {:?}.", username.trim())))
    }

    /// Readable names for the ids an explanation mentions (`user:<uuid>` → `user:alice`).
    async fn names_in(&self, trace: &Trace) -> Result<HashMap<String, String>, AppError> {
        let mut refs: BTreeSet<(String, Uuid)> = BTreeSet::new();
        collect_refs(trace, &mut refs);
        let ids = |kind: &str| -> Vec<Uuid> {
            refs.iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, id)| *id)
                .collect()
        };
        let fail = |e: sea_orm::DbErr| internal("name ids", e);
        let mut names = HashMap::new();
        for u in user::Entity::find()
            .filter(user::Column::Id.is_in(ids("user")))
            .all(self.db())
            .await
            .map_err(fail)?
        {
            names.insert(format!("user:{}", u.id), format!("user:{}", u.username));
        }
        for o in organization::Entity::find()
            .filter(organization::Column::Id.is_in(ids("organization")))
            .all(self.db())
            .await
            .map_err(fail)?
        {
            names.insert(
                format!("organization:{}", o.id),
                format!("organization:{}", o.name),
            );
        }
        for v in vm::Entity::find()
            .filter(vm::Column::Id.is_in(ids("vm")))
            .all(self.db())
            .await
            .map_err(fail)?
        {
            names.insert(format!("vm:{}", v.id), format!("vm:{}", v.name));
        }
        for s in service::Entity::find()
            .filter(service::Column::Id.is_in(ids("service")))
            .all(self.db())
            .await
            .map_err(fail)?
        {
            names.insert(format!("service:{}", s.id), format!("service:{}", s.name));
        }
        Ok(names)
    }
}

/// A person as lists show them.
pub(crate) fn person_ref(u: user::Model) -> PersonRef {
    PersonRef {
        id: u.id.to_string(),
        username: u.username,
        display_name: u.display_name,
    }
}

fn collect_refs(trace: &Trace, out: &mut BTreeSet<(String, Uuid)>) {
    for (i, _) in trace.label.match_indices(':') {
        let kind_start = trace.label[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(|p| p + 1)
            .unwrap_or(0);
        let kind = &trace.label[kind_start..i];
        if let Some(id) = trace
            .label
            .get(i + 1..i + 37)
            .and_then(|s| s.parse::<Uuid>().ok())
        {
            out.insert((kind.to_owned(), id));
        }
    }
    for c in &trace.children {
        collect_refs(c, out);
    }
}

fn rename(label: &str, names: &HashMap<String, String>) -> String {
    let mut out = label.to_owned();
    for (from, to) in names {
        out = out.replace(from, to);
    }
    out
}

fn step(trace: &Trace, names: &HashMap<String, String>) -> ExplainStep {
    ExplainStep {
        label: rename(&trace.label, names),
        granted: trace.granted,
        children: trace.children.iter().map(|c| step(c, names)).collect(),
    }
}
