//! Virtual machines as lists and pages show them, and direct shares.

use serde::{Deserialize, Serialize};

use crate::access::PersonRef;

/// How much a direct share grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareLevel {
    /// Sees it.
    Viewer,
    /// Sees it, powers it, uses its console.
    Operator,
}

impl ShareLevel {
    pub fn label(self) -> &'static str {
        match self {
            ShareLevel::Viewer => "Viewer",
            ShareLevel::Operator => "Operator",
        }
    }
}

impl std::str::FromStr for ShareLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Self::Viewer),
            "operator" => Ok(Self::Operator),
            other => Err(format!(
                "share level must be viewer or operator, not {other:?}"
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmSummary {
    pub id: String,
    pub name: String,
    pub organization_id: String,
    pub organization: String,
    pub owner: Option<String>,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmShare {
    pub person: PersonRef,
    pub level: ShareLevel,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmDetail {
    pub vm: VmSummary,
    pub can_delete: bool,
    pub can_share: bool,
    pub shares: Vec<VmShare>,
}

/// VM names: 1–63 characters, lowercase letters, digits and hyphens, starting with a letter
/// (a valid host name label).
pub fn validate_vm_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err("A VM name needs 1 to 63 characters.".into());
    }
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(
            "Use lowercase letters, digits and hyphens, starting with a letter, like `web-1`."
                .into(),
        );
    }
    Ok(())
}
