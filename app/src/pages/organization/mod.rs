//! One organization: its members and their roles, adding people, leaving, its Access panel,
//! its quotas and its VM networks.

mod members;
mod networks;
mod quotas;
mod state;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::hooks::use_params_map;
use model::access::PanelKind;
use model::orgs::{OrgDetail, OrgRole};

use crate::api::orgs::get_organization;
use crate::components::{access_panel::AccessPanel, error_notice::ErrorNotice, loaded::Loaded, ui};
use members::Members;
use networks::Networks;
use quotas::Quotas;
use state::Actions;

#[component]
pub fn OrganizationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions::new();
    let org = Resource::new(
        move || (id(), actions.version()),
        |(id, _)| get_organization(id),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.leave.value().get() {
            navigate("/organizations", Default::default());
        }
    });

    view! {
        <Loaded resource=org let:o>
            <leptos_meta::Title text=o.name.clone() />
            {view! { <OrgHeader org=o.clone() actions /> }.into_any()}
            {move || actions.error().map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
            <div class="grid gap-6 xl:grid-cols-2">
                {view! { <Members org=o.clone() actions /> }.into_any()}
                <AccessPanel kind=PanelKind::Organization id=o.id.clone() version=Signal::derive(move || actions.version()) />
                {view! { <Quotas org_id=o.id.clone() /> }.into_any()}
                {view! { <Networks org_id=o.id.clone() can_manage=o.can_manage /> }.into_any()}
            </div>
        </Loaded>
    }
}

/// The organization's name, the caller's role in it, and leaving.
#[component]
fn OrgHeader(org: OrgDetail, actions: Actions) -> impl IntoView {
    let o = org;
    let leave_id = o.id.clone();
    view! {
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
                    on:click=move |_| { actions.leave.dispatch(leave_id.clone()); }>
                    "Leave organization"
                </button>
            })}
        </div>
    }
}
