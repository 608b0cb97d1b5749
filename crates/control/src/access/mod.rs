//! Authorization: the embedded engine over Strata's schema and the `relation_tuples` table.
//!
//! Use cases call [`Control::authorize`] before they act and [`Control::visible`] to list.
//! Every question first reads the tuple revision, so the cache never answers from before the
//! last committed grant or revoke, in this process or any other sharing the database. A
//! resource the caller may not read is reported as not found; one they may read but not
//! change, as forbidden. An evaluation error denies and is logged.

pub mod grants;
pub mod inspect;
mod memo;
pub mod model;
pub mod panel;
pub mod proof;
pub mod sentence;
pub mod store;
pub mod tuples;

use ::model::AppError;
use authz::{Engine, Schema, SchemaError, Subject, TupleCache};
use model::{Kind, Permission, Resource, KINDS, WRITTEN};
use sea_orm::ConnectionTrait;

use crate::audit::Action;
use crate::auth::Caller;
use crate::{internal, Control};
pub use proof::Authorized;
use store::DbStore;

/// The project's schema, compiled into the binary.
pub const SCHEMA: &str = include_str!("../../schema/strata.perm");

/// Entries the tuple cache holds before it starts over.
const CACHE_ENTRIES: usize = 200_000;

/// Ids the lookup memo holds in all before it starts over (about 60 bytes each).
const MEMO_IDS: usize = 100_000;

/// The engine and its cache; one per process.
#[derive(Debug)]
pub struct Access {
    engine: Engine,
    cache: TupleCache,
    lookups: memo::LookupMemo,
}

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("the permission schema does not compile: {0}")]
    Schema(#[from] SchemaError),
    #[error("the permission schema lacks `{0}`, which the code uses")]
    Missing(String),
}

impl Access {
    /// Compiles `text` and checks it defines every name the code uses.
    pub fn new(text: &str) -> Result<Self, AccessError> {
        let schema = Schema::parse(text)?;
        for kind in KINDS {
            let entity = schema
                .entity(kind.as_str())
                .ok_or_else(|| AccessError::Missing(format!("entity {}", kind.as_str())))?;
            for p in kind.permissions() {
                if entity.permission(p.as_str()).is_none() {
                    return Err(AccessError::Missing(format!(
                        "permission {}.{}",
                        kind.as_str(),
                        p.as_str()
                    )));
                }
            }
        }
        for (kind, rel) in WRITTEN {
            let has = schema
                .entity(kind.as_str())
                .is_some_and(|e| e.relation(rel.as_str()).is_some());
            if !has {
                return Err(AccessError::Missing(format!(
                    "relation {}.{}",
                    kind.as_str(),
                    rel.as_str()
                )));
            }
        }
        Ok(Self {
            engine: Engine::new(schema),
            cache: TupleCache::new(CACHE_ENTRIES),
            lookups: memo::LookupMemo::new(MEMO_IDS),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn cache(&self) -> &TupleCache {
        &self.cache
    }
}

fn eval_failed(e: authz::EvalError) -> AppError {
    internal("permission check", e)
}

impl Control {
    /// Whether `subject` holds `permission` on `resource`, as of the last commit.
    pub async fn check_subject(
        &self,
        subject: &Subject,
        permission: Permission,
        resource: &Resource,
    ) -> Result<bool, AppError> {
        let revision = tuples::revision(self.db()).await?;
        self.check_subject_at(subject, permission, resource, revision)
            .await
    }

    /// The same, at a revision read earlier (an event's): the cache answers for that revision
    /// only, and an older one reads the tuples as they are now.
    pub async fn check_subject_at(
        &self,
        subject: &Subject,
        permission: Permission,
        resource: &Resource,
        revision: i64,
    ) -> Result<bool, AppError> {
        let started = std::time::Instant::now();
        let store = DbStore::new(self.db());
        let cached = self.access().cache().at(revision, &store);
        let result = self
            .access()
            .engine()
            .check(&cached, subject, permission.as_str(), &resource.object())
            .await
            .map_err(eval_failed);
        let outcome = match &result {
            Ok(true) => "allowed",
            Ok(false) => "denied",
            Err(_) => "error",
        };
        metrics::counter!("strata_authz_checks_total", "result" => outcome).increment(1);
        metrics::histogram!("strata_authz_check_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        result
    }

    /// Whether the caller (None: anonymous, who may do nothing) may do this.
    pub async fn can(
        &self,
        caller: Option<&Caller>,
        permission: Permission,
        resource: &Resource,
    ) -> Result<bool, AppError> {
        match caller {
            None => Ok(false),
            Some(c) => {
                if let Some(token) = &c.token {
                    let org = self.organization_of(resource).await?;
                    if !token.allows(permission, resource, org) {
                        return Ok(false);
                    }
                }
                self.check_subject(&model::user(c.user_id), permission, resource)
                    .await
            }
        }
    }

    /// The proof the caller may do this; otherwise not found (cannot even read it) or
    /// forbidden (can read it, may not do this).
    pub async fn authorize(
        &self,
        caller: &Caller,
        permission: Permission,
        resource: &Resource,
    ) -> Result<Authorized, AppError> {
        if self.can(Some(caller), permission, resource).await? {
            return Ok(Authorized::checked(permission, resource));
        }
        let read = match resource.kind {
            Kind::Platform => return Err(forbidden(permission, resource.kind)),
            Kind::Organization => Permission::View,
            _ => Permission::Read,
        };
        if permission != read && self.can(Some(caller), read, resource).await? {
            Err(forbidden(permission, resource.kind))
        } else {
            Err(not_found(resource.kind))
        }
    }

    /// [`Control::authorize`] for a change: a refusal is written to the audit log as denied.
    pub async fn authorize_action(
        &self,
        caller: &Caller,
        permission: Permission,
        resource: &Resource,
        action: Action,
    ) -> Result<Authorized, AppError> {
        let result = self.authorize(caller, permission, resource).await;
        if let Err(e @ (AppError::Forbidden(_) | AppError::NotFound(_))) = &result {
            self.record_denial(caller, action, resource, e).await?;
        }
        result
    }

    /// Records that `caller` was refused `action` on `resource` (permission or rule).
    pub(crate) async fn record_denial(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        reason: &AppError,
    ) -> Result<(), AppError> {
        let mut entry = crate::audit::Entry::new(action, resource)
            .detail(serde_json::json!({ "reason": reason.to_string() }));
        if let Some(org) = self.organization_of(resource).await? {
            entry = entry.org(org);
        }
        crate::audit::record_denied(
            self.db(),
            &crate::audit::Actor::caller(caller),
            entry,
            self.now(),
        )
        .await
    }

    /// The organization a resource belongs to, for tagging audit rows and token scopes.
    pub(crate) async fn organization_of(
        &self,
        resource: &Resource,
    ) -> Result<Option<sea_orm::prelude::Uuid>, AppError> {
        use sea_orm::EntityTrait;
        let Ok(id) = resource.id.parse::<sea_orm::prelude::Uuid>() else {
            return Ok(None);
        };
        let fail = |e| internal("organization of resource", e);
        Ok(match resource.kind {
            Kind::Organization => Some(id),
            Kind::Vm => crate::entities::vm::Entity::find_by_id(id)
                .one(self.db())
                .await
                .map_err(fail)?
                .map(|v| v.organization_id),
            Kind::Service => crate::entities::service::Entity::find_by_id(id)
                .one(self.db())
                .await
                .map_err(fail)?
                .map(|v| v.organization_id),
            Kind::Network => crate::entities::network::Entity::find_by_id(id)
                .one(self.db())
                .await
                .map_err(fail)?
                .map(|n| n.organization_id),
            _ => None,
        })
    }

    /// Ids of every `kind` object the caller holds `permission` on.
    pub async fn visible(
        &self,
        caller: &Caller,
        permission: Permission,
        kind: Kind,
    ) -> Result<Vec<String>, AppError> {
        let ids = self.visible_to_owner(caller, permission, kind).await?;
        match &caller.token {
            None => Ok(ids),
            Some(token) => self.narrow_to_token(token, permission, kind, ids).await,
        }
    }

    /// What of `ids` (visible to a token's owner) the token itself may use.
    async fn narrow_to_token(
        &self,
        token: &crate::auth::api_tokens::Restriction,
        permission: Permission,
        kind: Kind,
        ids: Vec<String>,
    ) -> Result<Vec<String>, AppError> {
        use crate::auth::api_tokens::Scope;
        if !token.admits(permission) {
            return Ok(Vec::new());
        }
        let org = match &token.scope {
            Scope::Everything => return Ok(ids),
            Scope::Organization(org)
                if matches!(kind, Kind::Vm | Kind::Service | Kind::Network) =>
            {
                *org
            }
            _ => {
                return Ok(ids
                    .into_iter()
                    .filter(|id| {
                        let res = Resource {
                            kind,
                            id: id.clone(),
                        };
                        token.allows(permission, &res, None)
                    })
                    .collect())
            }
        };
        let fail = |e| internal("token scope", e);
        let inside: std::collections::HashSet<String> = match kind {
            Kind::Vm => {
                Self::ids_in_org::<crate::entities::vm::Entity, _, _>(
                    self.db(),
                    crate::entities::vm::Column::Id,
                    crate::entities::vm::Column::OrganizationId,
                    org,
                )
                .await
            }
            Kind::Network => {
                Self::ids_in_org::<crate::entities::network::Entity, _, _>(
                    self.db(),
                    crate::entities::network::Column::Id,
                    crate::entities::network::Column::OrganizationId,
                    org,
                )
                .await
            }
            _ => {
                Self::ids_in_org::<crate::entities::service::Entity, _, _>(
                    self.db(),
                    crate::entities::service::Column::Id,
                    crate::entities::service::Column::OrganizationId,
                    org,
                )
                .await
            }
        }
        .map_err(fail)?;
        Ok(ids.into_iter().filter(|id| inside.contains(id)).collect())
    }

    /// The ids (as text) of every row of `E` in organization `org`.
    async fn ids_in_org<E, I, O>(
        db: &sea_orm::DatabaseConnection,
        id: I,
        organization: O,
        org: sea_orm::prelude::Uuid,
    ) -> Result<std::collections::HashSet<String>, sea_orm::DbErr>
    where
        E: sea_orm::EntityTrait,
        I: sea_orm::ColumnTrait,
        O: sea_orm::ColumnTrait,
    {
        use sea_orm::{QueryFilter, QuerySelect};
        Ok(E::find()
            .select_only()
            .column(id)
            .filter(organization.eq(org))
            .into_tuple::<sea_orm::prelude::Uuid>()
            .all(db)
            .await?
            .into_iter()
            .map(|id| id.to_string())
            .collect())
    }

    /// [`Control::visible`] for the caller's account, before any token narrows it.
    async fn visible_to_owner(
        &self,
        caller: &Caller,
        permission: Permission,
        kind: Kind,
    ) -> Result<Vec<String>, AppError> {
        let started = std::time::Instant::now();
        let revision = tuples::revision(self.db()).await?;
        let question = (caller.user_id, permission, kind);
        if let Some(ids) = self.access().lookups.get(revision, &question) {
            metrics::counter!("strata_authz_lookups_total", "memo" => "hit").increment(1);
            return Ok(ids.to_vec());
        }
        let store = DbStore::new(self.db());
        let cached = self.access().cache().at(revision, &store);
        let ids: Vec<String> = self
            .access()
            .engine()
            .lookup_resources(
                &cached,
                &model::user(caller.user_id),
                permission.as_str(),
                kind.as_str(),
            )
            .await
            .map_err(eval_failed)?
            .into_iter()
            .collect();
        self.access()
            .lookups
            .put(revision, question, ids.iter().cloned().collect());
        metrics::counter!("strata_authz_lookups_total", "memo" => "miss").increment(1);
        metrics::histogram!("strata_authz_lookup_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(ids)
    }

    /// The same check inside a transaction, without the cache: for decisions that must see
    /// the transaction's own writes.
    pub async fn check_in<C: ConnectionTrait + Sync>(
        &self,
        conn: &C,
        subject: &Subject,
        permission: Permission,
        resource: &Resource,
    ) -> Result<bool, AppError> {
        self.access()
            .engine()
            .check(
                &DbStore::new(conn),
                subject,
                permission.as_str(),
                &resource.object(),
            )
            .await
            .map_err(eval_failed)
    }
}

pub fn not_found(kind: Kind) -> AppError {
    AppError::NotFound(format!("No such {}.", kind.noun()))
}

/// The id of a `kind` from a request; anything that is not a UUID is that kind's "not found".
pub(crate) fn parse_id(id: &str, kind: Kind) -> Result<sea_orm::prelude::Uuid, AppError> {
    id.trim().parse().map_err(|_| not_found(kind))
}

pub fn forbidden(permission: Permission, _kind: Kind) -> AppError {
    let what = match permission {
        Permission::ManageUsers => "manage users",
        Permission::ManageNodes => "manage nodes",
        Permission::ManageImages => "manage images",
        Permission::ManageQuotas => "set quotas",
        Permission::CreateOrganization => "create organizations",
        Permission::ViewAudit => "see the audit log",
        Permission::InspectAccess => "inspect other people's access",
        Permission::View => "see this",
        Permission::Contribute => "work in this organization",
        Permission::Manage => "manage this organization",
        Permission::CreateVm => "create virtual machines here",
        Permission::CreateService => "create services here",
        Permission::CreateNetwork => "create networks here",
        Permission::Leave => "leave this organization",
        Permission::Read => "see this",
        Permission::Update => "change this",
        Permission::Delete => "delete this",
        Permission::Start => "start this",
        Permission::Stop => "stop this",
        Permission::Restart => "restart this",
        Permission::Console => "use this console",
        Permission::Deploy => "deploy this",
        Permission::Share => "share this",
        Permission::Attach => "put VMs on this network",
    };
    AppError::Forbidden(format!("You may not {what}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_schema_compiles_and_defines_everything_the_code_uses() {
        Access::new(SCHEMA).unwrap();
    }

    #[test]
    fn a_bad_schema_stops_start_up_with_its_position() {
        let e = Access::new("entity user {}\nentity vm {\n  relation owner @usr\n}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the permission schema does not compile: line 3, column 19: relation `owner` of `vm` names unknown entity `usr`"
        );
    }

    #[test]
    fn a_schema_missing_a_used_permission_is_refused() {
        let without_console = SCHEMA.replace(
            "permission console = owns or operator or organization.manage",
            "",
        );
        let e = Access::new(&without_console).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the permission schema lacks `permission vm.console`, which the code uses"
        );
    }
}
