//! A service's replicas: the VMs that run it, each with its state and what it runs, and the
//! one address that reaches whichever of them run.

use leptos::prelude::*;
use leptos_router::components::A;
use model::services::ReplicaView;

use crate::components::{ui, vm_state::VmStateBadge};

#[component]
pub fn Replicas(
    replicas: Vec<ReplicaView>,
    address: Option<String>,
    network: Option<String>,
) -> impl IntoView {
    let reach = match (address, network) {
        (Some(address), Some(network)) => view! {
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-300" data-testid="service-address">
                "Reached at " <span class="font-mono">{address}</span> " on network " {network}
                ", spread over the running replicas."
            </p>
        }
        .into_any(),
        _ => view! {
            <p class="mt-1 text-sm text-slate-500 dark:text-slate-400" data-testid="service-address">
                "Gets its address with its first replica."
            </p>
        }
        .into_any(),
    };
    view! {
        <section class=format!("{} mb-6", ui::CARD)>
            <h2 class="text-base font-semibold">"Replica VMs"</h2>
            {reach}
            {if replicas.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="replicas-empty">"No replica runs."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-2 w-full text-left text-sm">
                        <thead class="text-slate-500 dark:text-slate-400">
                            <tr><th class="py-1">"VM"</th><th>"State"</th><th>"Config"</th><th>"Version"</th></tr>
                        </thead>
                        <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                            {replicas.into_iter().map(|r| { let label = r.name.clone(); view! {
                                <tr data-testid="replica-row" data-name=r.name.clone()>
                                    <td class="py-1.5 font-medium">
                                        <A href=format!("/vms/{}", r.vm_id) attr:class="text-sky-700 hover:underline dark:text-sky-400">{label}</A>
                                    </td>
                                    <td><VmStateBadge state=r.state /></td>
                                    <td data-testid="replica-config">{format!("v{}", r.config_version)}</td>
                                    <td data-testid="replica-version">{r.version.clone()}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
