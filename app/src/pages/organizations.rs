//! Organizations: the ones the caller belongs to (or may see), and a form to start one.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::orgs::{create_organization, list_organizations};
use crate::components::{
    empty_state::EmptyState, error_notice::ErrorNotice, loaded::Loaded, page_header::PageHeader, ui,
};

#[component]
pub fn OrganizationsPage() -> impl IntoView {
    // Membership decides what the page offers: followed live (crate::live::Live::memberships).
    let memberships = crate::live::use_live().memberships;
    let orgs = Resource::new(move || memberships.get(), |_| list_organizations());
    let name = RwSignal::new(String::new());
    let create = Action::new(|name: &String| create_organization(name.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(org)) = create.value().get() {
            navigate(&format!("/organizations/{}", org.id), Default::default());
        }
    });

    view! {
        <PageHeader title="Organizations" subtitle="Groups of people who share machines and services." />
        <form
            class=format!("{} mb-6 flex flex-wrap items-end gap-3", ui::CARD)
            on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(name.get_untracked());
            }
        >
            <label class="min-w-64 flex-1 text-sm font-medium">"New organization"
                <input class=ui::INPUT name="name" placeholder="platform-team" data-testid="org-name" required
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class=ui::BTN_PRIMARY data-testid="org-create" disabled=move || create.pending().get()>
                "Create"
            </button>
        </form>
        {move || create.value().get().and_then(Result::err).map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
        <Loaded resource=orgs let:orgs>
                {match orgs {
                    list if list.is_empty() => view! {
                        <EmptyState
                            title="No organizations yet"
                            body="Start one above, or ask an organization's owner to add you."
                        />
                    }.into_any(),
                    list => view! {
                        <ul class="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
                            {list.into_iter().map(|o| {
                                let label = o.name.clone();
                                view! {
                                <li data-testid="org-row" data-name=o.name.clone()>
                                    <A href=format!("/organizations/{}", o.id) attr:class=format!("{} block hover:border-sky-400", ui::CARD)>
                                        <div class="font-medium">{label}</div>
                                        <div class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                                            {o.role.map(|r| r.label()).unwrap_or("Administrator view")}
                                            " · " {o.members} {if o.members == 1 { " person" } else { " people" }}
                                        </div>
                                    </A>
                                </li>
                            }}).collect_view()}
                        </ul>
                    }.into_any(),
                }}
        </Loaded>
    }
}
