//! Admin → Users: everyone on the installation, invites, disabling, recovery links.

use leptos::prelude::*;

use crate::api::admin::{create_invite, create_recovery_link, list_users, set_user_disabled};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, page_header::PageHeader, ui};

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    let invite = Action::new(|_: &()| create_invite());
    let toggle =
        Action::new(|(id, disabled): &(String, bool)| set_user_disabled(id.clone(), *disabled));
    let recovery = Action::new(|id: &String| create_recovery_link(id.clone()));
    Effect::new(move |_| {
        if toggle.version().get() > 0 {
            users.refetch();
        }
    });
    let link = move || {
        invite
            .value()
            .get()
            .and_then(Result::ok)
            .map(|l| ("Invite link", l))
            .or_else(|| {
                recovery
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|l| ("Recovery link", l))
            })
    };
    let error = move || {
        [
            invite.value().get().map(|r| r.map(|_| ())),
            toggle.value().get(),
            recovery.value().get().map(|r| r.map(|_| ())),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    };

    view! {
        <PageHeader title="Users" subtitle="Everyone who can sign in to this installation.">
            <button
                type="button"
                class=ui::BTN_PRIMARY
                data-testid="create-invite"
                on:click=move |_| {
                    invite.dispatch(());
                }
            >
                "Create invite link"
            </button>
        </PageHeader>
        {move || {
            link()
                .map(|(what, l)| {
                    view! {
                        <div class=format!("{} mb-4", ui::CARD) data-testid="link">
                            <div class="text-sm font-semibold">{what} " (single use, expires " {l.expires_at} ")"</div>
                            <code class="mt-2 block break-all text-sm" data-testid="link-url">{l.url}</code>
                        </div>
                    }
                })
        }}
        {move || error().map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
        <Loaded resource=users let:list>
                {
                    view! {
                        <table class="w-full text-left text-sm">
                            <thead class="text-slate-500 dark:text-slate-400">
                                <tr><th class="py-2">"User"</th><th>"Role"</th><th>"Passkeys"</th><th>"Created"</th><th>"Status"</th><th></th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                {list
                                    .into_iter()
                                    .map(|u| {
                                        let (id_toggle, id_recover) = (u.id.clone(), u.id.clone());
                                        let disabled = u.disabled;
                                        view! {
                                            <tr data-testid="user-row" data-username=u.username.clone()>
                                                <td class="py-2"><div class="font-medium">{u.display_name.clone()}</div><div class="text-xs text-slate-500 dark:text-slate-400">{u.username.clone()}</div></td>
                                                <td>{if u.is_admin { "Admin" } else { "Member" }}</td>
                                                <td>{u.passkeys}</td>
                                                <td>{u.created_at.clone()}</td>
                                                <td data-testid="user-status">{if disabled { "Disabled" } else { "Active" }}</td>
                                                <td class="space-x-2 text-right">
                                                    <button type="button" class=ui::BTN_SECONDARY on:click=move |_| { toggle.dispatch((id_toggle.clone(), !disabled)); }>
                                                        {if disabled { "Enable" } else { "Disable" }}
                                                    </button>
                                                    <button type="button" class=ui::BTN_SECONDARY on:click=move |_| { recovery.dispatch(id_recover.clone()); }>
                                                        "Recovery link"
                                                    </button>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
        </Loaded>
    }
}
