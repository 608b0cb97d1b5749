//! A user's passkeys: stored form, listing, adding, renaming and removing (never the last).
//! Adding and removing need a session freshly verified with a passkey (see `sessions`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use model::auth::{validate_passkey_name, CeremonyStart, PasskeyInfo};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, Passkey, PasskeyRegistration,
    RegisterPublicKeyCredential, RequestChallengeResponse,
};

use super::ceremony::{Extra, Kind};
use super::{show_time, webauthn_err, Caller};
use crate::access::Authorized;
use crate::audit::Action;
use crate::entities::passkey;
use crate::error::unique_or;
use crate::{internal, Control};

/// Registration options for the browser. webauthn-rs 0.5 asks for a non-resident key; Strata
/// signs in without a username, so it asks for a discoverable credential instead (webauthn-rs
/// does not check residency when finishing, so the stored state still matches).
pub(crate) fn creation_options(ccr: &CreationChallengeResponse) -> Result<String, AppError> {
    let mut v = serde_json::to_value(ccr).map_err(|e| internal("creation options", e))?;
    if let Some(sel) = v
        .get_mut("publicKey")
        .and_then(|p| p.get_mut("authenticatorSelection"))
        .and_then(|s| s.as_object_mut())
    {
        sel.insert("residentKey".into(), "required".into());
        sel.insert("requireResidentKey".into(), true.into());
    }
    Ok(v.to_string())
}

/// Authentication options for the browser, asking for a modal prompt rather than autofill.
pub(crate) fn request_options(rcr: &RequestChallengeResponse) -> Result<String, AppError> {
    let mut v = serde_json::to_value(rcr).map_err(|e| internal("request options", e))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("mediation");
    }
    Ok(v.to_string())
}

pub(crate) fn credential_id(pk: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(pk.cred_id().as_slice())
}

pub(crate) fn decode(row: &passkey::Model) -> Result<Passkey, AppError> {
    serde_json::from_str(&row.passkey).map_err(|e| internal("stored passkey", e))
}

pub(crate) fn encode(pk: &Passkey) -> Result<String, AppError> {
    serde_json::to_string(pk).map_err(|e| internal("stored passkey", e))
}

/// Stores a newly registered passkey.
pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    name: &str,
    pk: &Passkey,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    passkey::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        credential_id: Set(credential_id(pk)),
        passkey: Set(encode(pk)?),
        backup_eligible: Set(false),
        backup_state: Set(false),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(|e| {
        unique_or(
            e,
            AppError::Conflict("This passkey is already registered.".into()),
            "insert passkey",
        )
    })?;
    Ok(())
}

/// After a successful assertion: the passkey's new counter and backup flags, and when it was
/// last used. The credential must be one of `user_id`'s.
pub(crate) async fn record_use<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    result: &AuthenticationResult,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fail = |e: DbErr| internal("record passkey use", e);
    let stored = passkey::Entity::find()
        .filter(
            passkey::Column::CredentialId.eq(URL_SAFE_NO_PAD.encode(result.cred_id().as_slice())),
        )
        .filter(passkey::Column::UserId.eq(user_id))
        .one(conn)
        .await
        .map_err(fail)?
        .ok_or_else(|| AppError::Invalid("This passkey is not registered with Strata.".into()))?;
    let mut pk = decode(&stored)?;
    pk.update_credential(result);
    let mut active: passkey::ActiveModel = stored.into();
    active.passkey = Set(encode(&pk)?);
    active.backup_eligible = Set(result.backup_eligible());
    active.backup_state = Set(result.backup_state());
    active.last_used_at = Set(Some(now));
    active.update(conn).await.map_err(fail)?;
    Ok(())
}

pub(crate) async fn of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<Vec<passkey::Model>, AppError> {
    passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .order_by_asc(passkey::Column::CreatedAt)
        .all(conn)
        .await
        .map_err(|e| internal("list passkeys", e))
}

/// A name for a new passkey of `user_id` made in the browser `user_agent`, unlike the names of
/// the person's other passkeys (only their names are read).
pub(crate) async fn fresh_name<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    user_agent: &str,
) -> Result<String, AppError> {
    let taken: Vec<String> = passkey::Entity::find()
        .select_only()
        .column(passkey::Column::Name)
        .filter(passkey::Column::UserId.eq(user_id))
        .into_tuple()
        .all(conn)
        .await
        .map_err(|e| internal("passkey names", e))?;
    Ok(super::passkey_name::suggested(user_agent, &taken))
}

fn not_found() -> AppError {
    AppError::NotFound("No such passkey.".into())
}

impl Control {
    pub async fn list_passkeys(&self, who: &Caller) -> Result<Vec<PasskeyInfo>, AppError> {
        Ok(of_user(self.db(), who.user_id)
            .await?
            .into_iter()
            .map(|p| PasskeyInfo {
                id: p.id.to_string(),
                name: p.name,
                created_at: show_time(p.created_at),
                last_used_at: p.last_used_at.map(show_time),
            })
            .collect())
    }

    /// Begins registering another passkey for the caller (their existing ones are excluded).
    pub async fn begin_add_passkey(
        &self,
        who: &Caller,
        now: DateTime<Utc>,
    ) -> Result<CeremonyStart, AppError> {
        self.require_fresh(who, now).await?;
        let existing = of_user(self.db(), who.user_id).await?;
        self.begin_registration(
            who.user_id,
            &who.username,
            &who.display_name,
            &existing,
            Kind::AddPasskey,
            Extra::default(),
            now,
        )
        .await
    }

    /// Every passkey registration (sign-up, adding a passkey, recovery) begins here; the user's
    /// existing credentials are excluded so one authenticator is not registered twice.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn begin_registration(
        &self,
        user_id: Uuid,
        username: &str,
        display_name: &str,
        existing: &[passkey::Model],
        kind: Kind,
        extra: Extra,
        now: DateTime<Utc>,
    ) -> Result<CeremonyStart, AppError> {
        let exclude = existing
            .iter()
            .map(|p| decode(p).map(|pk| pk.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (ccr, state) = self
            .webauthn()
            .start_passkey_registration(
                user_id,
                username,
                display_name,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(webauthn_err::to_app_error)?;
        let options = creation_options(&ccr)?;
        let extra = Extra {
            user_id: Some(user_id),
            ..extra
        };
        self.start_ceremony(kind, &state, options, extra, now).await
    }

    pub async fn finish_add_passkey(
        &self,
        who: &Caller,
        ceremony_id: &str,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let (_, row, state): (_, _, PasskeyRegistration) = self
            .take_ceremony(ceremony_id, &[Kind::AddPasskey], now)
            .await?;
        if row.user_id != Some(who.user_id) {
            return Err(AppError::Invalid(
                "This passkey request belongs to another session.".into(),
            ));
        }
        self.require_fresh(who, now).await?;
        let cred: RegisterPublicKeyCredential = webauthn_err::parse(credential)?;
        let pk = self
            .webauthn()
            .finish_passkey_registration(&cred, &state)
            .map_err(webauthn_err::to_app_error)?;
        let fail = |e: DbErr| internal("add passkey", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let name = fresh_name(&txn, who.user_id, &who.client.user_agent).await?;
        insert(&txn, who.user_id, &name, &pk, now).await?;
        let entry = crate::audit::Entry::about(Action::PasskeyAdd, "user", who.user_id)
            .detail(serde_json::json!({ "name": name }));
        crate::audit::record_success(&txn, &Authorized::own_account(who), who, entry, now).await?;
        txn.commit().await.map_err(fail)
    }

    pub async fn rename_passkey(
        &self,
        who: &Caller,
        id: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        validate_passkey_name(name).map_err(AppError::Invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        let row = passkey::Entity::find_by_id(id)
            .filter(passkey::Column::UserId.eq(who.user_id))
            .one(self.db())
            .await
            .map_err(|e| internal("rename passkey", e))?
            .ok_or_else(not_found)?;
        let fail = |e: DbErr| internal("rename passkey", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let mut active: passkey::ActiveModel = row.into();
        active.name = Set(name.trim().to_owned());
        active.update(&txn).await.map_err(fail)?;
        let entry = crate::audit::Entry::about(Action::PasskeyRename, "passkey", id)
            .detail(serde_json::json!({ "name": name.trim() }));
        crate::audit::record_success(&txn, &Authorized::own_account(who), who, entry, now).await?;
        txn.commit().await.map_err(fail)
    }

    /// Removes one of the caller's passkeys, never the last one.
    pub async fn remove_passkey(
        &self,
        who: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        self.require_fresh(who, now).await?;
        let fail = |e: DbErr| internal("remove passkey", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let mine = of_user(&txn, who.user_id).await?;
        if !mine.iter().any(|p| p.id == id) {
            return Err(not_found());
        }
        if mine.len() <= 1 {
            return Err(AppError::Conflict(
                "You cannot remove your last passkey: you would have no way to sign in.".into(),
            ));
        }
        passkey::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(fail)?;
        let entry = crate::audit::Entry::about(Action::PasskeyRemove, "passkey", id);
        crate::audit::record_success(&txn, &Authorized::own_account(who), who, entry, now).await?;
        txn.commit().await.map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{user_with_session, TestDb};
    use webauthn_authenticator_rs::{softpasskey::SoftPasskey, WebauthnAuthenticator};
    use webauthn_rs::prelude::Url;

    /// A real credential: registered through webauthn-rs by a software authenticator.
    fn registered(control: &Control, user: Uuid) -> Passkey {
        let (ccr, state) = control
            .webauthn()
            .start_passkey_registration(user, "ada", "Ada", None)
            .unwrap();
        let mut auth = WebauthnAuthenticator::new(SoftPasskey::new(true));
        let cred = auth
            .do_registration(Url::parse("http://localhost:3000").unwrap(), ccr)
            .unwrap();
        control
            .webauthn()
            .finish_passkey_registration(&cred, &state)
            .unwrap()
    }

    #[tokio::test]
    async fn one_credential_belongs_to_one_account_only() {
        let db = TestDb::new().await;
        let control = db.control().await;
        let (ada, _) = user_with_session(&control, "ada", false).await;
        let (bob, _) = user_with_session(&control, "bob", false).await;
        let pk = registered(&control, ada);
        let now = crate::clock::system_now();
        insert(control.db(), ada, "Laptop", &pk, now).await.unwrap();
        let again = insert(control.db(), bob, "Stolen", &pk, now)
            .await
            .unwrap_err();
        assert_eq!(
            again,
            AppError::Conflict("This passkey is already registered.".into())
        );
        assert_eq!(of_user(control.db(), bob).await.unwrap().len(), 0);
    }

    #[test]
    fn registration_options_ask_for_a_discoverable_credential() {
        let ccr: CreationChallengeResponse = serde_json::from_value(serde_json::json!({
            "publicKey": {
                "rp": {"id": "localhost", "name": "Strata"},
                "user": {"id": "AAAA", "name": "ada", "displayName": "Ada"},
                "challenge": "AAAA",
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
                "authenticatorSelection": {"requireResidentKey": false, "residentKey": "discouraged", "userVerification": "required"}
            }
        }))
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&creation_options(&ccr).unwrap()).unwrap();
        let sel = &v["publicKey"]["authenticatorSelection"];
        assert_eq!(sel["residentKey"], "required");
        assert_eq!(sel["requireResidentKey"], true);
        assert_eq!(sel["userVerification"], "required");
    }
}
