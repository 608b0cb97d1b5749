//! Services the caller can see, each with its status, replicas and a live CPU sparkline, and
//! the form that creates one.

mod cpu_feeds;
mod create_form;

use leptos::prelude::*;
use leptos_router::components::A;
use model::orgs::OrgSummary;

use crate::api::orgs::list_organizations;
use crate::api::services::{list_regions, list_services};
use crate::api::vms::list_images;
use crate::components::{
    empty_state::EmptyState, loaded::loaded, loaded::Loaded, metrics_feed::average_cpu,
    page_header::PageHeader, service_status::ServiceStatusBadge, sparkline::Sparkline,
};
use cpu_feeds::cpu_feeds;
use create_form::CreateServiceForm;

#[component]
pub fn ServicesPage() -> impl IntoView {
    let live = crate::live::use_live();
    let services = Resource::new(
        move || (live.services.get(), live.vms.get()),
        |_| list_services(),
    );
    // Membership decides what the page offers: followed live (crate::live::Live::memberships).
    let orgs = Resource::new(move || live.memberships.get(), |_| list_organizations());
    let images = Resource::new(|| (), |_| list_images());
    let regions = Resource::new(|| (), |_| list_regions());
    let listed = RwSignal::new(Vec::<String>::new());
    let feeds = cpu_feeds(listed);

    view! {
        <PageHeader title="Services" subtitle="Named workloads with versioned configuration and rolling deployments." />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let (Some(orgs), Some(images), Some(regions)) =
                    (loaded(orgs).await, loaded(images).await, loaded(regions).await) else { return ().into_any() };
                let mine: Vec<OrgSummary> = orgs.unwrap_or_default().into_iter().filter(|o| o.role.is_some()).collect();
                if mine.is_empty() {
                    return view! {
                        <p class="mb-6 text-sm text-slate-600 dark:text-slate-400">
                            "To create a service, join or "
                            <A href="/organizations" attr:class="text-sky-700 underline dark:text-sky-400">"start an organization"</A>
                            "."
                        </p>
                    }.into_any();
                }
                view! { <CreateServiceForm orgs=mine images=images.unwrap_or_default() regions=regions.unwrap_or_default() /> }.into_any()
            })}
        </Transition>
        <Loaded resource=services let:services>
                {match services {
                    list if list.is_empty() => view! {
                        <EmptyState
                            title="No services yet"
                            body="A service runs one image as several replicas. Services you can see will be listed here with their status."
                        />
                    }.into_any(),
                    list => {
                        listed.set(list.iter().map(|s| s.id.clone()).collect());
                        view! {
                        <table class="w-full text-left text-sm">
                            <thead class="text-slate-500 dark:text-slate-400">
                                <tr>
                                    <th class="py-2">"Name"</th><th>"Status"</th><th>"Organization"</th><th>"Region"</th>
                                    <th>"Image"</th><th>"Replicas"</th><th>"CPU (last hour)"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                {list.into_iter().map(|s| {
                                    let (id, label) = (s.id.clone(), s.name.clone());
                                    let cpu = Signal::derive(move || {
                                        feeds.with(|f| f.get(&id).map(|list| average_cpu(list, 30_000)).unwrap_or_default())
                                    });
                                    view! {
                                    <tr data-testid="service-row" data-name=s.name.clone()>
                                        <td class="py-2 font-medium">
                                            <A href=format!("/services/{}", s.id) attr:class="text-sky-700 hover:underline dark:text-sky-400">{label}</A>
                                        </td>
                                        <td><ServiceStatusBadge status=s.status /></td>
                                        <td>{s.organization.clone()}</td>
                                        <td>{if s.region.is_empty() { "—".to_owned() } else { s.region.clone() }}</td>
                                        <td>{format!("{} · {}", s.image.clone().unwrap_or_else(|| "—".into()), s.version)}</td>
                                        <td data-testid="service-replicas">{format!("{}/{}", s.running, s.replicas)}</td>
                                        <td><Sparkline values=cpu label="Average CPU % per replica" /></td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()},
                }}
        </Loaded>
    }
}
