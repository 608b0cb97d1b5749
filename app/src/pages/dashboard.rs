//! The dashboard: what this installation is and how much of everything it holds.

use leptos::prelude::*;
use model::{dashboard::format_uptime, DashboardInfo};

use crate::api::dashboard::get_dashboard;
use crate::components::{error_notice::ErrorNotice, loaded::loaded, page_header::PageHeader};

#[component]
pub fn DashboardPage() -> impl IntoView {
    // Counts follow live events (VMs and services created, deleted, shared, grants changed).
    let live = crate::live::use_live();
    let info = Resource::new(
        move || (live.vms.get(), live.services.get()),
        |_| get_dashboard(),
    );

    view! {
        <PageHeader title="Dashboard" subtitle="This Strata installation at a glance.">
            <button
                type="button"
                data-testid="refresh"
                class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 dark:border-slate-700 dark:bg-slate-900 dark:hover:bg-slate-800"
                on:click=move |_| info.refetch()
            >
                "Refresh"
            </button>
        </PageHeader>
        <Suspense fallback=|| {
            view! { <p class="text-sm text-slate-500 dark:text-slate-400">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let Some(info) = loaded(info).await else { return ().into_any() };
                match info {
                    Ok(data) => view! { <Overview data /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(data: DashboardInfo) -> impl IntoView {
    let c = data.counts;
    let cards = [
        ("Virtual machines", c.virtual_machines, "vms"),
        ("Services", c.services, "services"),
        ("Organizations", c.organizations, "organizations"),
        ("Users", c.users, "users"),
        ("Nodes", c.nodes, "nodes"),
    ];
    view! {
        <section aria-label="Counts" class="grid grid-cols-2 gap-4 md:grid-cols-3 xl:grid-cols-5">
            {cards
                .into_iter()
                .map(|(label, n, key)| {
                    view! {
                        <div
                            class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900"
                            data-testid=format!("count-{key}")
                        >
                            <div class="text-sm text-slate-500 dark:text-slate-400">{label}</div>
                            <div class="mt-1 text-3xl font-semibold tabular-nums">{n}</div>
                        </div>
                    }
                })
                .collect_view()}
        </section>
        <section
            aria-label="Installation"
            class="mt-6 rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900"
        >
            <h2 class="text-sm font-semibold">"Installation"</h2>
            <dl class="mt-3 grid grid-cols-1 gap-3 text-sm sm:grid-cols-4">
                <Fact label="Version" value=data.version testid="version" />
                <Fact label="Database" value=data.database.label().to_owned() testid="database" />
                <Fact label="Live events" value=data.events.label().to_owned() testid="events" />
                <Fact label="Uptime" value=format_uptime(data.uptime_seconds) testid="uptime" />
            </dl>
        </section>
    }
}

#[component]
fn Fact(label: &'static str, value: String, testid: &'static str) -> impl IntoView {
    view! {
        <div>
            <dt class="text-slate-500 dark:text-slate-400">{label}</dt>
            <dd class="font-medium" data-testid=testid>
                {value}
            </dd>
        </div>
    }
}
