//! A service's status as a coloured badge.

use leptos::prelude::*;
use model::services::ServiceStatus;

#[component]
pub fn ServiceStatusBadge(status: ServiceStatus) -> impl IntoView {
    let colour = match status {
        ServiceStatus::Running => {
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300"
        }
        ServiceStatus::Failed => "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
        ServiceStatus::Degraded => {
            "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300"
        }
        ServiceStatus::Stopped => {
            "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300"
        }
        ServiceStatus::Deploying => "bg-sky-100 text-sky-800 dark:bg-sky-900/40 dark:text-sky-300",
    };
    view! {
        <span
            class=format!("inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium {colour}")
            data-testid="service-status"
            data-state=status.as_str()
        >
            {(status == ServiceStatus::Deploying).then(|| view! { <span class="h-1.5 w-1.5 animate-pulse rounded-full bg-current"></span> })}
            {status.label()}
        </span>
    }
}
