//! Admin → Nodes: every hypervisor host with its status, capacity and use, and cordoning.

use leptos::prelude::*;
use model::nodes::{NodeStatus, NodeView};

use crate::api::nodes::{list_nodes, set_node_cordoned};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, page_header::PageHeader, ui};

#[component]
pub fn NodesPage() -> impl IntoView {
    let live = crate::live::use_live();
    let cordon = Action::new(|(id, on): &(String, bool)| set_node_cordoned(id.clone(), *on));
    let nodes = Resource::new(
        move || (live.vms.get(), cordon.version().get()),
        |_| list_nodes(),
    );
    view! {
        <PageHeader title="Nodes" subtitle="The hosts that run virtual machines: what each offers after overcommit, and what its running VMs take." />
        {move || cordon.value().get().and_then(Result::err).map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
        <Loaded resource=nodes let:list>
            <table class="w-full text-left text-sm">
                <thead class="text-slate-500">
                    <tr><th class="py-2">"Node"</th><th>"Region"</th><th>"Status"</th><th>"vCPUs"</th><th>"Memory"</th><th>"VMs"</th><th></th></tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                    {list.into_iter().map(|n| view! { <NodeRow n cordon /> }).collect_view()}
                </tbody>
            </table>
        </Loaded>
    }
}

#[component]
fn NodeRow(
    n: NodeView,
    cordon: Action<(String, bool), Result<(), model::AppError>>,
) -> impl IntoView {
    let badge = match n.status {
        NodeStatus::Ready => {
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"
        }
        NodeStatus::Cordoned => "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
        NodeStatus::Unreachable => "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
    };
    let cordoned = n.status == NodeStatus::Cordoned;
    let id = n.id.clone();
    let seen = n
        .last_seen
        .clone()
        .map(|t| format!("last seen {t}"))
        .unwrap_or_else(|| "embedded in the control plane".into());
    view! {
        <tr data-testid="node-row" data-name=n.name.clone()>
            <td class="py-2"><div class="font-medium">{n.name.clone()}</div><div class="text-xs text-slate-500">{seen}</div></td>
            <td>{n.region.clone()}</td>
            <td><span class=format!("rounded px-2 py-0.5 text-xs font-medium {badge}") data-testid="node-status">{n.status.label()}</span></td>
            <td data-testid="node-cpus">{format!("{} of {} ({} CPUs)", n.vcpus_used, n.vcpu_capacity, n.cpus)}</td>
            <td data-testid="node-memory">{format!("{} of {} MiB", n.memory_used_mb, n.memory_capacity_mb)}</td>
            <td>{n.vms}</td>
            <td class="text-right">
                <button type="button" class=ui::BTN_SECONDARY data-testid="node-cordon"
                    disabled=move || cordon.pending().get()
                    on:click=move |_| { cordon.dispatch((id.clone(), !cordoned)); }>
                    {if cordoned { "Uncordon" } else { "Cordon" }}
                </button>
            </td>
        </tr>
    }
}
