//! The members of an organization with their roles, and (for its managers) changing roles,
//! removing people and adding someone by username.

use leptos::prelude::*;
use model::orgs::{OrgDetail, OrgRole};

use super::state::Actions;
use crate::components::ui;

#[component]
pub fn Members(org: OrgDetail, actions: Actions) -> impl IntoView {
    let o = org;
    let org_id = o.id.clone();
    let add_id = o.id.clone();
    let can_manage = o.can_manage;
    let new_user = RwSignal::new(String::new());
    let new_role = RwSignal::new(OrgRole::Member);
    let option = |r: OrgRole| view! { <option value=r.as_str()>{r.label()}</option> };
    view! {
        <section class=ui::CARD aria-labelledby="members-title">
            <h2 id="members-title" class="text-base font-semibold">"Members"</h2>
            <table class="mt-3 w-full text-left text-sm">
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                    {o.members.into_iter().map(|m| {
                        let (oid1, oid2) = (org_id.clone(), org_id.clone());
                        let (uid1, uid2) = (m.person.id.clone(), m.person.id.clone());
                        let other = if m.role == OrgRole::Owner { OrgRole::Member } else { OrgRole::Owner };
                        view! {
                            <tr data-testid="member-row" data-username=m.person.username.clone()>
                                <td class="py-2">
                                    <div class="font-medium">{m.person.display_name.clone()}</div>
                                    <div class="text-xs text-slate-500 dark:text-slate-400">{m.person.username.clone()}</div>
                                </td>
                                <td data-testid="member-role">{m.role.label()}</td>
                                <td class="space-x-2 text-right">
                                    {can_manage.then(|| view! {
                                        <button type="button" class=ui::BTN_SECONDARY data-testid="member-toggle-role"
                                            on:click=move |_| { actions.change.dispatch((oid1.clone(), uid1.clone(), other)); }>
                                            {if other == OrgRole::Owner { "Make owner" } else { "Make member" }}
                                        </button>
                                        <button type="button" class=ui::BTN_DANGER data-testid="member-remove"
                                            on:click=move |_| { actions.remove.dispatch((oid2.clone(), uid2.clone())); }>
                                            "Remove"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {can_manage.then(|| view! {
                <form class="mt-4 flex flex-wrap items-end gap-2"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        actions.add.dispatch((add_id.clone(), new_user.get_untracked(), new_role.get_untracked()));
                    }>
                    <label class="flex-1 text-sm">"Add a person by username"
                        <input class=ui::INPUT name="username" data-testid="member-username" required
                            prop:value=move || new_user.get() on:input=move |ev| new_user.set(event_target_value(&ev)) />
                    </label>
                    <label class="text-sm">"Role"
                        <select class=ui::INPUT data-testid="member-new-role"
                            on:change=move |ev| {
                                if let Ok(r) = event_target_value(&ev).parse::<OrgRole>() {
                                    new_role.set(r);
                                }
                            }>
                            {option(OrgRole::Member)}
                            {option(OrgRole::Owner)}
                        </select>
                    </label>
                    <button type="submit" class=ui::BTN_PRIMARY data-testid="member-add">"Add"</button>
                </form>
            })}
        </section>
    }
}
