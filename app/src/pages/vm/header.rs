//! The VM's name, state and where it lives, with the power buttons and delete.

use leptos::prelude::*;
use model::vms::VmDetail;

use super::state::Actions;
use crate::components::{ui, vm_state::VmStateBadge};

#[component]
pub fn VmHeader(detail: VmDetail, actions: Actions) -> impl IntoView {
    let d = detail;
    let (act_id, del_id) = (d.vm.id.clone(), d.vm.id.clone());
    view! {
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="flex items-center gap-3 text-2xl font-semibold tracking-tight">
                    <span data-testid="vm-title">{d.vm.name.clone()}</span>
                    <VmStateBadge state=d.vm.state reason=d.vm.state_reason.clone().unwrap_or_default() />
                </h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                    "In " {d.vm.organization.clone()}
                    {d.vm.owner.clone().map(|o| format!(", owned by {o}"))}
                    ", created " {d.vm.created_at.clone()}
                    {d.node.clone().map(|n| format!(", on node {n}"))} "."
                </p>
                {d.vm.state_reason.clone().map(|r| view! {
                    <p class="mt-1 text-sm text-amber-700 dark:text-amber-400" data-testid="vm-reason">{r}</p>
                })}
            </div>
            <div class="flex flex-wrap gap-2">
                {d.actions.iter().map(|a| {
                    let (a, vm_id) = (*a, act_id.clone());
                    view! {
                        <button type="button" class=ui::BTN_SECONDARY data-testid=format!("vm-{}", a.as_str())
                            disabled=move || actions.busy()
                            on:click=move |_| { actions.act.dispatch((vm_id.clone(), a)); }>
                            {a.label()}
                        </button>
                    }
                }).collect_view()}
                {d.can_delete.then(|| view! {
                    <button type="button" class=ui::BTN_DANGER data-testid="vm-delete"
                        on:click=move |_| { actions.delete.dispatch(del_id.clone()); }>
                        "Delete"
                    </button>
                })}
            </div>
        </div>
    }
}

/// What the VM is made of and what was asked of it last.
#[component]
pub fn VmSpec(detail: VmDetail) -> impl IntoView {
    let d = detail;
    view! {
        <dl class=format!("{} mb-6 grid grid-cols-2 gap-3 text-sm md:grid-cols-6", ui::CARD) data-testid="vm-spec">
            <div><dt class="text-slate-500 dark:text-slate-400">"Image"</dt><dd>{d.vm.image.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"vCPUs"</dt><dd>{d.vm.cpu_count}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Memory"</dt><dd>{format!("{} MiB", d.vm.memory_mb)}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Disk"</dt><dd>{format!("{} GiB", d.vm.disk_gb)}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Asked for"</dt><dd data-testid="vm-desired">{d.desired_state.clone()}</dd></div>
            <div><dt class="text-slate-500 dark:text-slate-400">"Node"</dt><dd data-testid="vm-node">{d.node.clone().unwrap_or_else(|| "—".into())}</dd></div>
            {(!d.description.is_empty()).then(|| view! {
                <div class="col-span-2 md:col-span-6"><dt class="text-slate-500 dark:text-slate-400">"Description"</dt><dd>{d.description.clone()}</dd></div>
            })}
        </dl>
    }
}
