//! Virtual machines the caller may read, and a form to define one in an organization.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::orgs::list_organizations;
use crate::api::vms::{create_vm, list_vms};
use crate::components::{
    empty_state::EmptyState, error_notice::ErrorNotice, page_header::PageHeader, ui,
};

#[component]
pub fn VmsPage() -> impl IntoView {
    let vms = Resource::new(|| (), |_| list_vms());
    let orgs = Resource::new(|| (), |_| list_organizations());
    let name = RwSignal::new(String::new());
    let org = RwSignal::new(String::new());
    let create = Action::new(|(org, name): &(String, String)| create_vm(org.clone(), name.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(vm)) = create.value().get() {
            navigate(&format!("/vms/{}", vm.id), Default::default());
        }
    });

    view! {
        <PageHeader title="Virtual machines" subtitle="Machines in your organizations and machines shared with you." />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let mine: Vec<_> = orgs.await.unwrap_or_default().into_iter().filter(|o| o.role.is_some()).collect();
                if mine.is_empty() {
                    return view! {
                        <p class="mb-6 text-sm text-slate-600 dark:text-slate-400">
                            "To create a machine, join or "
                            <A href="/organizations" attr:class="text-sky-700 underline dark:text-sky-400">"start an organization"</A>
                            "."
                        </p>
                    }.into_any();
                }
                if org.get_untracked().is_empty() {
                    org.set(mine[0].id.clone());
                }
                view! {
                    <form
                        class=format!("{} mb-6 flex flex-wrap items-end gap-3", ui::CARD)
                        on:submit=move |ev| {
                            ev.prevent_default();
                            create.dispatch((org.get_untracked(), name.get_untracked()));
                        }
                    >
                        <label class="text-sm font-medium">"Organization"
                            <select class=ui::INPUT data-testid="vm-org" on:change=move |ev| org.set(event_target_value(&ev))>
                                {mine.into_iter().map(|o| view! { <option value=o.id.clone()>{o.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="min-w-56 flex-1 text-sm font-medium">"Name"
                            <input class=ui::INPUT name="name" placeholder="web-1" data-testid="vm-name" required
                                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit" class=ui::BTN_PRIMARY data-testid="vm-create" disabled=move || create.pending().get()>
                            "Create"
                        </button>
                    </form>
                }.into_any()
            })}
        </Transition>
        {move || create.value().get().and_then(Result::err).map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match vms.await {
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No virtual machines yet"
                            body="Machines in your organizations, and machines shared with you, are listed here."
                        />
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="w-full text-left text-sm">
                            <thead class="text-slate-500">
                                <tr><th class="py-2">"Name"</th><th>"Organization"</th><th>"Owner"</th><th>"Created"</th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                {list.into_iter().map(|v| {
                                    let label = v.name.clone();
                                    view! {
                                    <tr data-testid="vm-row" data-name=v.name.clone()>
                                        <td class="py-2 font-medium">
                                            <A href=format!("/vms/{}", v.id) attr:class="text-sky-700 hover:underline dark:text-sky-400">{label}</A>
                                        </td>
                                        <td>{v.organization.clone()}</td>
                                        <td>{v.owner.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{v.created_at.clone()}</td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
