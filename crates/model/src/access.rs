//! Who can do what on a resource, and why: the Access panel's data.

use serde::{Deserialize, Serialize};

/// The kinds of resource that have an Access panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelKind {
    Organization,
    Vm,
    Service,
}

/// A person, as lists show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRef {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// Everyone holding one permission, and the schema rule that grants it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionHolders {
    pub permission: String,
    pub rule: String,
    pub people: Vec<PersonRef>,
}

/// The Access panel of one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessOverview {
    pub kind: String,
    pub id: String,
    pub permissions: Vec<PermissionHolders>,
}

/// One step of an explanation, with the steps beneath it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainStep {
    pub label: String,
    pub granted: bool,
    pub children: Vec<ExplainStep>,
}

/// A question for the permission engine about anyone's grants, from `strata authz` (names
/// like `user:alice`, `organization:acme` or ids).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "query", rename_all = "snake_case")]
pub enum AuthzQuery {
    Check {
        subject: String,
        permission: String,
        entity: String,
    },
    LookupResources {
        subject: String,
        permission: String,
        entity_type: String,
    },
    LookupSubjects {
        entity: String,
        permission: String,
        subject_type: String,
    },
    Explain {
        subject: String,
        permission: String,
        entity: String,
    },
}

/// Why a person holds, or does not hold, a permission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub username: String,
    pub permission: String,
    pub granted: bool,
    /// The decision in words, leading with the relation that decides it ("bob may start web-1
    /// because bob is a member of organization acme, ...").
    pub sentence: String,
    /// The granting chain, top to bottom; empty when denied.
    pub path: Vec<String>,
    pub tree: ExplainStep,
}
