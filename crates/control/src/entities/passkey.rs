//! A passkey registered to a user (the serialized webauthn-rs credential plus what the UI shows).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// base64url of the credential id, unique across all users.
    #[sea_orm(unique)]
    pub credential_id: String,
    /// webauthn-rs `Passkey` as JSON (public key, counter, flags).
    pub passkey: String,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
