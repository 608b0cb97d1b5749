//! Sign-up: a username and display name, then a new discoverable passkey. The first account on
//! a fresh install is the platform admin; later ones follow the sign-up policy.

use chrono::{DateTime, Utc};
use model::auth::{
    validate_display_name, validate_username, CeremonyStart, InviteInfo, Me, SignupPolicy,
    SignupStatus,
};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremony::{Extra, Kind};
use super::{admin::LinkKind, passkeys, tokens, webauthn_err, ClientInfo};
use crate::access::Authorized;
use crate::audit::Action;
use crate::entities::{link, user};
use crate::error::unique_or;
use crate::{internal, Control};

/// What the sign-up form sends.
#[derive(Clone, Debug, Default)]
pub struct SignupInput {
    pub username: String,
    pub display_name: String,
    /// The token from an invite link, when there is one.
    pub invite: Option<String>,
}

impl Control {
    pub async fn signup_status(&self) -> Result<SignupStatus, AppError> {
        let users = user::Entity::find()
            .count(self.db())
            .await
            .map_err(|e| internal("signup status", e))?;
        Ok(SignupStatus {
            first_account: users == 0,
            policy: self.auth().signup_policy,
        })
    }

    /// Who made the invite link with this token, and until when it works; refused like a
    /// sign-up with it would be (used, expired or unknown), so it tells nothing more.
    pub async fn invite_info(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<InviteInfo, AppError> {
        let link = self.usable_link(token, LinkKind::Invite, now).await?;
        let by = user::Entity::find_by_id(link.created_by)
            .one(self.db())
            .await
            .map_err(|e| internal("invite info", e))?;
        Ok(InviteInfo {
            invited_by: by.map_or_else(|| "an administrator".to_owned(), |u| u.display_name),
            expires_at: super::show_time(link.expires_at),
        })
    }

    pub async fn begin_signup(
        &self,
        input: SignupInput,
        now: DateTime<Utc>,
    ) -> Result<CeremonyStart, AppError> {
        let username = input.username.trim().to_owned();
        let display_name = input.display_name.trim().to_owned();
        validate_username(&username).map_err(AppError::Invalid)?;
        validate_display_name(&display_name).map_err(AppError::Invalid)?;
        // Whether the caller may sign up at all comes first: only someone who may can learn
        // whether a username is taken.
        let status = self.signup_status().await?;
        let link_id = match input.invite.as_deref().filter(|t| !t.is_empty()) {
            Some(token) => Some(self.usable_link(token, LinkKind::Invite, now).await?.id),
            None if status.first_account || status.policy == SignupPolicy::Open => None,
            None => {
                return Err(AppError::Forbidden(
                    "Sign-up needs an invite link from an administrator.".into(),
                ))
            }
        };
        let fail = |e: DbErr| internal("begin signup", e);
        let taken = user::Entity::find()
            .filter(user::Column::Username.eq(&username))
            .count(self.db())
            .await
            .map_err(fail)?;
        if taken > 0 {
            return Err(taken_error());
        }
        self.begin_registration(
            Uuid::new_v4(),
            &username,
            &display_name,
            &[],
            Kind::Signup,
            Extra {
                username: Some(username.clone()),
                display_name: Some(display_name.clone()),
                link_id,
                ..Extra::default()
            },
            now,
        )
        .await
    }

    /// Verifies the new passkey, creates the account and signs it in; returns the session token.
    pub async fn finish_signup(
        &self,
        ceremony_id: &str,
        credential: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<(Me, String), AppError> {
        let (_, row, state): (_, _, PasskeyRegistration) = self
            .take_ceremony(ceremony_id, &[Kind::Signup], now)
            .await?;
        let cred: RegisterPublicKeyCredential = webauthn_err::parse(credential)?;
        let passkey = self
            .webauthn()
            .finish_passkey_registration(&cred, &state)
            .map_err(webauthn_err::to_app_error)?;
        let (Some(user_id), Some(username), Some(display_name)) =
            (row.user_id, row.username, row.display_name)
        else {
            return Err(internal("finish signup", "ceremony without user"));
        };

        let fail = |e: DbErr| internal("finish signup", e);
        let txn = self.db().begin().await.map_err(fail)?;
        // Two sign-ups on an empty PostgreSQL database must not both become admin: hold off
        // other sign-ups until this one commits. (SQLite already lets one writer at a time.)
        if self.backend() == model::DatabaseBackend::Postgres {
            txn.execute_unprepared("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                .await
                .map_err(fail)?;
        }
        let first = user::Entity::find().count(&txn).await.map_err(fail)? == 0;
        if let Some(link_id) = row.link_id {
            consume_link(&txn, link_id, user_id, now).await?;
        } else if !first && self.auth().signup_policy == SignupPolicy::Invite {
            return Err(AppError::Forbidden(
                "Sign-up needs an invite link from an administrator.".into(),
            ));
        }
        let created = user::ActiveModel {
            id: Set(user_id),
            username: Set(username),
            display_name: Set(display_name),
            is_admin: Set(first),
            disabled: Set(false),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_or(e, taken_error(), "create user"))?;
        let name = super::passkey_name::suggested(&client.user_agent, &[]);
        passkeys::insert(&txn, user_id, &name, &passkey, now).await?;
        crate::access::tuples::write(
            &txn,
            &Authorized::system("sign-up with a valid invite"),
            &crate::access::grants::account_grants(user_id, first),
            now,
        )
        .await?;
        tracing::info!(user = %created.username, admin = first, "account created");
        self.finish_sign_in(txn, created, client, now, Action::AccountSignUp)
            .await
    }

    /// An unused, unexpired link of `kind` for `token`.
    pub(crate) async fn usable_link(
        &self,
        token: &str,
        kind: LinkKind,
        now: DateTime<Utc>,
    ) -> Result<link::Model, AppError> {
        let row = link::Entity::find()
            .filter(link::Column::TokenHash.eq(tokens::hash_token(token)))
            .filter(link::Column::Kind.eq(kind.as_str()))
            .one(self.db())
            .await
            .map_err(|e| internal("find link", e))?;
        match row {
            Some(l) if l.used_at.is_none() && now < l.expires_at => Ok(l),
            _ => Err(used_link()),
        }
    }
}

fn taken_error() -> AppError {
    AppError::Conflict("That username is taken.".into())
}

pub(crate) fn used_link() -> AppError {
    AppError::Forbidden(
        "This link has already been used or has expired. Ask an administrator for a new one."
            .into(),
    )
}

/// Marks a link used, only if nobody used it first and it has not expired.
pub(crate) async fn consume_link<C: sea_orm::ConnectionTrait>(
    conn: &C,
    link_id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use sea_orm::sea_query::Expr;
    let done = link::Entity::update_many()
        .col_expr(link::Column::UsedAt, Expr::value(now))
        .col_expr(link::Column::UsedBy, Expr::value(by))
        .filter(link::Column::Id.eq(link_id))
        .filter(link::Column::UsedAt.is_null())
        .filter(link::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await
        .map_err(|e| internal("consume link", e))?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(used_link())
    }
}
