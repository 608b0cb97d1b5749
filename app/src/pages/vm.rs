//! One virtual machine: what it is, who it is shared with, deleting it, and its Access panel.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::hooks::use_params_map;
use model::vms::ShareLevel;

use crate::api::vms::{delete_vm, get_vm, share_vm, unshare_vm};
use crate::components::{access_panel::AccessPanel, error_notice::ErrorNotice, ui};

#[component]
pub fn VmPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let share = Action::new(|(vm, user, level): &(String, String, ShareLevel)| {
        share_vm(vm.clone(), user.clone(), *level)
    });
    let unshare = Action::new(|(vm, user): &(String, String)| unshare_vm(vm.clone(), user.clone()));
    let delete = Action::new(|vm: &String| delete_vm(vm.clone()));
    let version = Memo::new(move |_| share.version().get() + unshare.version().get());
    let vm = Resource::new(move || (id(), version.get()), |(id, _)| get_vm(id));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/vms", Default::default());
        }
    });
    let error = move || {
        [
            share.value().get().map(|r| r.map(|_| ())),
            unshare.value().get(),
            delete.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    };
    let who = RwSignal::new(String::new());
    let level = RwSignal::new(ShareLevel::Viewer);

    view! {
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match vm.await {
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    Ok(d) => {
                        let (vm_id, del_id, share_id) = (d.vm.id.clone(), d.vm.id.clone(), d.vm.id.clone());
                        let can_share = d.can_share;
                        view! {
                            <leptos_meta::Title text=d.vm.name.clone() />
                            <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
                                <div>
                                    <h1 class="text-2xl font-semibold tracking-tight" data-testid="vm-title">{d.vm.name.clone()}</h1>
                                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                                        "In " {d.vm.organization.clone()}
                                        {d.vm.owner.clone().map(|o| format!(", owned by {o}"))}
                                        ", defined " {d.vm.created_at.clone()} ". Not provisioned on a node yet."
                                    </p>
                                </div>
                                {d.can_delete.then(|| view! {
                                    <button type="button" class=ui::BTN_DANGER data-testid="vm-delete"
                                        on:click=move |_| { delete.dispatch(del_id.clone()); }>
                                        "Delete"
                                    </button>
                                })}
                            </div>
                            {move || error().map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
                            <div class="grid gap-6 xl:grid-cols-2">
                                <section class=ui::CARD aria-labelledby="shares-title">
                                    <h2 id="shares-title" class="text-base font-semibold">"Shared with"</h2>
                                    {if d.shares.is_empty() {
                                        view! { <p class="mt-2 text-sm text-slate-500">"Nobody outside the organization's roles."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="mt-2 divide-y divide-slate-200 text-sm dark:divide-slate-800">
                                                {d.shares.into_iter().map(|s| {
                                                    let (v, u) = (vm_id.clone(), s.person.id.clone());
                                                    view! {
                                                        <li class="flex items-center justify-between py-2" data-testid="share-row" data-username=s.person.username.clone()>
                                                            <span>{s.person.username.clone()} " · " {s.level.label()}</span>
                                                            {can_share.then(|| view! {
                                                                <button type="button" class=ui::BTN_SECONDARY data-testid="share-remove"
                                                                    on:click=move |_| { unshare.dispatch((v.clone(), u.clone())); }>"Stop sharing"</button>
                                                            })}
                                                        </li>
                                                    }
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                    {can_share.then(|| view! {
                                        <form class="mt-4 flex flex-wrap items-end gap-2"
                                            on:submit=move |ev| {
                                                ev.prevent_default();
                                                share.dispatch((share_id.clone(), who.get_untracked(), level.get_untracked()));
                                            }>
                                            <label class="flex-1 text-sm">"Share with (username)"
                                                <input class=ui::INPUT name="username" data-testid="share-username" required
                                                    prop:value=move || who.get() on:input=move |ev| who.set(event_target_value(&ev)) />
                                            </label>
                                            <label class="text-sm">"Level"
                                                <select class=ui::INPUT data-testid="share-level"
                                                    on:change=move |ev| level.set(if event_target_value(&ev) == "operator" { ShareLevel::Operator } else { ShareLevel::Viewer })>
                                                    <option value="viewer">"Viewer (sees it)"</option>
                                                    <option value="operator">"Operator (power and console)"</option>
                                                </select>
                                            </label>
                                            <button type="submit" class=ui::BTN_PRIMARY data-testid="share-add">"Share"</button>
                                        </form>
                                    })}
                                </section>
                                <AccessPanel kind="vm" id=d.vm.id.clone() version=Signal::derive(move || version.get()) />
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
