//! The organization's VM networks: each with its subnet, its VMs' domain and how many cards
//! are on it, and a link to its page (its VMs, rules and the reachability explanation); those
//! who manage the organization add and delete networks.

use leptos::prelude::*;
use leptos_router::components::A;
use model::networks::{NetworkView, NewNetwork};

use crate::api::networks::{create_network, delete_network, list_networks};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, ui};

#[component]
pub fn Networks(org_id: String, can_manage: bool) -> impl IntoView {
    let create = Action::new(|new: &NewNetwork| create_network(new.clone()));
    let delete = Action::new(|id: &String| delete_network(id.clone()));
    let id = org_id.clone();
    let live = crate::live::use_live();
    let nets = Resource::new(
        move || {
            (
                live.vms.get(),
                create.version().get(),
                delete.version().get(),
            )
        },
        move |_| list_networks(id.clone()),
    );
    let error = move || {
        create
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| delete.value().get().and_then(Result::err))
    };
    view! {
        <section class=ui::CARD data-testid="org-networks">
            <h2 class="mb-1 text-base font-semibold">"Networks"</h2>
            <p class="mb-3 text-sm text-slate-600 dark:text-slate-400">
                "A VM's card gets an address by DHCP and a name, " <code>"<vm>.<network>.internal"</code> ", that the VMs of its network resolve."
            </p>
            <Loaded resource=nets inset=true let:list>
                <ul class="divide-y divide-slate-200 dark:divide-slate-800">
                    {list.into_iter().map(|n| view! { <Network n can_manage delete /> }).collect_view()}
                </ul>
            </Loaded>
            {can_manage.then(|| view! { <NetworkForm org_id=org_id.clone() create /> })}
            {move || error().map(|error| view! { <div class="mt-3"><ErrorNotice error /></div> })}
        </section>
    }
}

#[component]
fn Network(
    n: NetworkView,
    can_manage: bool,
    delete: Action<String, Result<(), model::AppError>>,
) -> impl IntoView {
    let id = n.id.clone();
    let label = n.name.clone();
    let cards = match n.cards {
        1 => "1 card".to_owned(),
        c => format!("{c} cards"),
    };
    view! {
        <li class="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" data-testid="network" data-name=n.name.clone()>
            <div>
                <A href=format!("/networks/{}", n.id) attr:class="font-medium text-sky-700 hover:underline dark:text-sky-400" attr:data-testid="network-link">{label}</A>
                " " <span class="font-mono" data-testid="network-cidr">{n.cidr.clone()}</span>
                <span class="block text-slate-600 dark:text-slate-400">{format!("{}, gateway {}, DNS {}, {cards}", n.domain, n.gateway, n.dns)}</span>
            </div>
            {can_manage.then(|| view! {
                <button type="button" class=ui::BTN_DANGER data-testid="network-delete"
                    on:click=move |_| { delete.dispatch(id.clone()); }>
                    "Delete"
                </button>
            })}
        </li>
    }
}

#[component]
fn NetworkForm(
    org_id: String,
    create: Action<NewNetwork, Result<NetworkView, model::AppError>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let cidr = RwSignal::new(String::from("10.1.0.0/24"));
    view! {
        <form class="mt-3 flex flex-wrap items-end gap-2" data-testid="network-form"
            on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(NewNetwork {
                    organization_id: org_id.clone(),
                    name: name.get_untracked(),
                    description: String::new(),
                    cidr: cidr.get_untracked(),
                });
            }>
            <label class="text-sm font-medium">"Name"
                <input class=ui::INPUT data-testid="network-name" required placeholder="backend"
                    prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Subnet"
                <input class=ui::INPUT data-testid="network-subnet" required
                    prop:value=cidr on:input=move |ev| cidr.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class=ui::BTN_PRIMARY data-testid="network-create" disabled=move || create.pending().get()>"Add network"</button>
        </form>
    }
}
