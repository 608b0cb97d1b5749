//! The network's name and organization, with its subnet, gateway, DNS server and domain.

use leptos::prelude::*;
use leptos_router::components::A;
use model::networks::NetworkView;

#[component]
pub fn NetworkHeader(network: NetworkView) -> impl IntoView {
    let n = network;
    let fact = |label: &'static str, value: String, testid: &'static str| {
        view! {
            <div>
                <dt class="text-slate-600 dark:text-slate-400">{label}</dt>
                <dd class="font-mono" data-testid=testid>{value}</dd>
            </div>
        }
    };
    view! {
        <div class="mb-6">
            <h1 class="text-2xl font-semibold tracking-tight" data-testid="network-title">{n.name.clone()}</h1>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "A network of "
                <A href=format!("/organizations/{}", n.organization_id) attr:class="text-sky-700 underline dark:text-sky-400">"its organization"</A>
                ", created " {n.created_at.clone()} "."
                {(!n.description.is_empty()).then(|| format!(" {}", n.description))}
            </p>
            <dl class="mt-3 grid grid-cols-2 gap-3 text-sm md:grid-cols-4">
                {fact("Subnet", n.cidr.clone(), "network-subnet-value")}
                {fact("Gateway", n.gateway.clone(), "network-gateway")}
                {fact("DNS server", n.dns.clone(), "network-dns")}
                {fact("Domain", n.domain.clone(), "network-domain")}
            </dl>
        </div>
    }
}
