//! The network's rules: what it lets in from another network of its organization, from its
//! VMs with a tag, or from a subnet (everything else from outside the network is refused). Those who manage the organization
//! add and remove them; the server checks every rule and says what is wrong with one.

use leptos::prelude::*;
use model::networks::{NetworkView, NewRule, RuleProtocol, RuleView};
use model::AppError;

use super::state::Actions;
use crate::api::networks::list_networks;
use crate::components::{
    loaded::{loaded, Loaded},
    ui,
};

#[component]
pub fn Rules(
    network: NetworkView,
    rules: Resource<Result<Vec<RuleView>, AppError>>,
    can_update: bool,
    actions: Actions,
) -> impl IntoView {
    let net_id = network.id.clone();
    view! {
        <section class=ui::CARD aria-labelledby="network-rules-title" data-testid="network-rules">
            <h2 id="network-rules-title" class="mb-1 text-base font-semibold">"Rules"</h2>
            <p class="mb-2 text-sm text-slate-600 dark:text-slate-400">
                "The network takes traffic from its own VMs; from anywhere else only what a rule lets in."
            </p>
            <Loaded resource=rules let:list>
                {if list.is_empty() {
                    view! { <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="no-rules">"No rule: nothing from outside the network gets in."</p> }.into_any()
                } else {
                    let net_id = net_id.clone();
                    view! {
                        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
                            {list.into_iter().map(|r| view! { <Rule rule=r network_id=net_id.clone() can_update actions /> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Loaded>
            {can_update.then(|| view! { <RuleForm network=network.clone() actions /> })}
        </section>
    }
}

#[component]
fn Rule(rule: RuleView, network_id: String, can_update: bool, actions: Actions) -> impl IntoView {
    let rule_id = rule.id.clone();
    view! {
        <li class="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="network-rule" data-summary=rule.summary.clone()>
            <span>
                <span class="font-medium" data-testid="rule-summary">{rule.summary.clone()}</span>
                {(!rule.description.is_empty()).then(|| view! {
                    <span class="block text-slate-600 dark:text-slate-400">{rule.description.clone()}</span>
                })}
            </span>
            {can_update.then(|| view! {
                <button type="button" class=ui::BTN_DANGER data-testid="rule-remove"
                    disabled=move || actions.remove.pending().get()
                    on:click=move |_| { actions.remove.dispatch((network_id.clone(), rule_id.clone())); }>
                    "Remove"
                </button>
            })}
        </li>
    }
}

/// A new rule: a protocol, for tcp and udp a port or range (none: every port), and where the
/// traffic comes from (another network of the organization, its VMs with a tag, or a subnet).
#[component]
fn RuleForm(network: NetworkView, actions: Actions) -> impl IntoView {
    let others = Resource::new(|| (), {
        let org = network.organization_id.clone();
        move |_| list_networks(org.clone())
    });
    let protocol = RwSignal::new(RuleProtocol::Tcp);
    let port_from = RwSignal::new(String::new());
    let port_to = RwSignal::new(String::new());
    // `network`, `tag` or `cidr`; a tag and a subnet are typed into the same box.
    let source = RwSignal::new("network");
    let from_network = RwSignal::new(String::new());
    let from_text = RwSignal::new(String::new());
    let ports = move || matches!(protocol.get(), RuleProtocol::Tcp | RuleProtocol::Udp);
    let own_id = network.id.clone();
    // The network itself is no source of its own rules.
    let own = StoredValue::new(network.id.clone());
    let port = |text: RwSignal<String>| text.get_untracked().trim().parse::<u16>().ok();
    view! {
        <form class="mt-3 grid gap-2 sm:grid-cols-2" data-testid="rule-form"
            on:submit=move |ev| {
                ev.prevent_default();
                let with_ports = matches!(protocol.get_untracked(), RuleProtocol::Tcp | RuleProtocol::Udp);
                let kind = source.get_untracked();
                let text = Some(from_text.get_untracked());
                actions.add.dispatch((own_id.clone(), NewRule {
                    protocol: protocol.get_untracked(),
                    port_from: port(port_from).filter(|_| with_ports),
                    port_to: port(port_to).filter(|_| with_ports),
                    from_cidr: text.clone().filter(|_| kind == "cidr"),
                    from_network: (kind == "network").then(|| from_network.get_untracked()),
                    from_tag: text.filter(|_| kind == "tag"),
                    description: String::new(),
                }));
            }>
            <label class="text-sm font-medium">"Protocol"
                <select class=ui::INPUT data-testid="rule-protocol"
                    on:change=move |ev| {
                        if let Some(p) = RuleProtocol::parse(&event_target_value(&ev)) {
                            protocol.set(p);
                        }
                    }>
                    {[RuleProtocol::Tcp, RuleProtocol::Udp, RuleProtocol::Icmp, RuleProtocol::Any]
                        .into_iter()
                        .map(|p| view! { <option value=p.as_str()>{p.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <div class="grid grid-cols-2 gap-2">
                <label class="text-sm font-medium">"Port"
                    <input class=ui::INPUT type="number" min="1" max="65535" placeholder="every" data-testid="rule-port"
                        disabled=move || !ports()
                        prop:value=port_from on:input=move |ev| port_from.set(event_target_value(&ev)) />
                </label>
                <label class="text-sm font-medium">"to port"
                    <input class=ui::INPUT type="number" min="1" max="65535" placeholder="same" data-testid="rule-port-to"
                        disabled=move || !ports()
                        prop:value=port_to on:input=move |ev| port_to.set(event_target_value(&ev)) />
                </label>
            </div>
            <label class="text-sm font-medium">"From"
                <select class=ui::INPUT data-testid="rule-source-kind"
                    on:change=move |ev| source.set(match event_target_value(&ev).as_str() {
                        "tag" => "tag",
                        "cidr" => "cidr",
                        _ => "network",
                    })>
                    <option value="network">"another network"</option>
                    <option value="tag">"VMs with a tag"</option>
                    <option value="cidr">"a subnet or address"</option>
                </select>
            </label>
            <Show
                when=move || source.get() == "network"
                fallback=move || view! {
                    <label class="text-sm font-medium">{move || if source.get() == "tag" { "Tag" } else { "Subnet" }}
                        <input class=ui::INPUT required data-testid="rule-source-value"
                            placeholder=move || if source.get() == "tag" { "db-client" } else { "10.9.0.0/16" }
                            prop:value=from_text on:input=move |ev| from_text.set(event_target_value(&ev)) />
                    </label>
                }
            >
                <label class="text-sm font-medium">"Network"
                    <select class=ui::INPUT required data-testid="rule-source-network"
                        on:change=move |ev| from_network.set(event_target_value(&ev))>
                        <option value="">"Choose a network"</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                loaded(others).await
                                    .and_then(Result::ok)
                                    .unwrap_or_default()
                                    .into_iter()
                                    .filter(|n| own.with_value(|o| *o != n.id))
                                    .map(|n| view! { <option value=n.id.clone()>{n.name.clone()}</option> })
                                    .collect_view()
                            })}
                        </Transition>
                    </select>
                </label>
            </Show>
            <div class="flex items-end justify-end sm:col-span-2">
                <button type="submit" class=ui::BTN_PRIMARY data-testid="rule-add" disabled=move || actions.add.pending().get()>"Add rule"</button>
            </div>
        </form>
    }
}
