//! One organization: its members and their roles, adding people, leaving, and its Access panel.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::hooks::use_params_map;
use model::orgs::OrgRole;

use crate::api::orgs::{
    add_member, change_member_role, get_organization, leave_organization, remove_member,
};
use crate::components::{access_panel::AccessPanel, error_notice::ErrorNotice, loaded::Loaded, ui};

#[component]
pub fn OrganizationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let add = Action::new(|(org, user, role): &(String, String, OrgRole)| {
        add_member(org.clone(), user.clone(), *role)
    });
    let change = Action::new(|(org, user, role): &(String, String, OrgRole)| {
        change_member_role(org.clone(), user.clone(), *role)
    });
    let remove =
        Action::new(|(org, user): &(String, String)| remove_member(org.clone(), user.clone()));
    let leave = Action::new(|org: &String| leave_organization(org.clone()));
    // Any successful change reloads the members and the Access panel.
    let version = Memo::new(move |_| {
        [
            add.version().get(),
            change.version().get(),
            remove.version().get(),
        ]
        .iter()
        .sum::<usize>()
    });
    let org = Resource::new(
        move || (id(), version.get()),
        |(id, _)| get_organization(id),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            navigate("/organizations", Default::default());
        }
    });
    let error = move || {
        [
            add.value().get().map(|r| r.map(|_| ())),
            change.value().get(),
            remove.value().get(),
            leave.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    };
    let new_user = RwSignal::new(String::new());
    let new_role = RwSignal::new(OrgRole::Member);

    view! {
        <Loaded resource=org let:o>
                {
                    {
                        let org_id = o.id.clone();
                        let (leave_id, add_id) = (o.id.clone(), o.id.clone());
                        let can_manage = o.can_manage;
                        view! {
                            <leptos_meta::Title text=o.name.clone() />
                            <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
                                <div>
                                    <h1 class="text-2xl font-semibold tracking-tight" data-testid="org-title">{o.name.clone()}</h1>
                                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                                        {o.role.map(|r| format!("You are {}.", if r == OrgRole::Owner { "an owner" } else { "a member" }))
                                            .unwrap_or_else(|| "You see this as a platform administrator.".into())}
                                        " Created " {o.created_at.clone()} "."
                                    </p>
                                </div>
                                {o.can_leave.then(|| view! {
                                    <button type="button" class=ui::BTN_DANGER data-testid="org-leave"
                                        on:click=move |_| { leave.dispatch(leave_id.clone()); }>
                                        "Leave organization"
                                    </button>
                                })}
                            </div>
                            {move || error().map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
                            <div class="grid gap-6 xl:grid-cols-2">
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
                                                            <div class="text-xs text-slate-500">{m.person.username.clone()}</div>
                                                        </td>
                                                        <td data-testid="member-role">{m.role.label()}</td>
                                                        <td class="space-x-2 text-right">
                                                            {can_manage.then(|| view! {
                                                                <button type="button" class=ui::BTN_SECONDARY data-testid="member-toggle-role"
                                                                    on:click=move |_| { change.dispatch((oid1.clone(), uid1.clone(), other)); }>
                                                                    {if other == OrgRole::Owner { "Make owner" } else { "Make member" }}
                                                                </button>
                                                                <button type="button" class=ui::BTN_DANGER data-testid="member-remove"
                                                                    on:click=move |_| { remove.dispatch((oid2.clone(), uid2.clone())); }>
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
                                                add.dispatch((add_id.clone(), new_user.get_untracked(), new_role.get_untracked()));
                                            }>
                                            <label class="flex-1 text-sm">"Add a person by username"
                                                <input class=ui::INPUT name="username" data-testid="member-username" required
                                                    prop:value=move || new_user.get() on:input=move |ev| new_user.set(event_target_value(&ev)) />
                                            </label>
                                            <label class="text-sm">"Role"
                                                <select class=ui::INPUT data-testid="member-new-role"
                                                    on:change=move |ev| new_role.set(if event_target_value(&ev) == "owner" { OrgRole::Owner } else { OrgRole::Member })>
                                                    <option value="member">"Member"</option>
                                                    <option value="owner">"Owner"</option>
                                                </select>
                                            </label>
                                            <button type="submit" class=ui::BTN_PRIMARY data-testid="member-add">"Add"</button>
                                        </form>
                                    })}
                                </section>
                                <AccessPanel kind=model::access::PanelKind::Organization id=o.id.clone() version=Signal::derive(move || version.get()) />
                            </div>
                        }.into_any()
                    }
                }
        </Loaded>
    }
}
