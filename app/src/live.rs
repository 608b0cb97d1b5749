//! Live events in the browser: one `/ws` connection per tab, its state, and counters that
//! pages read so their resources refetch when something they show changed.

use leptos::prelude::*;
use model::events::LiveEvent;
use model::services::{DeploymentLogLine, MetricSample};

/// The state of the tab's `/ws` connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Open,
    Closed,
    SignedOut,
}

impl LiveStatus {
    /// What the browser script reports (`open`, `closed`, ...); anything else is closed.
    fn parse(s: &str) -> Self {
        match s {
            "connecting" => Self::Connecting,
            "open" => Self::Open,
            "signed-out" => Self::SignedOut,
            _ => Self::Closed,
        }
    }

    /// The `data-state` the page carries (tests wait on it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::SignedOut => "signed-out",
        }
    }
}

/// Shared through context by the layout.
#[derive(Clone, Copy)]
pub struct Live {
    pub status: RwSignal<LiveStatus>,
    /// Goes up when a VM changed, grants changed, or the connection (re)started.
    pub vms: RwSignal<u64>,
    /// Goes up when a service changed, grants changed, or the connection (re)started.
    pub services: RwSignal<u64>,
    /// Goes up when an operation moved on, grants changed, or the connection (re)started.
    pub operations: RwSignal<u64>,
    /// The last usage sample, with the id it was sent for (a VM's, or a replica's service's).
    /// Pages append it to what they show rather than refetching.
    pub metrics: RwSignal<Option<(String, MetricSample)>>,
    /// The last log line, with its stream (a deployment's id).
    pub log: RwSignal<Option<(String, DeploymentLogLine)>>,
    /// Goes up when an audit row the person may see was written.
    pub audit: RwSignal<u64>,
    /// Goes up when a node changed (platform administrators only).
    pub nodes: RwSignal<u64>,
    /// Goes up when grants changed anywhere, or the connection (re)started: the layout then
    /// asks again which organizations the person is in.
    pub access: RwSignal<u64>,
    /// Goes up when the person's organizations or roles in them changed (the layout compares
    /// its list after each `access` change): what a page offers depends on them (a Create
    /// form, "join or start an organization"), so those pages refetch on this, and only this
    /// (a form being filled in is not redrawn for someone else's grant).
    pub memberships: RwSignal<u64>,
}

impl Live {
    fn new() -> Self {
        Self {
            status: RwSignal::new(LiveStatus::Connecting),
            vms: RwSignal::new(0),
            services: RwSignal::new(0),
            operations: RwSignal::new(0),
            metrics: RwSignal::new(None),
            log: RwSignal::new(None),
            audit: RwSignal::new(0),
            nodes: RwSignal::new(0),
            access: RwSignal::new(0),
            memberships: RwSignal::new(0),
        }
    }
}

/// Makes the live state available to every page under the layout.
pub fn provide_live() -> Live {
    let live = Live::new();
    provide_context(live);
    live
}

/// The layout's live state (a detached one outside it, which never changes).
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(Live::new)
}

/// The key under which the first greeting is remembered.
const HELLO: &str = "\u{0}hello";

/// Applies one event's text to the counters; VM and service updates older than one already
/// seen are dropped by generation.
fn apply(live: Live, seen: &mut std::collections::HashMap<String, i64>, text: &str) {
    // Signing out: nothing on this page is worth fetching again.
    if live.status.try_get_untracked() == Some(LiveStatus::SignedOut) {
        return;
    }
    let Ok(event) = serde_json::from_str::<LiveEvent>(text) else {
        return;
    };
    match &event {
        LiveEvent::VmUpdate { id, generation, .. } => {
            let newer = seen.get(id).is_none_or(|g| generation >= g);
            if newer {
                seen.insert(id.clone(), *generation);
                live.vms.try_update(|n| *n += 1);
            }
        }
        LiveEvent::ServiceUpdate { id, generation, .. } => {
            let key = format!("service/{id}");
            let newer = seen.get(&key).is_none_or(|g| generation >= g);
            if newer {
                seen.insert(key, *generation);
                live.services.try_update(|n| *n += 1);
            }
        }
        LiveEvent::OperationUpdate { .. } => {
            live.operations.try_update(|n| *n += 1);
        }
        LiveEvent::Metrics { id, sample, .. } => {
            live.metrics.try_set(Some((id.clone(), sample.clone())));
        }
        LiveEvent::Log { stream, line, .. } => {
            live.log.try_set(Some((stream.clone(), line.clone())));
        }
        LiveEvent::Audit { .. } => {
            live.audit.try_update(|n| *n += 1);
        }
        LiveEvent::NodeUpdate { .. } => {
            live.nodes.try_update(|n| *n += 1);
        }
        // The first greeting finds the page freshly loaded; a later one is a reconnection,
        // after which (like after a missed stretch or a grant change) whatever is shown is
        // refetched.
        LiveEvent::Hello { .. } if !seen.contains_key(HELLO) => {
            seen.insert(HELLO.to_owned(), 0);
        }
        LiveEvent::AccessChanged { .. } | LiveEvent::Resync { .. } | LiveEvent::Hello { .. } => {
            live.vms.try_update(|n| *n += 1);
            live.services.try_update(|n| *n += 1);
            live.operations.try_update(|n| *n += 1);
            live.audit.try_update(|n| *n += 1);
            live.nodes.try_update(|n| *n += 1);
            live.access.try_update(|n| *n += 1);
        }
    }
}

/// A dot and a word for the connection, and the connection itself (started in the browser).
#[component]
pub fn LiveIndicator() -> impl IntoView {
    let live = use_live();
    Effect::new(move |_| {
        let mut seen = std::collections::HashMap::new();
        crate::browser::live_connect(
            move |text| apply(live, &mut seen, &text),
            move |status| {
                live.status.try_set(LiveStatus::parse(&status));
            },
        );
    });
    let colour = move || match live.status.get() {
        LiveStatus::Open => "bg-emerald-500",
        LiveStatus::Connecting => "bg-amber-400",
        LiveStatus::Closed | LiveStatus::SignedOut => "bg-slate-400",
    };
    let label = move || match live.status.get() {
        LiveStatus::Open => "Live",
        LiveStatus::Connecting => "Connecting…",
        LiveStatus::SignedOut => "Signed out",
        LiveStatus::Closed => "Offline, retrying",
    };
    view! {
        <span class="flex items-center gap-1 text-xs text-slate-500 dark:text-slate-400" data-testid="live-status" data-state=move || live.status.get().as_str()
            title="Live updates">
            <span class=move || format!("inline-block h-2 w-2 rounded-full {}", colour())></span>
            // On a phone the dot stays and the word is for screen readers only.
            <span class="max-sm:sr-only">{label}</span>
        </span>
    }
}
