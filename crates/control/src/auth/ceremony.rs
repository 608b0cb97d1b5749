//! Ceremony state between "begin" and "finish": stored server-side, used once, short-lived.
//!
//! `take` deletes the row and only the request whose delete removed it may proceed, so a
//! replayed finish (or two racing ones) fails.

use chrono::{DateTime, Utc};
use model::auth::CeremonyStart;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::{de::DeserializeOwned, Serialize};

use crate::entities::ceremony;
use crate::{internal, Control};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Signup,
    AddPasskey,
    Recovery,
    Signin,
    SigninUsername,
    /// A signed-in user proving presence again before a sensitive change.
    Reauth,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::AddPasskey => "add_passkey",
            Self::Recovery => "recovery",
            Self::Signin => "signin",
            Self::SigninUsername => "signin_username",
            Self::Reauth => "reauth",
        }
    }
}

/// What a ceremony remembers besides the WebAuthn state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    pub user_id: Option<Uuid>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub link_id: Option<Uuid>,
}

fn expired() -> AppError {
    AppError::Invalid(
        "This passkey request has expired or was already used. Please try again.".into(),
    )
}

impl Control {
    /// Stores a begun ceremony and answers what the browser needs to continue it.
    pub(crate) async fn start_ceremony(
        &self,
        kind: Kind,
        state: &impl Serialize,
        options: String,
        extra: Extra,
        now: DateTime<Utc>,
    ) -> Result<CeremonyStart, AppError> {
        let fail = |e: sea_orm::DbErr| internal("store ceremony", e);
        // Forget abandoned ceremonies as new ones begin.
        ceremony::Entity::delete_many()
            .filter(ceremony::Column::ExpiresAt.lt(now))
            .exec(self.db())
            .await
            .map_err(fail)?;
        let id = Uuid::new_v4();
        let state = serde_json::to_string(state).map_err(|e| internal("ceremony state", e))?;
        ceremony::ActiveModel {
            id: Set(id),
            kind: Set(kind.as_str().to_owned()),
            state: Set(state),
            user_id: Set(extra.user_id),
            username: Set(extra.username),
            display_name: Set(extra.display_name),
            link_id: Set(extra.link_id),
            created_at: Set(now),
            expires_at: Set(now + self.auth().ceremony_ttl),
        }
        .insert(self.db())
        .await
        .map_err(fail)?;
        Ok(CeremonyStart {
            ceremony_id: id.to_string(),
            options,
        })
    }

    /// Consumes a ceremony of one of `kinds`; fails when unknown, used, expired or of another kind.
    pub(crate) async fn take_ceremony<S: DeserializeOwned>(
        &self,
        id: &str,
        kinds: &[Kind],
        now: DateTime<Utc>,
    ) -> Result<(Kind, ceremony::Model, S), AppError> {
        let fail = |e: sea_orm::DbErr| internal("take ceremony", e);
        let id = Uuid::parse_str(id).map_err(|_| expired())?;
        let row = ceremony::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(expired)?;
        let kind = kinds
            .iter()
            .copied()
            .find(|k| k.as_str() == row.kind)
            .ok_or_else(expired)?;
        let removed = ceremony::Entity::delete_by_id(id)
            .exec(self.db())
            .await
            .map_err(fail)?;
        if removed.rows_affected != 1 || now >= row.expires_at {
            return Err(expired());
        }
        let state = serde_json::from_str(&row.state).map_err(|e| internal("ceremony state", e))?;
        Ok((kind, row, state))
    }
}
