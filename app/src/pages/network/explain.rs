//! "Can VM A reach VM B on tcp/5432?": two VMs of the organization, a protocol and a port; the
//! control plane answers allowed or denied, what decided it and why in a sentence. The answer
//! is asked again whenever a rule of the page changes.

use leptos::prelude::*;
use model::networks::{NetworkView, Protocol, ReachQuery, Reachability, RuleView};
use model::vms::VM_PAGE_MAX;
use model::AppError;

use super::state::Actions;
use crate::api::networks::explain_reach;
use crate::api::vms::list_vms;
use crate::components::{error_notice::ErrorNotice, loaded::loaded, ui};

#[component]
pub fn Explain(
    network: NetworkView,
    rules: Resource<Result<Vec<RuleView>, AppError>>,
    actions: Actions,
) -> impl IntoView {
    let live = crate::live::use_live();
    let org = network.organization_id.clone();
    let vms = Resource::new(
        move || live.vms.get(),
        move |_| list_vms(Some(org.clone()), None, None, Some(VM_PAGE_MAX)),
    );
    let answer = Resource::new(
        move || (actions.asked.get(), actions.version()),
        |(asked, _)| async move {
            match asked {
                Some((_, query)) => Some(explain_reach(query).await),
                None => None,
            }
        },
    );
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let protocol = RwSignal::new(Protocol::Tcp);
    let port = RwSignal::new(String::new());
    // The options of a VM select; a VM event rebuilds them, still selecting the chosen one.
    let vm_options = move |chosen: RwSignal<String>| {
        move || {
            Suspend::new(async move {
                let picked = chosen.get_untracked();
                loaded(vms)
                    .await
                    .and_then(Result::ok)
                    .map(|page| page.vms)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| view! { <option value=v.id.clone() selected={v.id == picked}>{v.name.clone()}</option> })
                    .collect_view()
            })
        }
    };
    view! {
        <section class=format!("{} xl:col-span-2", ui::CARD) aria-labelledby="reach-title" data-testid="network-explain">
            <h2 id="reach-title" class="mb-1 text-base font-semibold">"Can one VM reach another?"</h2>
            <p class="mb-2 text-sm text-slate-600 dark:text-slate-400">
                "Any two VMs of the organization: the answer says which rule, or which default, decides."
            </p>
            <form class="grid gap-2 sm:grid-cols-2 lg:grid-cols-5" data-testid="reach-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let protocol = protocol.get_untracked();
                    actions.ask(ReachQuery {
                        from: from.get_untracked(),
                        to: to.get_untracked(),
                        protocol,
                        port: port.get_untracked().trim().parse().ok().filter(|_| protocol != Protocol::Icmp),
                    });
                }>
                <label class="text-sm font-medium">"From VM"
                    <select class=ui::INPUT required data-testid="reach-from" on:change=move |ev| from.set(event_target_value(&ev))>
                        <option value="">"Choose a VM"</option>
                        <Transition fallback=|| ()>{vm_options(from)}</Transition>
                    </select>
                </label>
                <label class="text-sm font-medium">"To VM"
                    <select class=ui::INPUT required data-testid="reach-to" on:change=move |ev| to.set(event_target_value(&ev))>
                        <option value="">"Choose a VM"</option>
                        <Transition fallback=|| ()>{vm_options(to)}</Transition>
                    </select>
                </label>
                <label class="text-sm font-medium">"Protocol"
                    <select class=ui::INPUT data-testid="reach-protocol"
                        on:change=move |ev| protocol.set(match event_target_value(&ev).as_str() {
                            "udp" => Protocol::Udp,
                            "icmp" => Protocol::Icmp,
                            _ => Protocol::Tcp,
                        })>
                        <option value="tcp">"tcp"</option>
                        <option value="udp">"udp"</option>
                        <option value="icmp">"icmp"</option>
                    </select>
                </label>
                <label class="text-sm font-medium">"Port"
                    <input class=ui::INPUT type="number" min="1" max="65535" placeholder="5432" data-testid="reach-port"
                        disabled=move || protocol.get() == Protocol::Icmp
                        prop:value=port on:input=move |ev| port.set(event_target_value(&ev)) />
                </label>
                <div class="flex items-end">
                    <button type="submit" class=ui::BTN_PRIMARY data-testid="reach-explain">"Explain"</button>
                </div>
            </form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let (Some(Some(reply)), rules) = (loaded(answer).await, loaded(rules).await) else {
                        return ().into_any();
                    };
                    let rules = rules.and_then(Result::ok).unwrap_or_default();
                    match reply {
                        Ok(r) => view! { <Answer answer=r rules /> }.into_any(),
                        Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Allowed or denied, what decided it, and the control plane's sentence.
#[component]
fn Answer(answer: Reachability, rules: Vec<RuleView>) -> impl IntoView {
    let (verdict, tone) = if answer.allowed {
        ("Allowed", "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100")
    } else {
        ("Denied", "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100")
    };
    view! {
        <div class=format!("mt-3 rounded-lg border px-4 py-3 text-sm {tone}") data-testid="reach-answer" data-allowed=answer.allowed.to_string()>
            <p class="font-semibold" data-testid="reach-verdict">{verdict}</p>
            <p>"Decided by " <span data-testid="reach-decided-by">{decider(&answer.decided_by, &rules)}</span> "."</p>
            <p class="mt-1" data-testid="reach-reason">{answer.reason}</p>
        </div>
    }
}

/// What decided, in words: a rule of this network by what it lets in, or the default.
fn decider(decided_by: &str, rules: &[RuleView]) -> String {
    match decided_by.strip_prefix("rule:") {
        Some(id) => rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| format!("the rule “{}”", r.summary))
            .unwrap_or_else(|| "a rule of another network the VM is on".into()),
        None => match decided_by {
            "same-network" => "the same network: a network takes its own VMs' traffic".into(),
            "default-deny" => "the default: nothing from other networks gets in".into(),
            "other-organization" => "the organizations: they never share a network".into(),
            "no-card" => "a missing network card".into(),
            other => other.to_owned(),
        },
    }
}
