//! Server-side sessions: opened at sign-in, resolved on every request, ended by sign-out,
//! revocation, the idle and absolute timeouts, or the account being disabled.
//!
//! A session remembers when its user last confirmed with a passkey (sign-in, or the
//! reauthentication ceremony here); adding or removing passkeys and ending sessions need that
//! to be recent, so a stolen cookie cannot turn itself into a permanent credential.

use chrono::{DateTime, Duration, Utc};
use model::auth::{CeremonyStart, Me, SessionInfo, REAUTH_REQUIRED};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};

use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

use super::ceremony::{Extra, Kind};
use super::{passkeys, show_time, tokens, webauthn_err, Caller, ClientInfo};
use crate::access::Authorized;
use crate::audit::Action;
use crate::entities::{session, user};
use crate::{internal, Control};

/// `last_seen_at` is written at most this often, so reads stay reads.
const SEEN_GRANULARITY: i64 = 60;

impl Control {
    /// Opens a session for `user_id` inside the caller's transaction; returns the cookie token.
    pub(crate) async fn open_session<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: Uuid,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<String, DbErr> {
        let (token, hash) = tokens::new_token();
        session::ActiveModel {
            id: Set(Uuid::new_v4()),
            token_hash: Set(hash),
            user_id: Set(user_id),
            user_agent: Set(client.user_agent.clone()),
            ip: Set(client.ip.clone()),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + self.auth().absolute_timeout),
            // Signing in is a passkey check.
            verified_at: Set(Some(now)),
        }
        .insert(conn)
        .await?;
        Ok(token)
    }

    /// Opens a session for `person` in `txn` and commits everything the sign-in wrote;
    /// returns who signed in and the cookie token.
    pub(crate) async fn finish_sign_in(
        &self,
        txn: sea_orm::DatabaseTransaction,
        person: user::Model,
        client: &ClientInfo,
        now: DateTime<Utc>,
        action: Action,
    ) -> Result<(Me, String), AppError> {
        let fail = |e: DbErr| internal("sign in", e);
        let token = self
            .open_session(&txn, person.id, client, now)
            .await
            .map_err(fail)?;
        let actor = crate::audit::Actor::person(person.id, &person.username, client);
        let entry = crate::audit::Entry::about(action, "user", person.id);
        crate::audit::record(
            &txn,
            &Authorized::person(person.id),
            &actor,
            entry,
            crate::audit::Outcome::Success,
            now,
        )
        .await?;
        txn.commit().await.map_err(fail)?;
        let me = Me {
            id: person.id.to_string(),
            username: person.username,
            display_name: person.display_name,
            is_admin: person.is_admin,
        };
        Ok((me, token))
    }

    /// The user behind a session cookie, or None when it is unknown, expired or disabled.
    pub async fn resolve_session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Caller>, AppError> {
        let db = self.db();
        let fail = |e: DbErr| internal("resolve session", e);
        let Some(row) = session::Entity::find()
            .filter(session::Column::TokenHash.eq(tokens::hash_token(token)))
            .one(db)
            .await
            .map_err(fail)?
        else {
            return Ok(None);
        };
        if now >= row.expires_at || now - row.last_seen_at >= self.auth().idle_timeout {
            session::Entity::delete_by_id(row.id)
                .exec(db)
                .await
                .map_err(fail)?;
            return Ok(None);
        }
        let Some(person) = user::Entity::find_by_id(row.user_id)
            .one(db)
            .await
            .map_err(fail)?
        else {
            return Ok(None);
        };
        if person.disabled {
            return Ok(None);
        }
        if now - row.last_seen_at >= Duration::seconds(SEEN_GRANULARITY) {
            let id = row.id;
            let mut active: session::ActiveModel = row.into();
            active.last_seen_at = Set(now);
            active.update(db).await.map_err(fail)?;
            return Ok(Some(caller(person, id)));
        }
        Ok(Some(caller(person, row.id)))
    }

    /// Whether a session is still valid, without counting this as activity (a tab left open
    /// does not keep a session alive). For long-lived connections that re-check now and then.
    pub async fn session_alive(&self, token: &str, now: DateTime<Utc>) -> bool {
        let Ok(Some(row)) = session::Entity::find()
            .filter(session::Column::TokenHash.eq(tokens::hash_token(token)))
            .one(self.db())
            .await
        else {
            return false;
        };
        if now >= row.expires_at || now - row.last_seen_at >= self.auth().idle_timeout {
            return false;
        }
        matches!(
            user::Entity::find_by_id(row.user_id).one(self.db()).await,
            Ok(Some(person)) if !person.disabled
        )
    }

    /// Refuses with [`REAUTH_REQUIRED`] unless the caller's session confirmed its user with a
    /// passkey within the last `fresh_verification`.
    pub(crate) async fn require_fresh(
        &self,
        who: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let row = session::Entity::find_by_id(who.session_id)
            .filter(session::Column::UserId.eq(who.user_id))
            .one(self.db())
            .await
            .map_err(|e| internal("session verification", e))?;
        let window = self.auth().fresh_verification;
        match row.and_then(|r| r.verified_at) {
            Some(at) if at <= now && now - at < window => Ok(()),
            _ => Err(AppError::Forbidden(REAUTH_REQUIRED.into())),
        }
    }

    /// Begins a passkey check for the signed-in caller (user verification required), offering
    /// only their own passkeys.
    pub async fn begin_reauthentication(
        &self,
        who: &Caller,
        now: DateTime<Utc>,
    ) -> Result<CeremonyStart, AppError> {
        let keys = passkeys::of_user(self.db(), who.user_id)
            .await?
            .iter()
            .map(passkeys::decode)
            .collect::<Result<Vec<_>, _>>()?;
        let (rcr, state) = self
            .webauthn()
            .start_passkey_authentication(&keys)
            .map_err(webauthn_err::to_app_error)?;
        let options = passkeys::request_options(&rcr)?;
        let extra = Extra {
            user_id: Some(who.user_id),
            ..Extra::default()
        };
        self.start_ceremony(Kind::Reauth, &state, options, extra, now)
            .await
    }

    /// Verifies the caller's passkey assertion and marks their session freshly verified.
    pub async fn finish_reauthentication(
        &self,
        who: &Caller,
        ceremony_id: &str,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let (_, row, state): (_, _, PasskeyAuthentication) = self
            .take_ceremony(ceremony_id, &[Kind::Reauth], now)
            .await?;
        if row.user_id != Some(who.user_id) {
            return Err(AppError::Invalid(
                "This passkey request belongs to another session.".into(),
            ));
        }
        let cred: PublicKeyCredential = webauthn_err::parse(credential)?;
        let result = self
            .webauthn()
            .finish_passkey_authentication(&cred, &state)
            .map_err(webauthn_err::to_app_error)?;
        if !result.user_verified() {
            return Err(AppError::Invalid(
                "Your authenticator did not verify you (PIN or biometrics). Please try again."
                    .into(),
            ));
        }
        let fail = |e: DbErr| internal("reauthenticate", e);
        let txn = self.db().begin().await.map_err(fail)?;
        passkeys::record_use(&txn, who.user_id, &result, now).await?;
        let done = session::Entity::update_many()
            .col_expr(
                session::Column::VerifiedAt,
                sea_orm::sea_query::Expr::value(Some(now)),
            )
            .filter(session::Column::Id.eq(who.session_id))
            .filter(session::Column::UserId.eq(who.user_id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if done.rows_affected != 1 {
            return Err(AppError::Unauthenticated);
        }
        let entry =
            crate::audit::Entry::about(Action::SessionReauthenticate, "session", who.session_id);
        crate::audit::record_success(&txn, &Authorized::own_account(who), who, entry, now).await?;
        txn.commit().await.map_err(fail)
    }

    /// Ends the caller's session.
    pub async fn sign_out(&self, who: &Caller, now: DateTime<Utc>) -> Result<(), AppError> {
        let fail = |e: DbErr| internal("sign out", e);
        let txn = self.db().begin().await.map_err(fail)?;
        session::Entity::delete_by_id(who.session_id)
            .exec(&txn)
            .await
            .map_err(fail)?;
        let entry = crate::audit::Entry::about(Action::SessionSignOut, "session", who.session_id);
        crate::audit::record_success(&txn, &Authorized::own_account(who), who, entry, now).await?;
        txn.commit().await.map_err(fail)
    }

    /// The caller's live sessions, most recent first.
    pub async fn list_sessions(
        &self,
        who: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionInfo>, AppError> {
        let rows = session::Entity::find()
            .filter(session::Column::UserId.eq(who.user_id))
            .order_by_desc(session::Column::LastSeenAt)
            .all(self.db())
            .await
            .map_err(|e| internal("list sessions", e))?;
        let idle = self.auth().idle_timeout;
        Ok(rows
            .into_iter()
            .filter(|s| now < s.expires_at && now - s.last_seen_at < idle)
            .map(|s| SessionInfo {
                id: s.id.to_string(),
                current: s.id == who.session_id,
                user_agent: s.user_agent,
                ip: s.ip,
                created_at: show_time(s.created_at),
                last_seen_at: show_time(s.last_seen_at),
            })
            .collect())
    }

    /// Ends one of the caller's own sessions; someone else's is reported as not found.
    pub async fn revoke_session(
        &self,
        who: &Caller,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let not_found = || AppError::NotFound("No such session.".into());
        let id = Uuid::parse_str(session_id).map_err(|_| not_found())?;
        // Ending one's own current session is signing out, which needs no confirmation.
        if id != who.session_id {
            self.require_fresh(who, now).await?;
        }
        let fail = |e: DbErr| internal("revoke session", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let done = session::Entity::delete_many()
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::UserId.eq(who.user_id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if done.rows_affected != 1 {
            return Err(not_found());
        }
        let entry = crate::audit::Entry::about(Action::SessionRevoke, "session", id);
        crate::audit::record_success(&txn, &Authorized::own_account(who), who, entry, now).await?;
        txn.commit().await.map_err(fail)
    }

    /// Ends every session of the caller but the current one; returns how many ended.
    pub async fn revoke_other_sessions(
        &self,
        who: &Caller,
        now: DateTime<Utc>,
    ) -> Result<u64, AppError> {
        self.require_fresh(who, now).await?;
        let fail = |e: DbErr| internal("revoke other sessions", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let done = session::Entity::delete_many()
            .filter(session::Column::UserId.eq(who.user_id))
            .filter(session::Column::Id.ne(who.session_id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        let entry = crate::audit::Entry::about(Action::SessionRevokeOthers, "user", who.user_id)
            .detail(serde_json::json!({ "ended": done.rows_affected }));
        crate::audit::record_success(&txn, &Authorized::own_account(who), who, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        Ok(done.rows_affected)
    }
}

fn caller(person: user::Model, session_id: Uuid) -> Caller {
    Caller {
        user_id: person.id,
        session_id,
        username: person.username,
        display_name: person.display_name,
        is_admin: person.is_admin,
        client: ClientInfo::default(),
        token: None,
    }
}
