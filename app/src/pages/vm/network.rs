//! The VM's network cards (on which network, a link to its page; its address and name there,
//! its MAC) and the tags firewall rules may name.

use leptos::prelude::*;
use leptos_router::components::A;
use model::vms::VmDetail;

use crate::components::ui;

#[component]
pub fn VmNetwork(detail: VmDetail) -> impl IntoView {
    let nics = detail.nics;
    let tags = if detail.tags.is_empty() {
        "none".to_owned()
    } else {
        detail.tags.join(", ")
    };
    view! {
        <section class=format!("{} mb-6", ui::CARD) data-testid="vm-network">
            <h2 class="mb-2 text-sm font-semibold">"Network"</h2>
            <p class="mb-2 text-sm"><span class="text-slate-600 dark:text-slate-400">"Tags: "</span><span data-testid="vm-tags">{tags}</span></p>
            {if nics.is_empty() {
                view! { <p class="text-sm text-slate-600 dark:text-slate-400">"No network card: this VM reaches nothing and nothing reaches it."</p> }.into_any()
            } else {
                view! {
                    <ul class="grid gap-3 text-sm md:grid-cols-2">
                        {nics.into_iter().map(|n| view! {
                            <li class="grid grid-cols-[auto_1fr] gap-x-3" data-testid=format!("vm-nic-{}", n.slot)>
                                <span class="text-slate-600 dark:text-slate-400">{format!("eth{}", n.slot)}</span>
                                <span><span data-testid="vm-nic-address" class="font-mono">{n.address.clone()}</span>" on "
                                    <A href=format!("/networks/{}", n.network_id) attr:class="text-sky-700 underline dark:text-sky-400">{n.network.clone()}</A></span>
                                <span class="text-slate-600 dark:text-slate-400">"Name"</span>
                                <span class="font-mono break-all" data-testid="vm-nic-hostname">{n.hostname.clone()}</span>
                                <span class="text-slate-600 dark:text-slate-400">"MAC"</span>
                                <span class="font-mono">{n.mac.clone()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
