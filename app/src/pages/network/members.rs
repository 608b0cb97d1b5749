//! The VMs with a card on the network: each one's address and name there, and its MAC. It
//! follows VM events on its own, so a new VM shows up without rebuilding the page's forms.

use leptos::prelude::*;
use leptos_router::components::A;
use model::networks::NetworkDetail;
use model::AppError;

use crate::components::{loaded::Loaded, ui};

#[component]
pub fn Members(detail: Resource<Result<NetworkDetail, AppError>>) -> impl IntoView {
    view! {
        <section class=ui::CARD aria-labelledby="network-vms-title" data-testid="network-vms">
            <h2 id="network-vms-title" class="mb-1 text-base font-semibold">"Virtual machines"</h2>
            <Loaded resource=detail let:d>
                <p class="mb-2 text-sm text-slate-600 dark:text-slate-400">
                    "Each reaches the others by name, " <code>{format!("<vm>.{}", d.network.domain)}</code> "."
                </p>
                {if d.vms.is_empty() {
                    view! { <p class="text-sm text-slate-500 dark:text-slate-400">"No VM has a card on this network yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
                            {d.vms.into_iter().map(|m| {
                                let label = m.vm_name.clone();
                                view! {
                                <li class="flex flex-wrap items-baseline justify-between gap-2 py-2" data-testid="network-vm" data-name=m.vm_name.clone()>
                                    <A href=format!("/vms/{}", m.vm_id) attr:class="font-medium text-sky-700 hover:underline dark:text-sky-400">{label}</A>
                                    <span class="font-mono" data-testid="network-vm-address">{m.address.clone()}</span>
                                    <span class="w-full font-mono break-all text-slate-600 dark:text-slate-400">
                                        <span data-testid="network-vm-hostname">{m.hostname.clone()}</span>
                                        " · " {m.mac.clone()}
                                    </span>
                                </li>
                            }}).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Loaded>
        </section>
    }
}
