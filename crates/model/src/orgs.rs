//! Organizations and their members.

use serde::{Deserialize, Serialize};

use crate::access::PersonRef;

/// A person's role in an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Owner,
    Member,
}

impl OrgRole {
    /// The name forms and the API use (`owner`, `member`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Member => "member",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgRole::Owner => "Owner",
            OrgRole::Member => "Member",
        }
    }
}

impl std::str::FromStr for OrgRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Self::Owner),
            "member" => Ok(Self::Member),
            other => Err(format!("role must be owner or member, not {other:?}")),
        }
    }
}

/// One organization in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    /// The caller's own role; None for a platform admin looking in from outside.
    pub role: Option<OrgRole>,
    pub members: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgMember {
    pub person: PersonRef,
    pub role: OrgRole,
}

/// An organization's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgDetail {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub role: Option<OrgRole>,
    pub can_manage: bool,
    pub can_leave: bool,
    pub members: Vec<OrgMember>,
}

/// Organization names: 2–40 characters, lowercase letters, digits and single hyphens inside.
pub fn validate_org_name(name: &str) -> Result<(), String> {
    let n = name.len();
    if !(2..=40).contains(&n) {
        return Err("An organization name needs 2 to 40 characters.".into());
    }
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok_chars || name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err(
            "Use lowercase letters, digits and single hyphens inside, like `platform-team`.".into(),
        );
    }
    Ok(())
}
