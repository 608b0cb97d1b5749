//! The create form's choice of networks: a checkbox per network of the chosen organization,
//! `default` ticked until someone changes the choice. Untouched, the form sends None (the
//! server puts the VM on the default network, making it first if an older organization has
//! none); once touched, the ticked networks in the order they were ticked (eth0 first), and
//! none ticked means a VM without a network card.

use leptos::prelude::*;
use model::networks::DEFAULT_NETWORK;

use crate::api::networks::list_networks;
use crate::components::loaded::loaded;

#[component]
pub fn NetworkChoice(
    /// The organization the VM is made in.
    org: RwSignal<String>,
    /// None: untouched (the default network); otherwise the ticked networks' ids.
    chosen: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let nets = Resource::new(move || org.get(), list_networks);
    // Another organization, another set of networks: back to its default.
    Effect::new(move |before: Option<String>| {
        let now = org.get();
        if before.is_some_and(|b| b != now) {
            chosen.set(None);
        }
        now
    });
    view! {
        <fieldset class="text-sm md:col-span-4" data-testid="vm-networks">
            <legend class="font-medium">"Networks"</legend>
            <div class="mt-1 flex flex-wrap gap-x-4 gap-y-1">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = loaded(nets).await.and_then(Result::ok).unwrap_or_default();
                        let preset: Vec<String> = list.iter().filter(|n| n.name == DEFAULT_NETWORK).map(|n| n.id.clone()).collect();
                        list.into_iter().map(|n| {
                            let (id, toggled, preset) = (n.id.clone(), n.id.clone(), preset.clone());
                            let default = n.name == DEFAULT_NETWORK;
                            view! {
                                <label class="flex items-center gap-2">
                                    <input type="checkbox" data-testid="vm-network" data-name=n.name.clone()
                                        prop:checked=move || chosen.with(|c| c.as_ref().map_or(default, |c| c.contains(&id)))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                let list = c.get_or_insert_with(|| preset.clone());
                                                list.retain(|x| *x != toggled);
                                                if on {
                                                    list.push(toggled.clone());
                                                }
                                            });
                                        } />
                                    {n.name.clone()} <span class="font-mono text-slate-600 dark:text-slate-400">{n.cidr.clone()}</span>
                                </label>
                            }
                        }).collect_view()
                    })}
                </Transition>
            </div>
        </fieldset>
    }
}
