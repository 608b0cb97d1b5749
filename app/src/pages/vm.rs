//! One virtual machine: spec and state, power buttons, metrics, timeline, operations, serial
//! console, shares, delete, and its Access panel. It refreshes itself while work is under way.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use model::vms::{ShareLevel, VmAction};

use crate::api::services::vm_metrics;
use crate::api::vms::{act_on_vm, delete_vm, get_vm, share_vm, unshare_vm};
use crate::components::{
    access_panel::AccessPanel, error_notice::ErrorNotice, loaded::loaded,
    metrics_feed::sample_feed, operations_list::OperationsList, refresh::tick_while,
    serial_console::SerialConsole, ui, vm_metrics::VmMetrics, vm_state::VmStateBadge,
};

#[component]
pub fn VmPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let share = Action::new(|(vm, user, level): &(String, String, ShareLevel)| {
        share_vm(vm.clone(), user.clone(), *level)
    });
    let unshare = Action::new(|(vm, user): &(String, String)| unshare_vm(vm.clone(), user.clone()));
    let delete = Action::new(|vm: &String| delete_vm(vm.clone()));
    let act = Action::new(|(vm, action): &(String, VmAction)| act_on_vm(vm.clone(), *action));
    let cancelled = RwSignal::new(0u32);
    let busy = RwSignal::new(false);
    let tick = tick_while(move || busy.try_get_untracked().unwrap_or(false), 1000);
    let version = Memo::new(move |_| {
        share.version().get()
            + unshare.version().get()
            + act.version().get()
            + delete.version().get()
            + cancelled.get() as usize
    });
    let live = crate::live::use_live();
    let vm = Resource::new(
        move || (id(), version.get(), tick.get(), live.vms.get()),
        |(id, _, _, _)| get_vm(id),
    );
    let error = move || {
        [
            share.value().get().map(|r| r.map(|_| ())),
            unshare.value().get(),
            act.value().get(),
            delete.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    };
    let who = RwSignal::new(String::new());
    let level = RwSignal::new(ShareLevel::Viewer);
    // Kept across refetches, so live samples are appended rather than refetched.
    let samples = sample_feed(Signal::derive(id), vm_metrics);

    view! {
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Some(vm) = loaded(vm).await else { return ().into_any() };
                match vm {
                    // Also what a page shows once its VM is deleted, or access to it revoked.
                    Err(error) => {
                        // Nothing is under way any more: stop refreshing.
                        busy.set(false);
                        view! {
                        <ErrorNotice error />
                        <p class="mt-3 text-sm">
                            <A href="/vms" attr:class="text-sky-700 underline dark:text-sky-400" attr:data-testid="back-to-vms">"Back to virtual machines"</A>
                        </p>
                    }.into_any()
                    }
                    Ok(d) => {
                        let (vm_id, del_id, share_id) = (d.vm.id.clone(), d.vm.id.clone(), d.vm.id.clone());
                        let can_share = d.can_share;
                        busy.set(
                            d.vm.state.is_transitional()
                                || d.operations.iter().any(|o| !o.state.is_finished()),
                        );
                        let console = d.can_console
                            && matches!(d.vm.state, model::vms::VmState::Running | model::vms::VmState::Paused | model::vms::VmState::Starting | model::vms::VmState::Restarting);
                        let act_id = d.vm.id.clone();
                        view! {
                            <leptos_meta::Title text=d.vm.name.clone() />
                            <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
                                <div>
                                    <h1 class="flex items-center gap-3 text-2xl font-semibold tracking-tight">
                                        <span data-testid="vm-title">{d.vm.name.clone()}</span>
                                        <VmStateBadge state=d.vm.state reason=d.vm.state_reason.clone().unwrap_or_default() />
                                    </h1>
                                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                                        "In " {d.vm.organization.clone()}
                                        {d.vm.owner.clone().map(|o| format!(", owned by {o}"))}
                                        ", created " {d.vm.created_at.clone()}
                                        {d.node.clone().map(|n| format!(", on node {n}"))} "."
                                    </p>
                                    {d.vm.state_reason.clone().map(|r| view! {
                                        <p class="mt-1 text-sm text-amber-700 dark:text-amber-400" data-testid="vm-reason">{r}</p>
                                    })}
                                </div>
                                <div class="flex flex-wrap gap-2">
                                    {d.actions.iter().map(|a| {
                                        let (a, vm_id) = (*a, act_id.clone());
                                        view! {
                                            <button type="button" class=ui::BTN_SECONDARY data-testid=format!("vm-{}", a.as_str())
                                                disabled=move || act.pending().get()
                                                on:click=move |_| { act.dispatch((vm_id.clone(), a)); }>
                                                {a.label()}
                                            </button>
                                        }
                                    }).collect_view()}
                                    {d.can_delete.then(|| view! {
                                        <button type="button" class=ui::BTN_DANGER data-testid="vm-delete"
                                            on:click=move |_| { delete.dispatch(del_id.clone()); }>
                                            "Delete"
                                        </button>
                                    })}
                                </div>
                            </div>
                            <dl class=format!("{} mb-6 grid grid-cols-2 gap-3 text-sm md:grid-cols-5", ui::CARD) data-testid="vm-spec">
                                <div><dt class="text-slate-500">"Image"</dt><dd>{d.vm.image.clone().unwrap_or_else(|| "—".into())}</dd></div>
                                <div><dt class="text-slate-500">"vCPUs"</dt><dd>{d.vm.cpu_count}</dd></div>
                                <div><dt class="text-slate-500">"Memory"</dt><dd>{format!("{} MiB", d.vm.memory_mb)}</dd></div>
                                <div><dt class="text-slate-500">"Disk"</dt><dd>{format!("{} GiB", d.vm.disk_gb)}</dd></div>
                                <div><dt class="text-slate-500">"Asked for"</dt><dd data-testid="vm-desired">{d.desired_state.clone()}</dd></div>
                                {(!d.description.is_empty()).then(|| view! {
                                    <div class="col-span-2 md:col-span-5"><dt class="text-slate-500">"Description"</dt><dd>{d.description.clone()}</dd></div>
                                })}
                            </dl>
                            <VmMetrics samples name=d.vm.name.clone() />
                            {console.then(|| view! { <div class="mb-6"><SerialConsole vm_id=d.vm.id.clone() /></div> })}
                            <div class="mb-6 grid gap-6 xl:grid-cols-2">
                                <section class=ui::CARD aria-labelledby="ops-title">
                                    <h2 id="ops-title" class="mb-2 text-base font-semibold">"Operations"</h2>
                                    <OperationsList ops=d.operations.clone() on_change=Callback::new(move |_| cancelled.update(|c| *c += 1)) />
                                </section>
                                <section class=ui::CARD aria-labelledby="events-title">
                                    <h2 id="events-title" class="mb-2 text-base font-semibold">"Timeline"</h2>
                                    <ol class="space-y-1 text-sm" data-testid="vm-events">
                                        {d.events.iter().map(|e| view! {
                                            <li data-kind=e.kind.clone()><span class="text-xs text-slate-500">{e.at.clone()}</span> " " {e.message.clone()}</li>
                                        }).collect_view()}
                                    </ol>
                                </section>
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
                                <AccessPanel kind=model::access::PanelKind::Vm id=d.vm.id.clone() version=Signal::derive(move || version.get()) />
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
