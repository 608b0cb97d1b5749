//! The dashboard: what needs attention (VMs and services failing or out of reach), nodes' use,
//! work under way and the newest audit rows, each linking to its page and all following live
//! events; then how much of everything there is and what this installation is.

use leptos::prelude::*;
use model::dashboard::{format_uptime, Attention, NodeUse};
use model::DashboardInfo;

use crate::api::dashboard::get_dashboard;
use crate::components::{error_notice::ErrorNotice, loaded::loaded, page_header::PageHeader};

#[component]
pub fn DashboardPage() -> impl IntoView {
    // Everything follows live events: VMs, services, operations, audit rows and nodes.
    let live = crate::live::use_live();
    let info = Resource::new(
        move || {
            (
                live.vms.get(),
                live.services.get(),
                live.operations.get(),
                live.audit.get(),
                live.nodes.get(),
            )
        },
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
    let attention = data.attention;
    let nodes = data.nodes;
    let operations = data.operations;
    let recent = data.recent;
    view! {
        <div class="mb-6 grid gap-4 lg:grid-cols-2">
            <Panel title="Needs attention" testid="attention">
                {if attention.is_empty() {
                    view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Nothing is failing."</p> }.into_any()
                } else {
                    view! { <ul class="divide-y divide-slate-200 dark:divide-slate-800">{attention.into_iter().map(|a| view! { <AttentionRow a /> }).collect_view()}</ul> }.into_any()
                }}
            </Panel>
            <Panel title="Work under way" testid="in-progress">
                {if operations.is_empty() {
                    view! { <p class="text-sm text-slate-600 dark:text-slate-400">"No operation is queued or running."</p> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
                            {operations.into_iter().map(|o| view! {
                                <li class="flex justify-between gap-3 py-2" data-testid="in-progress-row" data-kind=o.kind.clone()>
                                    <a href="/operations" class="font-medium text-sky-700 underline dark:text-sky-400">{format!("{} {}", o.kind, o.target)}</a>
                                    <span class="text-slate-600 dark:text-slate-400">{o.step}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Panel>
            {(!nodes.is_empty()).then(|| view! {
                <Panel title="Nodes" testid="node-use">
                    <ul class="space-y-3">{nodes.into_iter().map(|n| view! { <NodeBars n /> }).collect_view()}</ul>
                </Panel>
            })}
            {(!recent.is_empty()).then(|| view! {
                <Panel title="Recent activity" testid="recent-audit">
                    <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
                        {recent.into_iter().map(|r| view! {
                            <li class="flex flex-wrap justify-between gap-2 py-2" data-testid="recent-row">
                                <span><span class="font-medium">{r.actor.clone()}</span>" "{r.action.clone()}" "<span class="text-slate-600 dark:text-slate-400">{r.outcome.clone()}</span></span>
                                <span class="text-slate-600 dark:text-slate-400">{r.at.clone()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                    <a href="/audit" class="mt-2 inline-block text-sm text-sky-700 underline dark:text-sky-400">"The audit log"</a>
                </Panel>
            })}
        </div>
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

/// A titled card.
#[component]
fn Panel(title: &'static str, testid: &'static str, children: Children) -> impl IntoView {
    view! {
        <section aria-label=title data-testid=testid
            class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 class="mb-2 text-sm font-semibold">{title}</h2>
            {children()}
        </section>
    }
}

/// A VM or service needing attention, linking to its page.
#[component]
fn AttentionRow(a: Attention) -> impl IntoView {
    view! {
        <li class="py-2 text-sm" data-testid="attention-row" data-name=a.name.clone()>
            <div class="flex justify-between gap-3">
                <a href=a.href.clone() class="font-medium text-sky-700 underline dark:text-sky-400">{format!("{} {}", a.kind, a.name)}</a>
                <span class="font-medium" data-testid="attention-status">{a.status.clone()}</span>
            </div>
            {a.reason.clone().map(|r| view! { <p class="text-slate-600 dark:text-slate-400">{r}</p> })}
        </li>
    }
}

/// A node's vCPUs and memory in use against what it offers, as bars.
#[component]
fn NodeBars(n: NodeUse) -> impl IntoView {
    let pct = |used: u64, of: u64| {
        used.saturating_mul(100)
            .checked_div(of)
            .unwrap_or(0)
            .min(100)
    };
    let cpu = pct(n.vcpus_used, n.vcpu_capacity);
    let mem = pct(n.memory_used_mb, n.memory_capacity_mb);
    let ready = n.status == "Ready";
    view! {
        <li data-testid="node-use-row" data-name=n.name.clone()>
            <div class="flex justify-between text-sm">
                <a href="/admin/nodes" class="font-medium text-sky-700 underline dark:text-sky-400">{n.name.clone()}</a>
                <span class=if ready { "text-slate-600 dark:text-slate-400" } else { "font-medium text-amber-800 dark:text-amber-300" }>{n.status.clone()}</span>
            </div>
            <div class="mt-1 grid grid-cols-2 gap-3 text-xs text-slate-600 dark:text-slate-400">
                <label>{format!("vCPUs {} of {}", n.vcpus_used, n.vcpu_capacity)}
                    <progress class="mt-1 h-2 w-full accent-sky-500" max="100" value=cpu.to_string()></progress>
                </label>
                <label>{format!("Memory {} of {} MiB", n.memory_used_mb, n.memory_capacity_mb)}
                    <progress class="mt-1 h-2 w-full accent-sky-500" max="100" value=mem.to_string()></progress>
                </label>
            </div>
        </li>
    }
}
