//! One VM network: its subnet, gateway and DNS server, the VMs on it with their addresses and
//! names, its rules (added and removed by those who manage the organization), and the
//! reachability explanation ("can VM A reach VM B on tcp/5432?"). Live VM events refresh it.

mod explain;
mod header;
mod members;
mod rules;
mod state;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::networks::{get_network, list_rules};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded};
use explain::Explain;
use header::NetworkHeader;
use members::Members;
use rules::Rules;
use state::Actions;

#[component]
pub fn NetworkPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions::new();
    let live = crate::live::use_live();
    // The network, its rules and the forms load once: live events do not rebuild the forms
    // someone is filling in. Only the list of its VMs follows VM events.
    let detail = Resource::new(id, get_network);
    let members = Resource::new(move || (id(), live.vms.get()), |(id, _)| get_network(id));
    let rules = Resource::new(move || (id(), actions.version()), |(id, _)| list_rules(id));
    // Also what the page shows once the network is deleted, or access to it revoked.
    let gone = Callback::new(|error| {
        view! {
            <ErrorNotice error />
            <p class="mt-3 text-sm">
                <A href="/organizations" attr:class="text-sky-700 underline dark:text-sky-400" attr:data-testid="back-to-organizations">"Back to organizations"</A>
            </p>
        }
        .into_any()
    });

    view! {
        <Loaded resource=detail on_error=gone let:d>
            <leptos_meta::Title text=d.network.name.clone() />
            {view! { <NetworkHeader network=d.network.clone() /> }.into_any()}
            {move || actions.error().map(|error| view! { <div class="mb-4" data-testid="network-error"><ErrorNotice error /></div> })}
            <div class="grid gap-6 xl:grid-cols-2">
                {view! { <Members detail=members /> }.into_any()}
                {view! { <Rules network=d.network.clone() rules can_update=d.can_update actions /> }.into_any()}
                {view! { <Explain network=d.network.clone() rules actions /> }.into_any()}
            </div>
        </Loaded>
    }
}
