//! Admin → Nodes: every hypervisor host with its status, capacity and use; adding a host (a
//! join token and the command to paste on it), cordoning, draining and removing one.

use leptos::prelude::*;
use model::nodes::{DrainReport, JoinTicket, NodeStatus, NodeView};
use model::AppError;

use crate::api::nodes::{add_node, drain_node, list_nodes, remove_node, set_node_cordoned};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, page_header::PageHeader, ui};

#[component]
pub fn NodesPage() -> impl IntoView {
    let live = crate::live::use_live();
    let cordon = Action::new(|(id, on): &(String, bool)| set_node_cordoned(id.clone(), *on));
    let remove = Action::new(|id: &String| remove_node(id.clone()));
    // The node's name comes back with the outcome, for the report's sentence.
    let drain = Action::new(|(id, name): &(String, String)| {
        let (id, name) = (id.clone(), name.clone());
        async move { (name, drain_node(id).await) }
    });
    let add = Action::new(|name: &String| add_node(name.clone()));
    let nodes = Resource::new(
        move || {
            (
                live.vms.get(),
                live.nodes.get(),
                cordon.version().get(),
                drain.version().get(),
                remove.version().get(),
                add.version().get(),
            )
        },
        |_| list_nodes(),
    );
    let failed = move || {
        [cordon.value().get(), remove.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .or_else(|| drain.value().get().and_then(|(_, r)| r.err()))
    };
    // What the last drain moves and leaves, in one sentence.
    let drained = move || {
        let (name, report): (String, Result<DrainReport, AppError>) = drain.value().get()?;
        report.ok().map(|r| r.sentence(&name))
    };
    view! {
        <PageHeader title="Nodes" subtitle="The hosts that run virtual machines: what each offers after overcommit, and what its running VMs take." />
        <AddNode add />
        {move || failed().map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
        {move || drained().map(|text| view! { <p class=format!("{} mb-4 text-sm", ui::CARD) data-testid="drain-report">{text}</p> })}
        <Loaded resource=nodes let:list>
            <table class="w-full text-left text-sm">
                <thead class="text-slate-500 dark:text-slate-400">
                    <tr><th class="py-2">"Node"</th><th>"Region"</th><th>"Status"</th><th>"vCPUs"</th><th>"Memory"</th><th>"VMs"</th><th></th></tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                    {list.into_iter().map(|n| view! { <NodeRow n cordon drain remove /> }).collect_view()}
                </tbody>
            </table>
        </Loaded>
    }
}

/// Names a new node and shows its join command once.
#[component]
fn AddNode(add: Action<String, Result<JoinTicket, AppError>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    view! {
        <form class=format!("{} mb-6 flex flex-wrap items-end gap-3", ui::CARD) data-testid="node-add-form"
            on:submit=move |ev| { ev.prevent_default(); add.dispatch(name.get_untracked()); }>
            <label class="text-sm font-medium">"New node's name"
                <input class=ui::INPUT data-testid="node-add-name" required placeholder="host-b"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class=ui::BTN_PRIMARY data-testid="node-add" disabled=move || add.pending().get()>"Add a node"</button>
        </form>
        {move || add.value().get().map(|result| match result {
            Ok(ticket) => view! {
                <div class=format!("{} mb-6", ui::CARD) data-testid="node-join">
                    <p class="text-sm">"Run this on " <strong>{ticket.name.clone()}</strong> " as root (the token works once, until " {ticket.expires_at.clone()} "):"</p>
                    <pre class="mt-2 overflow-x-auto whitespace-pre-wrap break-all rounded bg-slate-100 p-2 text-xs dark:bg-slate-950" data-testid="join-command">{ticket.command.clone()}</pre>
                    <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">"Replace REGION with the region this host serves. The agent dials out to the control plane; the host needs no open port."</p>
                </div>
            }.into_any(),
            Err(error) => view! { <div class="mb-4"><ErrorNotice error /></div> }.into_any(),
        })}
    }
}

#[component]
fn NodeRow(
    n: NodeView,
    cordon: Action<(String, bool), Result<(), AppError>>,
    drain: Action<(String, String), (String, Result<DrainReport, AppError>)>,
    remove: Action<String, Result<(), AppError>>,
) -> impl IntoView {
    let badge = match n.status {
        NodeStatus::Ready => {
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"
        }
        NodeStatus::Cordoned | NodeStatus::Draining | NodeStatus::Pending => {
            "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300"
        }
        NodeStatus::Unreachable => "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
    };
    let cordoned = matches!(n.status, NodeStatus::Cordoned | NodeStatus::Draining);
    let draining = n.status == NodeStatus::Draining;
    let (id, remove_id) = (n.id.clone(), n.id.clone());
    let drain_of = (n.id.clone(), n.name.clone());
    let seen = match (&n.last_seen, n.is_local) {
        (_, true) => "embedded in the control plane".to_owned(),
        (Some(t), false) => format!("last seen {t} from {}", n.address),
        (None, false) => "not joined yet".to_owned(),
    };
    let host = [
        n.accel.to_uppercase(),
        n.qemu_version.clone().unwrap_or_default(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    let labels = n.labels.join(", ");
    view! {
        <tr data-testid="node-row" data-name=n.name.clone()>
            <td class="py-2">
                <div class="font-medium">{n.name.clone()}</div>
                <div class="text-xs text-slate-500 dark:text-slate-400" data-testid="node-seen">{seen}</div>
                <div class="text-xs text-slate-500 dark:text-slate-400">{host}</div>
                <div class="text-xs text-slate-500 dark:text-slate-400">{labels}</div>
            </td>
            <td data-testid="node-region">{n.region.clone()}</td>
            <td><span class=format!("rounded px-2 py-0.5 text-xs font-medium {badge}") data-testid="node-status">{n.status.label()}</span></td>
            <td data-testid="node-cpus">{format!("{} of {} ({} CPUs)", n.vcpus_used, n.vcpu_capacity, n.cpus)}</td>
            <td data-testid="node-memory">{format!("{} of {} MiB", n.memory_used_mb, n.memory_capacity_mb)}</td>
            <td>{n.vms}</td>
            <td class="space-x-2 text-right">
                <button type="button" class=ui::BTN_SECONDARY data-testid="node-cordon"
                    disabled=move || cordon.pending().get()
                    on:click=move |_| { cordon.dispatch((id.clone(), !cordoned)); }>
                    {if cordoned { "Uncordon" } else { "Cordon" }}
                </button>
                {(!draining).then(|| view! {
                    <button type="button" class=ui::BTN_SECONDARY data-testid="node-drain"
                        title="Cordon it and move its service replicas to other nodes"
                        disabled=move || drain.pending().get()
                        on:click=move |_| { drain.dispatch(drain_of.clone()); }>
                        "Drain"
                    </button>
                })}
                {(!n.is_local).then(|| view! {
                    <button type="button" class=ui::BTN_DANGER data-testid="node-remove"
                        disabled=move || remove.pending().get()
                        on:click=move |_| { remove.dispatch(remove_id.clone()); }>
                        "Remove"
                    </button>
                })}
            </td>
        </tr>
    }
}
