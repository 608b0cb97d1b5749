//! Personal API tokens: made under Settings (or by an unrestricted token), shown once, stored
//! hashed, resolved on every `/api/v1` request, revoked by their owner or a platform admin.
//!
//! A token acts as its owner, narrowed by its restriction: a request is allowed when the
//! engine allows the owner *and* the restriction ([`Restriction::allows`]) admits the
//! permission and the resource. A disabled owner's tokens stop at once (resolution reads the
//! owner's row on every request).

use chrono::{DateTime, Duration, Utc};
use model::tokens::{CreatedToken, NewToken, TokenScope, TokenView, NAME_MAX, TOKEN_PREFIX};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use super::{show_time, tokens, Caller, ClientInfo};
use crate::access::model::{Kind, Permission, Resource};
use crate::access::Authorized;
use crate::audit::{self, Action, Entry};
use crate::entities::{api_token, user};
use crate::{internal, Control};

/// `last_used_at` is written at most this often, so reads stay reads.
const USE_GRANULARITY: i64 = 60;
/// Characters of the secret kept to tell tokens apart (`strata_` and four more).
const HINT_LEN: usize = TOKEN_PREFIX.len() + 4;

/// What a token narrows its owner's rights to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restriction {
    pub token_id: Uuid,
    pub token_name: String,
    /// Empty: every permission the owner has.
    pub actions: Vec<Permission>,
    pub scope: Scope,
    pub expires_at: DateTime<Utc>,
}

/// Where a token may act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Everything,
    Organization(Uuid),
    Resource(Resource),
}

impl Restriction {
    /// Whether nothing narrows the owner's rights.
    pub fn is_unrestricted(&self) -> bool {
        self.actions.is_empty() && self.scope == Scope::Everything
    }

    /// Whether the permission is among the token's actions.
    pub fn admits(&self, permission: Permission) -> bool {
        self.actions.is_empty() || self.actions.contains(&permission)
    }

    /// Whether the token may use `permission` on `resource`, which belongs to `organization`
    /// (None for what belongs to no organization). Images and nodes are catalogs every VM is
    /// made from: a scoped token may read them.
    pub fn allows(
        &self,
        permission: Permission,
        resource: &Resource,
        organization: Option<Uuid>,
    ) -> bool {
        if !self.admits(permission) {
            return false;
        }
        let catalog =
            matches!(resource.kind, Kind::Image | Kind::Node) && permission == Permission::Read;
        match &self.scope {
            Scope::Everything => true,
            Scope::Organization(org) => {
                catalog
                    || match resource.kind {
                        Kind::Organization => resource.id == org.to_string(),
                        Kind::Vm | Kind::Service | Kind::Network => organization == Some(*org),
                        _ => false,
                    }
            }
            Scope::Resource(one) => catalog || one == resource,
        }
    }

    /// Why the restriction refuses (for the explanation), or None when it admits.
    pub fn refusal(
        &self,
        permission: Permission,
        resource: &Resource,
        organization: Option<Uuid>,
    ) -> Option<String> {
        if !self.admits(permission) {
            return Some(format!(
                "token {} may only use {}",
                self.token_name,
                self.actions
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if self.allows(permission, resource, organization) {
            return None;
        }
        Some(match &self.scope {
            Scope::Everything => String::new(),
            Scope::Organization(org) => {
                format!("token {} is limited to organization {org}", self.token_name)
            }
            Scope::Resource(r) => format!(
                "token {} is limited to {} {}",
                self.token_name,
                r.kind.noun(),
                r.id
            ),
        })
    }
}

/// The secret as it is handed out: the prefix and 32 random bytes in base64url.
fn new_secret() -> (String, String) {
    let (random, _) = tokens::new_token();
    let secret = format!("{TOKEN_PREFIX}{random}");
    let hash = tokens::hash_token(&secret);
    (secret, hash)
}

fn scope_parts(scope: &TokenScope) -> Result<(&'static str, Option<Uuid>), AppError> {
    let id = |text: &str, kind: Kind| crate::access::parse_id(text, kind);
    Ok(match scope {
        TokenScope::Everything => ("everything", None),
        TokenScope::Organization { id: o } => ("organization", Some(id(o, Kind::Organization)?)),
        TokenScope::Vm { id: v } => ("vm", Some(id(v, Kind::Vm)?)),
        TokenScope::Service { id: s } => ("service", Some(id(s, Kind::Service)?)),
    })
}

fn scope_of(row: &api_token::Model) -> Scope {
    match (row.scope_kind.as_str(), row.scope_id) {
        ("organization", Some(id)) => Scope::Organization(id),
        ("vm", Some(id)) => Scope::Resource(Resource::vm(id)),
        ("service", Some(id)) => Scope::Resource(Resource::new(Kind::Service, id)),
        // `everything`, or a row this version cannot read: nothing beyond the owner's rights
        // would be wrong, so an unreadable scope admits nothing instead.
        ("everything", _) => Scope::Everything,
        _ => Scope::Resource(Resource {
            kind: Kind::Platform,
            id: String::new(),
        }),
    }
}

fn actions_of(row: &api_token::Model) -> Vec<Permission> {
    let names: Vec<String> = serde_json::from_str(&row.actions).unwrap_or_default();
    names.iter().filter_map(|n| Permission::parse(n)).collect()
}

/// What a stored token narrows its owner's rights to.
pub(crate) fn restriction_of(row: &api_token::Model) -> Restriction {
    Restriction {
        token_id: row.id,
        token_name: row.name.clone(),
        actions: actions_of(row),
        scope: scope_of(row),
        expires_at: row.expires_at,
    }
}

fn token_scope(scope: &Scope) -> TokenScope {
    match scope {
        Scope::Everything => TokenScope::Everything,
        Scope::Organization(id) => TokenScope::Organization { id: id.to_string() },
        Scope::Resource(r) if r.kind == Kind::Service => TokenScope::Service { id: r.id.clone() },
        Scope::Resource(r) => TokenScope::Vm { id: r.id.clone() },
    }
}

fn status(row: &api_token::Model, now: DateTime<Utc>) -> &'static str {
    if row.revoked_at.is_some() {
        "revoked"
    } else if now >= row.expires_at {
        "expired"
    } else {
        "active"
    }
}

fn validate_name(name: &str) -> Result<(), AppError> {
    if name.is_empty() {
        return Err(AppError::Invalid("Give the token a name.".into()));
    }
    if name.chars().count() > NAME_MAX {
        return Err(AppError::Invalid(format!(
            "A token's name has at most {NAME_MAX} characters."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "A token's name cannot hold control characters.".into(),
        ));
    }
    Ok(())
}

impl Control {
    /// Makes a token for the caller. From a browser session this needs a recent passkey check
    /// (a token is a credential: a stolen cookie must not mint a lasting one). A token may
    /// make another only when nothing restricts it, and the new one cannot outlive it.
    pub async fn create_token(
        &self,
        caller: &Caller,
        new: &NewToken,
        now: DateTime<Utc>,
    ) -> Result<CreatedToken, AppError> {
        let name = new.name.trim();
        validate_name(name)?;
        let max = self.auth().token_max_days;
        if new.expires_in_days == 0 || new.expires_in_days > max {
            return Err(AppError::Invalid(format!(
                "A token expires in 1 to {max} days."
            )));
        }
        let mut expires_at = now + Duration::days(i64::from(new.expires_in_days));
        if let Some(maker) = &caller.token {
            if !maker.is_unrestricted() {
                return Err(AppError::Forbidden(
                    "A restricted token cannot make tokens.".into(),
                ));
            }
            expires_at = expires_at.min(maker.expires_at);
        }
        let mut actions = Vec::new();
        for a in &new.actions {
            let p = Permission::parse(a.trim())
                .ok_or_else(|| AppError::Invalid(format!("There is no action called {a:?}.")))?;
            if !actions.contains(&p) {
                actions.push(p);
            }
        }
        let (scope_kind, scope_id) = scope_parts(&new.scope)?;
        // The scope must be something the caller may see: a token never reveals what exists.
        if let Some(id) = scope_id {
            let res = match scope_kind {
                "organization" => Resource::organization(id),
                "vm" => Resource::vm(id),
                _ => Resource::new(Kind::Service, id),
            };
            let read = if res.kind == Kind::Organization {
                Permission::View
            } else {
                Permission::Read
            };
            self.authorize(caller, read, &res).await?;
        }
        if caller.token.is_none() {
            self.require_fresh(caller, now).await?;
        }
        let action_names: Vec<&str> = actions.iter().map(|p| p.as_str()).collect();
        let (secret, hash) = new_secret();
        let id = Uuid::new_v4();
        let fail = |e| internal("create token", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = api_token::ActiveModel {
            id: Set(id),
            user_id: Set(caller.user_id),
            name: Set(name.to_owned()),
            secret_hash: Set(hash),
            hint: Set(secret.chars().take(HINT_LEN).collect()),
            actions: Set(serde_json::json!(action_names).to_string()),
            scope_kind: Set(scope_kind.to_owned()),
            scope_id: Set(scope_id),
            created_at: Set(now),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            last_used_ip: Set(None),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(fail)?;
        let entry = Entry::about(Action::TokenCreate, "token", id).detail(serde_json::json!({
            "name": name, "actions": action_names, "scope": scope_kind,
            "scope_id": scope_id, "expires_at": show_time(expires_at),
        }));
        audit::record_success(&txn, &Authorized::own_account(caller), caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        let token = self.token_view(&row, &caller.username, now).await?;
        Ok(CreatedToken { token, secret })
    }

    /// The caller's own tokens, newest first; with `everyone`, every token of the installation
    /// (platform admins only).
    pub async fn list_tokens(
        &self,
        caller: &Caller,
        everyone: bool,
    ) -> Result<Vec<TokenView>, AppError> {
        let now = self.now();
        let mut query = api_token::Entity::find()
            .order_by_desc(api_token::Column::CreatedAt)
            .order_by_desc(api_token::Column::Id);
        if everyone {
            self.authorize(caller, Permission::ManageUsers, &Resource::platform())
                .await?;
        } else {
            query = query.filter(api_token::Column::UserId.eq(caller.user_id));
        }
        let fail = |e| internal("list tokens", e);
        let rows = query.all(self.db()).await.map_err(fail)?;
        let owners: std::collections::HashMap<Uuid, String> = user::Entity::find()
            .filter(user::Column::Id.is_in(rows.iter().map(|r| r.user_id)))
            .all(self.db())
            .await
            .map_err(fail)?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect();
        let mut views = Vec::with_capacity(rows.len());
        for row in &rows {
            let owner = owners.get(&row.user_id).cloned().unwrap_or_default();
            views.push(self.token_view(row, &owner, now).await?);
        }
        Ok(views)
    }

    /// Revokes a token: its owner's, or anyone's by a platform admin. Revoking twice is fine.
    pub async fn revoke_token(
        &self,
        caller: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let unknown = || AppError::NotFound("No such token.".into());
        let id: Uuid = id.trim().parse().map_err(|_| unknown())?;
        let fail = |e| internal("revoke token", e);
        let row = api_token::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(unknown)?;
        let allowed = if row.user_id == caller.user_id {
            Authorized::own_account(caller)
        } else {
            self.authorize(caller, Permission::ManageUsers, &Resource::platform())
                .await
                .map_err(|_| unknown())?
        };
        if row.revoked_at.is_some() {
            return Ok(());
        }
        let txn = self.db().begin().await.map_err(fail)?;
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(Some(now)))
            .filter(api_token::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        let entry = Entry::about(Action::TokenRevoke, "token", id)
            .detail(serde_json::json!({ "name": row.name, "owner": row.user_id }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        Ok(())
    }

    /// The owner behind a token, narrowed by its restriction; None when the token is unknown,
    /// expired or revoked, or its owner is disabled.
    pub async fn resolve_token(
        &self,
        secret: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<Option<Caller>, AppError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let fail = |e| internal("resolve token", e);
        let Some(row) = api_token::Entity::find()
            .filter(api_token::Column::SecretHash.eq(tokens::hash_token(secret)))
            .one(self.db())
            .await
            .map_err(fail)?
        else {
            return Ok(None);
        };
        if row.revoked_at.is_some() || now >= row.expires_at {
            return Ok(None);
        }
        let Some(person) = user::Entity::find_by_id(row.user_id)
            .one(self.db())
            .await
            .map_err(fail)?
        else {
            return Ok(None);
        };
        if person.disabled {
            return Ok(None);
        }
        let stale = row
            .last_used_at
            .is_none_or(|at| now - at >= Duration::seconds(USE_GRANULARITY));
        if stale || row.last_used_ip.as_deref() != Some(client.ip.as_str()) {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::value(Some(now)))
                .col_expr(
                    api_token::Column::LastUsedIp,
                    Expr::value(Some(client.ip.clone())),
                )
                .filter(api_token::Column::Id.eq(row.id))
                .exec(self.db())
                .await
                .map_err(fail)?;
        }
        Ok(Some(Caller {
            user_id: person.id,
            // A token has no session: what needs a fresh passkey check is out of its reach.
            session_id: Uuid::nil(),
            username: person.username,
            display_name: person.display_name,
            is_admin: person.is_admin,
            client: client.clone(),
            token: Some(restriction_of(&row)),
        }))
    }

    async fn token_view(
        &self,
        row: &api_token::Model,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenView, AppError> {
        let scope = scope_of(row);
        let scope_label = match &scope {
            Scope::Everything => "everything its owner may do".to_owned(),
            Scope::Organization(id) => {
                let name = crate::entities::organization::Entity::find_by_id(*id)
                    .one(self.db())
                    .await
                    .map_err(|e| internal("token scope", e))?
                    .map_or_else(|| "(deleted)".to_owned(), |o| o.name);
                format!("organization {name}")
            }
            Scope::Resource(r) => format!("{} {}", r.kind.noun(), r.id),
        };
        Ok(TokenView {
            id: row.id.to_string(),
            name: row.name.clone(),
            owner: owner.to_owned(),
            hint: row.hint.clone(),
            actions: actions_of(row)
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            scope: token_scope(&scope),
            scope_label,
            created_at: show_time(row.created_at),
            expires_at: show_time(row.expires_at),
            last_used_at: row.last_used_at.map(show_time),
            last_used_ip: row.last_used_ip.clone(),
            status: status(row, now).to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restriction(actions: Vec<Permission>, scope: Scope) -> Restriction {
        Restriction {
            token_id: Uuid::nil(),
            token_name: "bot".into(),
            actions,
            scope,
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_restriction_admits_its_actions_inside_its_scope_only() {
        let org = Uuid::new_v4();
        let other = Uuid::new_v4();
        let vm = Resource::vm(Uuid::new_v4());
        let r = restriction(vec![Permission::Read], Scope::Organization(org));
        assert!(r.allows(Permission::Read, &vm, Some(org)));
        assert!(!r.allows(Permission::Read, &vm, Some(other)));
        assert!(!r.allows(Permission::Start, &vm, Some(org)));
        assert!(r.allows(Permission::Read, &Resource::organization(org), None));
        assert!(!r.allows(Permission::Read, &Resource::platform(), None));
        let image = Resource::new(Kind::Image, Uuid::new_v4());
        assert!(
            r.allows(Permission::Read, &image, None),
            "catalogs are readable"
        );
        assert!(r.refusal(Permission::Start, &vm, Some(org)).is_some());
        assert!(r.refusal(Permission::Read, &vm, Some(org)).is_none());

        let one = restriction(vec![], Scope::Resource(vm.clone()));
        assert!(one.allows(Permission::Stop, &vm, Some(org)));
        assert!(!one.allows(Permission::Stop, &Resource::vm(Uuid::new_v4()), Some(org)));
        assert!(!one.is_unrestricted());
        assert!(restriction(vec![], Scope::Everything).is_unrestricted());
    }

    #[test]
    fn secrets_carry_the_prefix_and_are_stored_hashed() {
        let (secret, hash) = new_secret();
        assert!(secret.starts_with("strata_"));
        assert_eq!(secret.len(), 7 + 43);
        assert_eq!(tokens::hash_token(&secret), hash);
        assert!(validate_name("").is_err());
        assert!(validate_name(&"x".repeat(65)).is_err());
        assert!(validate_name("deploy-bot").is_ok());
    }
}
