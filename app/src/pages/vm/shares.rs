//! Who the VM is shared with directly, and (for those who may share) the form to share it.

use leptos::prelude::*;
use model::vms::{ShareLevel, VmDetail};

use super::state::Actions;
use crate::components::ui;

#[component]
pub fn VmShares(detail: VmDetail, actions: Actions) -> impl IntoView {
    let d = detail;
    let can_share = d.can_share;
    let (vm_id, share_id) = (d.vm.id.clone(), d.vm.id.clone());
    let who = RwSignal::new(String::new());
    let level = RwSignal::new(ShareLevel::Viewer);
    let option =
        |l: ShareLevel, text: &'static str| view! { <option value=l.as_str()>{text}</option> };
    view! {
        <section class=ui::CARD aria-labelledby="shares-title">
            <h2 id="shares-title" class="text-base font-semibold">"Shared with"</h2>
            {if d.shares.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400">"Nobody outside the organization's roles."</p> }.into_any()
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
                                            on:click=move |_| { actions.unshare.dispatch((v.clone(), u.clone())); }>"Stop sharing"</button>
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
                        actions.share.dispatch((share_id.clone(), who.get_untracked(), level.get_untracked()));
                    }>
                    <label class="flex-1 text-sm">"Share with (username)"
                        <input class=ui::INPUT name="username" data-testid="share-username" required
                            prop:value=move || who.get() on:input=move |ev| who.set(event_target_value(&ev)) />
                    </label>
                    <label class="text-sm">"Level"
                        <select class=ui::INPUT data-testid="share-level"
                            on:change=move |ev| {
                                if let Ok(l) = event_target_value(&ev).parse::<ShareLevel>() {
                                    level.set(l);
                                }
                            }>
                            {option(ShareLevel::Viewer, "Viewer (sees it)")}
                            {option(ShareLevel::Operator, "Operator (power and console)")}
                        </select>
                    </label>
                    <button type="submit" class=ui::BTN_PRIMARY data-testid="share-add">"Share"</button>
                </form>
            })}
        </section>
    }
}
