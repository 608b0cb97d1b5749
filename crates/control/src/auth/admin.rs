//! User administration for platform admins: the user list, invite links, disabling accounts,
//! and recovery links for people who lost every passkey.

use chrono::{DateTime, Utc};
use model::auth::{CeremonyStart, LinkCreated, Me, UserSummary};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremony::{Extra, Kind};
use super::signup::consume_link;
use super::{passkeys, show_time, tokens, webauthn_err, Caller, ClientInfo};
use crate::access::Authorized;
use crate::audit::Action;
use crate::entities::{link, passkey, session, user};
use crate::{internal, Control};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    Invite,
    Recovery,
}

impl LinkKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Recovery => "recovery",
        }
    }
}

fn no_user() -> AppError {
    AppError::NotFound("No such user.".into())
}

impl Control {
    /// Platform administrators only, decided by the permission engine.
    /// A refused change (`action` given) is written to the audit log as denied.
    async fn require_admin(
        &self,
        who: &Caller,
        action: Option<Action>,
    ) -> Result<Authorized, AppError> {
        use crate::access::model::{Permission, Resource};
        match self
            .authorize(who, Permission::ManageUsers, &Resource::platform())
            .await
        {
            Err(AppError::Forbidden(_)) => {}
            decided => return decided,
        }
        let refusal = AppError::Forbidden("Only platform administrators can manage users.".into());
        if let Some(action) = action {
            let entry = crate::audit::Entry::new(action, &Resource::platform())
                .detail(serde_json::json!({ "reason": refusal.to_string() }));
            crate::audit::record_denied(
                self.db(),
                &crate::audit::Actor::caller(who),
                entry,
                self.now(),
            )
            .await?;
        }
        Err(refusal)
    }

    pub async fn list_users(&self, who: &Caller) -> Result<Vec<UserSummary>, AppError> {
        self.require_admin(who, None).await?;
        let fail = |e: DbErr| internal("list users", e);
        let users = user::Entity::find()
            .order_by_asc(user::Column::Username)
            .all(self.db())
            .await
            .map_err(fail)?;
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            let passkeys = passkey::Entity::find()
                .filter(passkey::Column::UserId.eq(u.id))
                .count(self.db())
                .await
                .map_err(fail)?;
            out.push(UserSummary {
                id: u.id.to_string(),
                username: u.username,
                display_name: u.display_name,
                is_admin: u.is_admin,
                disabled: u.disabled,
                created_at: show_time(u.created_at),
                passkeys,
            });
        }
        Ok(out)
    }

    /// A single-use invite link, valid for the configured time.
    pub async fn create_invite(
        &self,
        who: &Caller,
        now: DateTime<Utc>,
    ) -> Result<LinkCreated, AppError> {
        let allowed = self.require_admin(who, Some(Action::UserInvite)).await?;
        self.create_link(&allowed, who, LinkKind::Invite, None, now)
            .await
    }

    /// A single-use link that lets `user_id` register a new passkey without signing in.
    pub async fn create_recovery_link(
        &self,
        who: &Caller,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<LinkCreated, AppError> {
        let allowed = self
            .require_admin(who, Some(Action::UserRecoveryLink))
            .await?;
        let target = self.find_user(user_id).await?;
        self.create_link(&allowed, who, LinkKind::Recovery, Some(target.id), now)
            .await
    }

    async fn create_link(
        &self,
        allowed: &Authorized,
        who: &Caller,
        kind: LinkKind,
        user_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<LinkCreated, AppError> {
        let (token, hash) = tokens::new_token();
        let expires_at = now + self.auth().link_ttl;
        let fail = |e: DbErr| internal("create link", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let link_id = Uuid::new_v4();
        link::ActiveModel {
            id: Set(link_id),
            token_hash: Set(hash),
            kind: Set(kind.as_str().to_owned()),
            user_id: Set(user_id),
            created_by: Set(who.user_id),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            used_by: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(fail)?;
        let (action, about) = match kind {
            LinkKind::Invite => (Action::UserInvite, "link"),
            LinkKind::Recovery => (Action::UserRecoveryLink, "user"),
        };
        let subject = user_id
            .map(|u| u.to_string())
            .unwrap_or_else(|| link_id.to_string());
        let entry = crate::audit::Entry::about(action, about, subject)
            .detail(serde_json::json!({ "expires_at": show_time(expires_at) }));
        crate::audit::record(
            &txn,
            allowed,
            &crate::audit::Actor::caller(who),
            entry,
            crate::audit::Outcome::Success,
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)?;
        let path = match kind {
            LinkKind::Invite => "signup?invite=",
            LinkKind::Recovery => "recover?token=",
        };
        Ok(LinkCreated {
            url: format!("{}/{path}{token}", self.auth().public_url),
            expires_at: show_time(expires_at),
        })
    }

    async fn find_user(&self, user_id: &str) -> Result<user::Model, AppError> {
        let id = Uuid::parse_str(user_id).map_err(|_| no_user())?;
        user::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("find user", e))?
            .ok_or_else(no_user)
    }

    /// Disables or enables an account; disabling ends all its sessions in the same transaction.
    pub async fn set_user_disabled(
        &self,
        who: &Caller,
        user_id: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let action = if disabled {
            Action::UserDisable
        } else {
            Action::UserEnable
        };
        let allowed = self.require_admin(who, Some(action)).await?;
        let target = self.find_user(user_id).await?;
        if target.id == who.user_id {
            return Err(AppError::Conflict(
                "You cannot disable your own account.".into(),
            ));
        }
        let fail = |e: DbErr| internal("disable user", e);
        let target_id = target.id;
        let txn = self.db().begin().await.map_err(fail)?;
        let mut active: user::ActiveModel = target.into();
        active.disabled = Set(disabled);
        active.update(&txn).await.map_err(fail)?;
        if disabled {
            session::Entity::delete_many()
                .filter(session::Column::UserId.eq(target_id))
                .exec(&txn)
                .await
                .map_err(fail)?;
        }
        let entry = crate::audit::Entry::about(action, "user", target_id);
        crate::audit::record_success(&txn, &allowed, who, entry, now).await?;
        txn.commit().await.map_err(fail)
    }

    /// Begins registering a new passkey through a recovery link.
    pub async fn begin_recovery(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<CeremonyStart, AppError> {
        let l = self.usable_link(token, LinkKind::Recovery, now).await?;
        let target = self
            .find_user(&l.user_id.map(|u| u.to_string()).unwrap_or_default())
            .await?;
        if target.disabled {
            return Err(AppError::Forbidden(
                "This account is disabled. Ask an administrator to enable it.".into(),
            ));
        }
        let existing = passkeys::of_user(self.db(), target.id).await?;
        self.begin_registration(
            target.id,
            &target.username,
            &target.display_name,
            &existing,
            Kind::Recovery,
            Extra {
                link_id: Some(l.id),
                ..Extra::default()
            },
            now,
        )
        .await
    }

    /// Stores the recovered passkey, uses up the link and signs the person in.
    pub async fn finish_recovery(
        &self,
        ceremony_id: &str,
        credential: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<(Me, String), AppError> {
        let (_, row, state): (_, _, PasskeyRegistration) = self
            .take_ceremony(ceremony_id, &[Kind::Recovery], now)
            .await?;
        let (Some(user_id), Some(link_id)) = (row.user_id, row.link_id) else {
            return Err(internal("finish recovery", "ceremony without user or link"));
        };
        let cred: RegisterPublicKeyCredential = webauthn_err::parse(credential)?;
        let pk = self
            .webauthn()
            .finish_passkey_registration(&cred, &state)
            .map_err(webauthn_err::to_app_error)?;
        let fail = |e: DbErr| internal("finish recovery", e);
        let txn = self.db().begin().await.map_err(fail)?;
        consume_link(&txn, link_id, user_id, now).await?;
        let person = user::Entity::find_by_id(user_id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(no_user)?;
        let name = passkeys::fresh_name(&txn, user_id, &client.user_agent).await?;
        passkeys::insert(&txn, user_id, &name, &pk, now).await?;
        self.finish_sign_in(txn, person, client, now, Action::AccountRecover)
            .await
    }
}
