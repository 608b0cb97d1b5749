//! Virtual machines as lists and pages show them, and direct shares.

use serde::{Deserialize, Serialize};

use crate::access::PersonRef;

/// How much a direct share grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareLevel {
    /// Sees it.
    Viewer,
    /// Sees it, powers it, uses its console.
    Operator,
}

impl ShareLevel {
    /// The name forms and the API use (`viewer`, `operator`).
    pub fn as_str(self) -> &'static str {
        match self {
            ShareLevel::Viewer => "viewer",
            ShareLevel::Operator => "operator",
        }
    }

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

/// A VM's state as people follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    Creating,
    Stopped,
    Starting,
    Running,
    Paused,
    Stopping,
    Restarting,
    Error,
    Deleting,
    /// Shown, never stored: the VM's node is unreachable, so what it does is not known.
    Unknown,
}

impl VmState {
    pub const ALL: [VmState; 9] = [
        VmState::Creating,
        VmState::Stopped,
        VmState::Starting,
        VmState::Running,
        VmState::Paused,
        VmState::Stopping,
        VmState::Restarting,
        VmState::Error,
        VmState::Deleting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Creating => "creating",
            VmState::Stopped => "stopped",
            VmState::Starting => "starting",
            VmState::Running => "running",
            VmState::Paused => "paused",
            VmState::Stopping => "stopping",
            VmState::Restarting => "restarting",
            VmState::Error => "error",
            VmState::Deleting => "deleting",
            VmState::Unknown => "unknown",
        }
    }

    /// A stored state, or `unknown` (which [`VmState::ALL`], the states a VM row can hold and
    /// a list can be filtered by, leaves out).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([VmState::Unknown])
            .find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            VmState::Creating => "Creating",
            VmState::Stopped => "Stopped",
            VmState::Starting => "Starting",
            VmState::Running => "Running",
            VmState::Paused => "Paused",
            VmState::Stopping => "Stopping",
            VmState::Restarting => "Restarting",
            VmState::Error => "Error",
            VmState::Deleting => "Deleting",
            VmState::Unknown => "Unknown",
        }
    }

    /// Whether work is under way (the page keeps refreshing until it ends).
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            VmState::Creating
                | VmState::Starting
                | VmState::Stopping
                | VmState::Restarting
                | VmState::Deleting
        )
    }
}

/// What a person can ask a VM to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VmAction {
    Start,
    Stop,
    Restart,
    Pause,
    Resume,
}

impl VmAction {
    pub const ALL: [VmAction; 5] = [
        VmAction::Start,
        VmAction::Stop,
        VmAction::Restart,
        VmAction::Pause,
        VmAction::Resume,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VmAction::Start => "start",
            VmAction::Stop => "stop",
            VmAction::Restart => "restart",
            VmAction::Pause => "pause",
            VmAction::Resume => "resume",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VmAction::Start => "Start",
            VmAction::Stop => "Stop",
            VmAction::Restart => "Restart",
            VmAction::Pause => "Pause",
            VmAction::Resume => "Resume",
        }
    }

    /// Whether the action makes sense from `state` (the server enforces it too).
    pub fn allowed_from(self, state: VmState) -> bool {
        use VmState::*;
        match self {
            VmAction::Start => matches!(state, Stopped | Error),
            VmAction::Stop => matches!(state, Running | Paused | Starting | Restarting | Error),
            VmAction::Restart => matches!(state, Running),
            VmAction::Pause => matches!(state, Running),
            VmAction::Resume => matches!(state, Paused),
        }
    }
}

impl std::str::FromStr for VmAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown VM action {s:?}"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VmSummary {
    pub id: String,
    pub name: String,
    pub organization_id: String,
    pub organization: String,
    pub owner: Option<String>,
    pub created_at: String,
    pub state: VmState,
    pub state_reason: Option<String>,
    pub image: Option<String>,
    pub cpu_count: u32,
    pub memory_mb: u32,
    pub disk_gb: u32,
    pub generation: i64,
}

/// VMs a list shows when it does not say how many.
pub const VM_PAGE: u32 = 50;
/// The most VMs one page may hold.
pub const VM_PAGE_MAX: u32 = 1000;

/// Which VMs a list asks for; every part is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VmQuery {
    /// Only this organization's VMs.
    pub organization_id: Option<String>,
    /// Only VMs in this state.
    pub state: Option<VmState>,
    /// A page's `next`: the page after it.
    pub after: Option<String>,
    /// How many (default [`VM_PAGE`], at most [`VM_PAGE_MAX`]).
    pub limit: Option<u32>,
}

/// One page of the VMs a person may read, sorted by organization and name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VmPage {
    pub vms: Vec<VmSummary>,
    /// How many VMs match the filters, on every page.
    pub total: u64,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
}

/// Where a page of VMs starts: after the VM with this organization, name and id (the sort
/// key, so a cursor stays valid when rows before it come or go).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VmCursor {
    pub organization: String,
    pub name: String,
    pub id: String,
}

impl VmCursor {
    /// The cursor as it travels: its three parts on three lines (names never hold one).
    pub fn encode(&self) -> String {
        format!("{}\n{}\n{}", self.organization, self.name, self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '\n');
        Some(Self {
            organization: parts.next()?.to_owned(),
            name: parts.next()?.to_owned(),
            id: parts.next()?.to_owned(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VmShare {
    pub person: PersonRef,
    pub level: ShareLevel,
}

/// One line of a VM's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VmEvent {
    pub at: String,
    pub kind: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VmDetail {
    pub vm: VmSummary,
    pub description: String,
    pub desired_state: String,
    pub node: Option<String>,
    /// The actions the caller may take now (allowed by permission and by state).
    pub actions: Vec<VmAction>,
    pub can_delete: bool,
    pub can_share: bool,
    pub can_console: bool,
    pub shares: Vec<VmShare>,
    pub events: Vec<VmEvent>,
    pub operations: Vec<crate::operations::OperationView>,
    /// Its network cards, eth0 first.
    #[serde(default)]
    pub nics: Vec<crate::networks::NicView>,
    /// Its tags, sorted.
    #[serde(default)]
    pub tags: Vec<String>,
    /// May change its tags.
    #[serde(default)]
    pub can_tag: bool,
}

/// A VM's new tags (replacing the old ones).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VmTags {
    pub tags: Vec<String>,
}

/// What the create form sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewVm {
    pub organization_id: String,
    pub name: String,
    pub description: String,
    /// None: the first image in the catalog (the ready test image on a new installation).
    pub image_id: Option<String>,
    pub cpu_count: u32,
    pub memory_mb: u32,
    pub disk_gb: u32,
    /// Boot it once created.
    pub start: bool,
    /// Only on a node of this region; `None`: wherever there is room.
    #[serde(default)]
    pub region: Option<String>,
    /// The networks of its cards, by id, in order (eth0 first). `None`: one card on the
    /// organization's default network; empty: no network card.
    #[serde(default)]
    pub networks: Option<Vec<String>>,
    /// Labels firewall rules may name as a source (`web`, `db-client`); at most 16.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl NewVm {
    /// The smallest VM from the default image, not started.
    pub fn named(organization_id: &str, name: &str) -> Self {
        Self {
            organization_id: organization_id.to_owned(),
            name: name.to_owned(),
            description: String::new(),
            image_id: None,
            cpu_count: 1,
            memory_mb: MIN_MEMORY_MB,
            disk_gb: 1,
            start: false,
            region: None,
            networks: None,
            tags: Vec::new(),
        }
    }
}

pub const MIN_MEMORY_MB: u32 = 128;
pub const MAX_MEMORY_MB: u32 = 65_536;
pub const MAX_DISK_GB: u32 = 2_048;
pub const MAX_DESCRIPTION: usize = 500;

/// Checks a spec's numbers against the limits and the node's CPUs; the messages name the field.
pub fn validate_spec(vm: &NewVm, node_cpus: u32) -> Result<(), String> {
    if vm.cpu_count < 1 || vm.cpu_count > node_cpus.max(1) {
        return Err(format!(
            "vCPUs: choose 1 to {} (the largest node has {} CPUs).",
            node_cpus.max(1),
            node_cpus.max(1)
        ));
    }
    if vm.memory_mb < MIN_MEMORY_MB || vm.memory_mb > MAX_MEMORY_MB {
        return Err(format!(
            "Memory: choose {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MiB."
        ));
    }
    if vm.disk_gb < 1 || vm.disk_gb > MAX_DISK_GB {
        return Err(format!("Disk: choose 1 to {MAX_DISK_GB} GiB."));
    }
    crate::text::check_text("Description", &vm.description, MAX_DESCRIPTION, true)
}

/// An administrator's request to add an image from files on the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewImage {
    pub name: String,
    pub os: String,
    /// `kernel` (kernel + initrd) or `disk`.
    pub format: String,
    pub kernel_path: Option<String>,
    pub initrd_path: Option<String>,
    pub disk_path: Option<String>,
    pub cmdline: String,
    pub boot_marker: Option<String>,
}

/// An image people can pick.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageSummary {
    pub id: String,
    pub name: String,
    pub os: String,
    pub format: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// The most tags a VM may have.
pub const MAX_TAGS: usize = 16;

/// Tags: each 1 to 32 of lowercase letters, digits and hyphens, starting with a letter; at
/// most [`MAX_TAGS`].
pub fn validate_tags(tags: &[String]) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("A VM has at most {MAX_TAGS} tags."));
    }
    for t in tags {
        let t = t.trim();
        let ok = (1..=32).contains(&t.len())
            && t.starts_with(|c: char| c.is_ascii_lowercase())
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(format!(
                "{t:?} is not a tag: use 1 to 32 lowercase letters, digits and hyphens, starting with a letter."
            ));
        }
    }
    Ok(())
}

/// Tags as stored: trimmed, sorted, without repeats, comma-separated.
pub fn joined_tags(tags: &[String]) -> String {
    let mut all: Vec<&str> = tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    all.sort_unstable();
    all.dedup();
    all.join(",")
}

/// Stored tags as a list.
pub fn split_tags(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_and_stored_sorted_once() {
        let tags: Vec<String> = ["web", " db ", "web"].map(String::from).to_vec();
        assert!(validate_tags(&tags).is_ok());
        assert_eq!(joined_tags(&tags), "db,web");
        assert_eq!(split_tags("db,web"), ["db", "web"]);
        assert!(split_tags("").is_empty());
        for bad in ["Web", "1db", "a b", "", &"a".repeat(33)] {
            assert!(validate_tags(&[bad.to_owned()]).is_err(), "{bad}");
        }
        assert!(validate_tags(&vec!["a".to_owned(); MAX_TAGS + 1]).is_err());
    }

    #[test]
    fn a_cursor_travels_as_text_and_back() {
        let c = VmCursor {
            organization: "acme".into(),
            name: "web-1".into(),
            id: "5f0c".into(),
        };
        assert_eq!(VmCursor::decode(&c.encode()), Some(c));
        assert_eq!(VmCursor::decode("acme\nweb-1"), None);
    }
}
