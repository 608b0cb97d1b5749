//! A VM's state as a coloured badge, with its reason as a tooltip.

use leptos::prelude::*;
use model::vms::VmState;

#[component]
pub fn VmStateBadge(state: VmState, #[prop(optional)] reason: Option<String>) -> impl IntoView {
    let colour = match state {
        VmState::Running => {
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300"
        }
        VmState::Error => "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
        VmState::Stopped => "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
        VmState::Paused => "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300",
        VmState::Unknown => {
            "bg-violet-100 text-violet-800 dark:bg-violet-900/40 dark:text-violet-300"
        }
        _ => "bg-sky-100 text-sky-800 dark:bg-sky-900/40 dark:text-sky-300",
    };
    view! {
        <span
            class=format!("inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium {colour}")
            data-testid="vm-state"
            data-state=state.as_str()
            title=reason.unwrap_or_default()
        >
            {state.is_transitional().then(|| view! { <span class="h-1.5 w-1.5 animate-pulse rounded-full bg-current"></span> })}
            {state.label()}
        </span>
    }
}
