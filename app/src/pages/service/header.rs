//! The service page's title row (name, status, start/stop and a confirmed delete) and the
//! summary of what runs where.

use leptos::prelude::*;
use model::services::{ServiceAction, ServiceDetail, ServiceStatus};

use super::state::{Actions, Drafts};
use crate::components::{human::duration, service_status::ServiceStatusBadge, ui};

#[component]
pub fn ServiceHeader(detail: ServiceDetail, actions: Actions, drafts: Drafts) -> impl IntoView {
    let s = detail.service;
    let stopped = matches!(s.status, ServiceStatus::Stopped | ServiceStatus::Failed);
    let (start_id, stop_id, delete_id) = (s.id.clone(), s.id.clone(), s.id.clone());
    let busy = move || actions.act.pending().get() || actions.delete.pending().get();
    let name = s.name.clone();
    view! {
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="flex items-center gap-3 text-2xl font-semibold tracking-tight">
                    <span data-testid="service-title">{s.name.clone()}</span>
                    <ServiceStatusBadge status=s.status />
                </h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                    "In " {s.organization.clone()}
                    {(!s.region.is_empty()).then(|| format!(", region {}", s.region))}
                    {s.deployed_at.clone().map(|at| format!(", last deployed {at}"))} "."
                </p>
            </div>
            <div class="flex flex-wrap items-center gap-2">
                {(detail.can_start && stopped).then(|| view! {
                    <button type="button" class=ui::BTN_SECONDARY data-testid="service-start" disabled=busy
                        on:click=move |_| { actions.act.dispatch((start_id.clone(), ServiceAction::Start)); }>"Start"</button>
                })}
                {(detail.can_stop && s.status != ServiceStatus::Stopped).then(|| view! {
                    <button type="button" class=ui::BTN_SECONDARY data-testid="service-stop" disabled=busy
                        on:click=move |_| { actions.act.dispatch((stop_id.clone(), ServiceAction::Stop)); }>"Stop"</button>
                })}
                {detail.can_delete.then(|| view! {
                    <Show when=move || drafts.confirm_delete.get()
                        fallback=move || view! {
                            <button type="button" class=ui::BTN_DANGER data-testid="service-delete"
                                on:click=move |_| drafts.confirm_delete.set(true)>"Delete"</button>
                        }>
                        <span class="text-sm" data-testid="service-delete-prompt">{format!("Delete {name} and all its replicas?")}</span>
                        <button type="button" class=ui::BTN_DANGER data-testid="service-delete-confirm" disabled=busy
                            on:click={
                                let id = delete_id.clone();
                                move |_| {
                                    drafts.confirm_delete.set(false);
                                    actions.delete.dispatch(id.clone());
                                }
                            }>"Yes, delete"</button>
                        <button type="button" class=ui::BTN_SECONDARY data-testid="service-delete-cancel"
                            on:click=move |_| drafts.confirm_delete.set(false)>"Cancel"</button>
                    </Show>
                })}
            </div>
        </div>
    }
}

#[component]
pub fn ServiceSpec(service: model::services::ServiceSummary) -> impl IntoView {
    let s = service;
    view! {
        <dl class=format!("{} mb-6 grid grid-cols-2 gap-3 text-sm md:grid-cols-4 xl:grid-cols-7", ui::CARD) data-testid="service-spec">
            <div><dt class="text-slate-500 dark:text-slate-400">"Replicas running"</dt>
                <dd data-testid="service-replicas">{format!("{}/{}", s.running, s.replicas)}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Region"</dt><dd>{if s.region.is_empty() { "—".to_owned() } else { s.region.clone() }}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Image"</dt><dd data-testid="service-image">{s.image.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Version"</dt><dd data-testid="service-version">{s.version.clone()}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Configuration"</dt><dd data-testid="service-config-version">{format!("v{}", s.config_version)}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Up for"</dt>
                <dd data-testid="service-uptime">{s.uptime_seconds.map(duration).unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Size"</dt><dd>{format!("{} vCPU · {} MiB", s.cpu_count, s.memory_mb)}</dd></div>
            {(!s.description.is_empty()).then(|| view! {
                <div class="col-span-2 md:col-span-4 xl:col-span-7"><dt class="text-slate-500 dark:text-slate-400">"Description"</dt>
                    <dd data-testid="service-description">{s.description.clone()}</dd></div>
            })}
        </dl>
    }
}
