//! Organizations: create, list, view, and membership (add, change role, remove, leave).
//!
//! Membership is the `owner` and `member` relations of the organization, written in the same
//! transaction as any row they go with. Changes take a write lock on the organization's row
//! first, so two concurrent changes cannot both remove the last owner.
mod members;
pub(crate) mod quotas;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use model::orgs::{validate_org_name, OrgDetail, OrgMember, OrgRole, OrgSummary};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use crate::access::model::{self as m, Kind, Permission, Rel, Resource};
use crate::access::{not_found, parse_id, tuples};
use crate::audit::Action;
use crate::audit::{self, Entry};
use crate::auth::{show_time, Caller};
use crate::entities::{organization, relation_tuple, user};
use crate::{internal, Control};

fn rel_of(role: OrgRole) -> Rel {
    match role {
        OrgRole::Owner => Rel::Owner,
        OrgRole::Member => Rel::Member,
    }
}

fn last_owner() -> AppError {
    AppError::Conflict(
        "An organization needs at least one owner: make someone else an owner first.".into(),
    )
}

impl Control {
    /// Creates an organization; the creator becomes its owner.
    pub async fn create_organization(
        &self,
        caller: &Caller,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<OrgSummary, AppError> {
        let allowed = self
            .authorize_action(
                caller,
                Permission::CreateOrganization,
                &Resource::platform(),
                Action::OrganizationCreate,
            )
            .await?;
        let name = name.trim();
        validate_org_name(name).map_err(AppError::Invalid)?;
        let fail = |e| internal("create organization", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let id = Uuid::new_v4();
        organization::ActiveModel {
            id: Set(id),
            name: Set(name.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            crate::error::unique_or(
                e,
                AppError::Conflict("An organization with that name already exists.".into()),
                "create organization",
            )
        })?;
        let org = Resource::organization(id);
        tuples::write(
            &txn,
            &allowed,
            &[
                tuples::points_to(&org, Rel::Platform, Kind::Platform, m::PLATFORM_ID),
                tuples::tuple(&org, Rel::Owner, m::user(caller.user_id)),
            ],
            now,
        )
        .await?;
        // Every organization starts with a network for its VMs.
        crate::networks::ensure_default(&txn, &allowed, id, now).await?;
        let entry = Entry::new(Action::OrganizationCreate, &org)
            .org(id)
            .detail(serde_json::json!({ "name": name }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(org = %name, by = %caller.username, "organization created");
        Ok(OrgSummary {
            id: id.to_string(),
            name: name.to_owned(),
            role: Some(OrgRole::Owner),
            members: 1,
        })
    }

    /// Every organization the caller may see.
    pub async fn list_organizations(&self, caller: &Caller) -> Result<Vec<OrgSummary>, AppError> {
        let ids: Vec<Uuid> = self
            .visible(caller, Permission::View, Kind::Organization)
            .await?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        let fail = |e| internal("list organizations", e);
        let mut orgs = Vec::new();
        for chunk in ids.chunks(500) {
            orgs.extend(
                organization::Entity::find()
                    .filter(organization::Column::Id.is_in(chunk.iter().copied()))
                    .order_by_asc(organization::Column::Name)
                    .all(self.db())
                    .await
                    .map_err(fail)?,
            );
        }
        orgs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut mine: HashMap<String, OrgRole> = HashMap::new();
        let me = caller.user_id.to_string();
        let strings: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        for chunk in strings.chunks(500) {
            let rows = relation_tuple::Entity::find()
                .filter(relation_tuple::Column::EntityType.eq(Kind::Organization.as_str()))
                .filter(relation_tuple::Column::EntityId.is_in(chunk.iter().cloned()))
                .filter(relation_tuple::Column::Relation.is_in(["owner", "member"]))
                .all(self.db())
                .await
                .map_err(fail)?;
            for r in rows {
                *counts.entry(r.entity_id.clone()).or_default() += 1;
                if r.subject_type == "user" && r.subject_id == me {
                    let role = if r.relation == "owner" {
                        OrgRole::Owner
                    } else {
                        OrgRole::Member
                    };
                    mine.insert(r.entity_id, role);
                }
            }
        }
        Ok(orgs
            .into_iter()
            .map(|o| {
                let id = o.id.to_string();
                OrgSummary {
                    members: counts.get(&id).copied().unwrap_or(0),
                    role: mine.get(&id).copied(),
                    id,
                    name: o.name,
                }
            })
            .collect())
    }

    /// One organization's page: its members and what the caller may do.
    pub async fn organization(&self, caller: &Caller, id: &str) -> Result<OrgDetail, AppError> {
        let id = parse_id(id, Kind::Organization)?;
        let res = Resource::organization(id);
        self.authorize(caller, Permission::View, &res).await?;
        let org = organization::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("load organization", e))?
            .ok_or_else(|| not_found(Kind::Organization))?;
        let members = self.members(self.db(), &res).await?;
        let role = members
            .iter()
            .find(|m| m.person.id == caller.user_id.to_string())
            .map(|m| m.role);
        Ok(OrgDetail {
            id: org.id.to_string(),
            name: org.name,
            created_at: show_time(org.created_at),
            role,
            can_manage: self.can(Some(caller), Permission::Manage, &res).await?,
            can_leave: role.is_some(),
            members,
        })
    }

    /// Members with their roles, owners first.
    async fn members<C: ConnectionTrait>(
        &self,
        conn: &C,
        org: &Resource,
    ) -> Result<Vec<OrgMember>, AppError> {
        let mut roles: Vec<(String, OrgRole)> = Vec::new();
        for role in [OrgRole::Owner, OrgRole::Member] {
            for s in tuples::direct(conn, org, rel_of(role)).await? {
                if s.kind == "user" && s.relation.is_none() {
                    roles.push((s.id, role));
                }
            }
        }
        let people = self.people(roles.iter().map(|(id, _)| id)).await?;
        let mut out: Vec<OrgMember> = roles
            .into_iter()
            .filter_map(|(id, role)| {
                people
                    .get(&id)
                    .cloned()
                    .map(|person| OrgMember { person, role })
            })
            .collect();
        out.sort_by(|a, b| {
            (a.role != OrgRole::Owner, &a.person.username)
                .cmp(&(b.role != OrgRole::Owner, &b.person.username))
        });
        Ok(out)
    }

    /// Locks the organization's row for this transaction; not found if it is gone.
    async fn lock_org(&self, txn: &DatabaseTransaction, id: Uuid) -> Result<(), AppError> {
        let done = organization::Entity::update_many()
            .col_expr(
                organization::Column::Name,
                Expr::col(organization::Column::Name).into(),
            )
            .filter(organization::Column::Id.eq(id))
            .exec(txn)
            .await
            .map_err(|e| internal("lock organization", e))?;
        if done.rows_affected == 1 {
            Ok(())
        } else {
            Err(not_found(Kind::Organization))
        }
    }

    async fn role_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        org: &Resource,
        person: Uuid,
    ) -> Result<Option<OrgRole>, AppError> {
        let me = m::user(person);
        for role in [OrgRole::Owner, OrgRole::Member] {
            if tuples::direct(conn, org, rel_of(role)).await?.contains(&me) {
                return Ok(Some(role));
            }
        }
        Ok(None)
    }

    /// Owners whose accounts are enabled: a disabled owner cannot look after anything.
    async fn owner_count<C: ConnectionTrait>(
        &self,
        conn: &C,
        org: &Resource,
    ) -> Result<usize, AppError> {
        let ids: Vec<Uuid> = tuples::direct(conn, org, Rel::Owner)
            .await?
            .into_iter()
            .filter(|s| s.kind == "user")
            .filter_map(|s| s.id.parse().ok())
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let n = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .filter(user::Column::Disabled.eq(false))
            .count(conn)
            .await
            .map_err(|e| internal("count owners", e))?;
        Ok(n as usize)
    }

    /// Re-checks a permission under the organization's lock, so a caller who lost it while
    /// this request was on its way cannot still make the change.
    async fn recheck<C: ConnectionTrait + Sync>(
        &self,
        conn: &C,
        caller: &Caller,
        permission: Permission,
        org: &Resource,
    ) -> Result<(), AppError> {
        if self
            .check_in(conn, &m::user(caller.user_id), permission, org)
            .await?
        {
            Ok(())
        } else {
            Err(crate::access::forbidden(permission, Kind::Organization))
        }
    }
}
