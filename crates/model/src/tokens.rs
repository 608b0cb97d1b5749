//! Personal API tokens as the Settings page, the REST API and the CLI show them.

use serde::{Deserialize, Serialize};

/// Every token's secret starts with this, so secret scanners can find leaked ones.
pub const TOKEN_PREFIX: &str = "strata_";
/// A token's expiry when the person does not choose one, in days.
pub const DEFAULT_EXPIRY_DAYS: u32 = 30;
/// The longest name a token may have.
pub const NAME_MAX: usize = 64;

/// Where a token may act: everywhere its owner may, in one organization, or on one resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenScope {
    /// Wherever the owner may act.
    #[default]
    Everything,
    /// Inside one organization: the organization and its VMs and services.
    Organization { id: String },
    /// One VM.
    Vm { id: String },
    /// One service.
    Service { id: String },
}

/// What the create form (or `strata token create`) sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub name: String,
    /// Days until the token stops working (1 to the installation's maximum, 90 by default).
    pub expires_in_days: u32,
    /// Permission names the token may use (`read`, `start`, `create_vm`, ...); empty: every
    /// permission its owner has.
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub scope: TokenScope,
}

/// A token, never with its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// The owner's username.
    pub owner: String,
    /// The secret's first characters (`strata_ab12`), to tell tokens apart.
    pub hint: String,
    pub actions: Vec<String>,
    pub scope: TokenScope,
    /// The scope in words ("everything you may do", "organization acme").
    pub scope_label: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

/// A new token: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: TokenView,
    pub secret: String,
}
