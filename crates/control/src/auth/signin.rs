//! Sign-in with a passkey: one click (discoverable, no username) or username first. Both
//! answer the same for every username, so sign-in tells nobody which accounts exist.

use chrono::{DateTime, Utc};
use model::auth::{validate_username, CeremonyStart, Me};
use model::AppError;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, PublicKeyCredential,
};

use super::ceremony::{Extra, Kind};
use super::{passkeys, webauthn_err, ClientInfo};
use crate::audit::Action;
use crate::entities::{passkey, user};
use crate::{internal, Control};

fn disabled() -> AppError {
    AppError::Forbidden("This account is disabled. Ask an administrator to enable it.".into())
}

fn unknown_passkey() -> AppError {
    AppError::Invalid("This passkey is not registered with Strata.".into())
}

impl Control {
    /// Begins a sign-in. Both styles offer every discoverable passkey (an empty
    /// `allowCredentials`): the answer for a typed username is the same whether or not an
    /// account has that name, and never lists anyone's credential ids. A typed username is
    /// checked when the sign-in finishes.
    pub async fn begin_signin(
        &self,
        username: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<CeremonyStart, AppError> {
        let username = username.map(str::trim).filter(|u| !u.is_empty());
        if let Some(name) = username {
            validate_username(name).map_err(AppError::Invalid)?;
        }
        let (rcr, state) = self
            .webauthn()
            .start_discoverable_authentication()
            .map_err(webauthn_err::to_app_error)?;
        let state = serde_json::to_value(&state).map_err(|e| internal("signin state", e))?;
        let kind = if username.is_some() {
            Kind::SigninUsername
        } else {
            Kind::Signin
        };
        self.start_ceremony(
            kind,
            &state,
            passkeys::request_options(&rcr)?,
            Extra {
                username: username.map(str::to_owned),
                ..Extra::default()
            },
            now,
        )
        .await
    }

    /// Verifies the assertion, updates the passkey's counter and flags, and opens a session.
    pub async fn finish_signin(
        &self,
        ceremony_id: &str,
        credential: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<(Me, String), AppError> {
        let (kind, row, state): (_, _, serde_json::Value) = self
            .take_ceremony(ceremony_id, &[Kind::Signin, Kind::SigninUsername], now)
            .await?;
        let cred: PublicKeyCredential = webauthn_err::parse(credential)?;
        let state_err = |e: serde_json::Error| internal("signin state", e);
        let state: DiscoverableAuthentication = serde_json::from_value(state).map_err(state_err)?;
        let (user_id, _) = self
            .webauthn()
            .identify_discoverable_authentication(&cred)
            .map_err(|_| unknown_passkey())?;
        let keys = passkeys::of_user(self.db(), user_id)
            .await?
            .iter()
            .map(|p| passkeys::decode(p).map(|pk| DiscoverableKey::from(&pk)))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(unknown_passkey());
        }
        let result: AuthenticationResult = self
            .webauthn()
            .finish_discoverable_authentication(&cred, state, &keys)
            .map_err(webauthn_err::to_app_error)?;

        let fail = |e: DbErr| internal("finish signin", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let person = user::Entity::find_by_id(user_id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(unknown_passkey)?;
        // Only the person who proved it holds the passkey learns that it is not the typed
        // account's.
        if kind == Kind::SigninUsername && row.username.as_deref() != Some(&person.username) {
            return Err(other_account());
        }
        if person.disabled {
            return Err(disabled());
        }
        let cred_id = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            result.cred_id().as_slice(),
        );
        let stored = passkey::Entity::find()
            .filter(passkey::Column::CredentialId.eq(cred_id))
            .filter(passkey::Column::UserId.eq(user_id))
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(unknown_passkey)?;
        let mut pk = passkeys::decode(&stored)?;
        pk.update_credential(&result);
        let mut active: passkey::ActiveModel = stored.into();
        active.passkey = Set(passkeys::encode(&pk)?);
        active.backup_eligible = Set(result.backup_eligible());
        active.backup_state = Set(result.backup_state());
        active.last_used_at = Set(Some(now));
        active.update(&txn).await.map_err(fail)?;
        self.finish_sign_in(txn, person, client, now, Action::SessionSignIn)
            .await
    }
}

fn other_account() -> AppError {
    AppError::Invalid("This passkey belongs to another account than the username you typed.".into())
}
