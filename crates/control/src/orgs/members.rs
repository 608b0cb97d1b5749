//! Membership: adding people, changing roles, removing people and leaving, each checked
//! again under the organization's row lock so the last owner can never go.

use chrono::{DateTime, Utc};
use model::orgs::{OrgMember, OrgRole};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::TransactionTrait;

use crate::access::model::{self as m, Kind, Permission, Resource};
use crate::access::Authorized;
use crate::access::{parse_id, tuples};
use crate::audit::Action;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::{internal, Control};

use super::{last_owner, rel_of};

impl Control {
    /// Adds a person by username with a role. Only those who manage the organization may.
    pub async fn add_member(
        &self,
        caller: &Caller,
        org_id: &str,
        username: &str,
        role: OrgRole,
        now: DateTime<Utc>,
    ) -> Result<OrgMember, AppError> {
        let id = parse_id(org_id, Kind::Organization)?;
        let org = Resource::organization(id);
        let allowed = self
            .authorize_action(
                caller,
                Permission::Manage,
                &org,
                Action::OrganizationAddMember,
            )
            .await?;
        let person = self.enabled_person(username).await?;
        let fail = |e| internal("add member", e);
        let txn = self.db().begin().await.map_err(fail)?;
        self.lock_org(&txn, id).await?;
        self.recheck(&txn, caller, Permission::Manage, &org).await?;
        if let Some(existing) = self.role_in(&txn, &org, person.id).await? {
            return Err(AppError::Conflict(format!(
                "{} is already {} of this organization; change their role instead.",
                person.username,
                if existing == OrgRole::Owner {
                    "an owner"
                } else {
                    "a member"
                }
            )));
        }
        tuples::write(
            &txn,
            &allowed,
            &[tuples::tuple(&org, rel_of(role), m::user(person.id))],
            now,
        )
        .await?;
        let entry = Entry::new(Action::OrganizationAddMember, &org)
            .org(id)
            .detail(serde_json::json!({ "member": person.username, "role": role.label() }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(org = %id, member = %person.username, ?role, by = %caller.username, "member added");
        Ok(OrgMember {
            person: crate::access::panel::person_ref(person),
            role,
        })
    }

    /// Makes a member an owner or an owner a member; the last owner stays an owner.
    pub async fn change_member_role(
        &self,
        caller: &Caller,
        org_id: &str,
        user_id: &str,
        role: OrgRole,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(org_id, Kind::Organization)?;
        let org = Resource::organization(id);
        let allowed = self
            .authorize_action(
                caller,
                Permission::Manage,
                &org,
                Action::OrganizationChangeRole,
            )
            .await?;
        let person = parse_member_id(user_id)?;
        let fail = |e| internal("change role", e);
        let txn = self.db().begin().await.map_err(fail)?;
        self.lock_org(&txn, id).await?;
        self.recheck(&txn, caller, Permission::Manage, &org).await?;
        let current = self
            .role_in(&txn, &org, person)
            .await?
            .ok_or_else(not_member)?;
        if current == role {
            return Ok(());
        }
        if current == OrgRole::Owner && self.owner_count(&txn, &org).await? <= 1 {
            return Err(last_owner());
        }
        tuples::delete(
            &txn,
            &allowed,
            &tuples::tuple(&org, rel_of(current), m::user(person)),
        )
        .await?;
        tuples::write(
            &txn,
            &allowed,
            &[tuples::tuple(&org, rel_of(role), m::user(person))],
            now,
        )
        .await?;
        let entry = Entry::new(Action::OrganizationChangeRole, &org).org(id).detail(
            serde_json::json!({ "member": person, "from": current.label(), "to": role.label() }),
        );
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(org = %id, member = %person, ?role, by = %caller.username, "role changed");
        Ok(())
    }

    /// Removes someone from the organization (not the last owner).
    pub async fn remove_member(
        &self,
        caller: &Caller,
        org_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(org_id, Kind::Organization)?;
        let org = Resource::organization(id);
        let allowed = self
            .authorize_action(
                caller,
                Permission::Manage,
                &org,
                Action::OrganizationRemoveMember,
            )
            .await?;
        let person = parse_member_id(user_id)?;
        self.drop_member(
            &allowed,
            caller,
            Action::OrganizationRemoveMember,
            id,
            person,
            now,
        )
        .await?;
        tracing::info!(org = %id, member = %person, by = %caller.username, "member removed");
        Ok(())
    }

    /// The caller leaves the organization (not if they are its last owner).
    pub async fn leave_organization(
        &self,
        caller: &Caller,
        org_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(org_id, Kind::Organization)?;
        let org = Resource::organization(id);
        let allowed = self
            .authorize_action(caller, Permission::Leave, &org, Action::OrganizationLeave)
            .await?;
        self.drop_member(
            &allowed,
            caller,
            Action::OrganizationLeave,
            id,
            caller.user_id,
            now,
        )
        .await?;
        tracing::info!(org = %id, member = %caller.username, "left organization");
        Ok(())
    }

    async fn drop_member(
        &self,
        allowed: &Authorized,
        caller: &Caller,
        action: Action,
        id: Uuid,
        person: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let org = &Resource::organization(id);
        let fail = |e| internal("remove member", e);
        let txn = self.db().begin().await.map_err(fail)?;
        self.lock_org(&txn, id).await?;
        let needed = if action == Action::OrganizationLeave {
            Permission::Leave
        } else {
            Permission::Manage
        };
        self.recheck(&txn, caller, needed, org).await?;
        let current = self
            .role_in(&txn, org, person)
            .await?
            .ok_or_else(not_member)?;
        if current == OrgRole::Owner && self.owner_count(&txn, org).await? <= 1 {
            return Err(last_owner());
        }
        tuples::delete(
            &txn,
            allowed,
            &tuples::tuple(org, rel_of(current), m::user(person)),
        )
        .await?;
        let entry = Entry::new(action, org)
            .org(id)
            .detail(serde_json::json!({ "member": person, "role": current.label() }));
        audit::record(
            &txn,
            allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)
    }
}

fn not_member() -> AppError {
    AppError::NotFound("That person is not in this organization.".into())
}

fn parse_member_id(id: &str) -> Result<Uuid, AppError> {
    id.trim().parse().map_err(|_| not_member())
}
