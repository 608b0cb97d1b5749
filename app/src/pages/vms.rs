//! Virtual machines the caller may read (filtered by organization and state), and the form
//! that creates one from an image, on the networks it names.

mod network_choice;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use model::orgs::OrgSummary;
use model::vms::{ImageSummary, NewVm, VmState, MIN_MEMORY_MB, VM_PAGE};

use crate::api::orgs::list_organizations;
use crate::api::services::list_regions;
use crate::api::vms::{create_vm, list_images, list_vms};
use crate::components::{
    empty_state::EmptyState, error_notice::ErrorNotice, loaded::loaded, loaded::Loaded,
    page_header::PageHeader, ui, vm_state::VmStateBadge,
};
use network_choice::NetworkChoice;

#[component]
pub fn VmsPage() -> impl IntoView {
    let live = crate::live::use_live();
    // Every VM change arrives as a live event: the list refetches then, and never polls.
    let org_filter = RwSignal::new(String::new());
    let state_filter = RwSignal::new(String::new());
    // Where each page before this one ended (empty on the first page); filters start over.
    let pages = RwSignal::new(Vec::<String>::new());
    let vms = Resource::new(
        move || {
            (
                live.vms.get(),
                org_filter.get(),
                state_filter.get(),
                pages.with(|p| p.last().cloned()),
            )
        },
        |(_, org, state, after)| {
            list_vms(
                Some(org).filter(|o| !o.is_empty()),
                VmState::parse(&state),
                after,
                None,
            )
        },
    );
    // Membership decides what the page offers: followed live (crate::live::Live::memberships).
    let orgs = Resource::new(move || live.memberships.get(), |_| list_organizations());
    let images = Resource::new(|| (), |_| list_images());
    let regions = Resource::new(|| (), |_| list_regions());

    view! {
        <PageHeader title="Virtual machines" subtitle="Machines in your organizations and machines shared with you." />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let (Some(orgs), Some(images), Some(regions)) =
                    (loaded(orgs).await, loaded(images).await, loaded(regions).await) else { return ().into_any() };
                let regions = regions.unwrap_or_default();
                let mine: Vec<OrgSummary> = orgs.unwrap_or_default().into_iter().filter(|o| o.role.is_some()).collect();
                let images = images.unwrap_or_default();
                if mine.is_empty() {
                    return view! {
                        <p class="mb-6 text-sm text-slate-600 dark:text-slate-400">
                            "To create a machine, join or "
                            <A href="/organizations" attr:class="text-sky-700 underline dark:text-sky-400">"start an organization"</A>
                            "."
                        </p>
                    }.into_any();
                }
                view! { <CreateVmForm orgs=mine images regions /> }.into_any()
            })}
        </Transition>
        <div class="mb-3 flex flex-wrap gap-3 text-sm">
            <label>"Organization "
                <select class="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-950" data-testid="filter-org"
                    on:change=move |ev| { pages.set(Vec::new()); org_filter.set(event_target_value(&ev)) }>
                    <option value="">"All"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            loaded(orgs).await.and_then(Result::ok).unwrap_or_default().into_iter().map(|o| view! { <option value=o.id.clone()>{o.name.clone()}</option> }).collect_view()
                        })}
                    </Transition>
                </select>
            </label>
            <label>"State "
                <select class="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-950" data-testid="filter-state"
                    on:change=move |ev| { pages.set(Vec::new()); state_filter.set(event_target_value(&ev)) }>
                    <option value="">"All"</option>
                    {VmState::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <Loaded resource=vms let:page>
                {match page {
                    page if page.total == 0 && org_filter.get_untracked().is_empty() && state_filter.get_untracked().is_empty() => view! {
                        <EmptyState
                            title="No virtual machines yet"
                            body="Machines in your organizations, and machines shared with you, are listed here."
                        />
                    }.into_any(),
                    page => {
                        let before = pages.with_untracked(Vec::len) * VM_PAGE as usize;
                        let range = if page.vms.is_empty() {
                            "No machine matches.".to_owned()
                        } else {
                            format!("{}–{} of {}", before + 1, before + page.vms.len(), page.total)
                        };
                        let next = page.next.clone();
                        let last_page = next.is_none();
                        view! {
                        <table class="w-full text-left text-sm">
                            <thead class="text-slate-500 dark:text-slate-400">
                                <tr><th class="py-2">"Name"</th><th>"State"</th><th>"Organization"</th><th>"Image"</th><th>"Size"</th><th>"Owner"</th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                {page.vms.into_iter().map(|v| {
                                    let label = v.name.clone();
                                    view! {
                                    <tr data-testid="vm-row" data-name=v.name.clone()>
                                        <td class="py-2 font-medium">
                                            <A href=format!("/vms/{}", v.id) attr:class="text-sky-700 hover:underline dark:text-sky-400">{label}</A>
                                        </td>
                                        <td><VmStateBadge state=v.state reason=v.state_reason.clone().unwrap_or_default() /></td>
                                        <td>{v.organization.clone()}</td>
                                        <td>{v.image.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{format!("{} vCPU · {} MiB · {} GiB", v.cpu_count, v.memory_mb, v.disk_gb)}</td>
                                        <td>{v.owner.clone().unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                        <nav class="mt-3 flex items-center gap-3 text-sm" aria-label="Pages of machines" data-testid="vm-pager">
                            <span class="text-slate-600 dark:text-slate-400" data-testid="vm-page-range">{range}</span>
                            <button type="button" class=ui::BTN_SECONDARY data-testid="vm-page-prev"
                                disabled=move || pages.with(Vec::is_empty)
                                on:click=move |_| pages.update(|p| { p.pop(); })>"Previous"</button>
                            <button type="button" class=ui::BTN_SECONDARY data-testid="vm-page-next"
                                disabled=last_page
                                on:click=move |_| if let Some(n) = next.clone() { pages.update(|p| p.push(n)) }>"Next"</button>
                        </nav>
                    }.into_any()},
                }}
        </Loaded>
    }
}

#[component]
fn CreateVmForm(
    orgs: Vec<OrgSummary>,
    images: Vec<ImageSummary>,
    regions: Vec<String>,
) -> impl IntoView {
    // Empty: wherever there is room.
    let region = RwSignal::new(String::new());
    let org = RwSignal::new(orgs.first().map(|o| o.id.clone()).unwrap_or_default());
    let image = RwSignal::new(images.first().map(|i| i.id.clone()).unwrap_or_default());
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let cpus = RwSignal::new("1".to_owned());
    let memory = RwSignal::new(MIN_MEMORY_MB.to_string());
    let disk = RwSignal::new("1".to_owned());
    let start = RwSignal::new(true);
    let networks = RwSignal::new(None::<Vec<String>>);
    let create = Action::new(|vm: &NewVm| create_vm(vm.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(vm)) = create.value().get() {
            navigate(&format!("/vms/{}", vm.id), Default::default());
        }
    });
    let no_images = images.is_empty();
    view! {
        <form
            class=format!("{} mb-6 grid gap-3 md:grid-cols-4", ui::CARD)
            data-testid="vm-create-form"
            on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(NewVm {
                    organization_id: org.get_untracked(),
                    name: name.get_untracked(),
                    description: description.get_untracked(),
                    image_id: Some(image.get_untracked()).filter(|s| !s.is_empty()),
                    cpu_count: cpus.get_untracked().trim().parse().unwrap_or(0),
                    memory_mb: memory.get_untracked().trim().parse().unwrap_or(0),
                    disk_gb: disk.get_untracked().trim().parse().unwrap_or(0),
                    start: start.get_untracked(),
                    region: Some(region.get_untracked()).filter(|r| !r.is_empty()),
                    networks: networks.get_untracked(),
                    tags: Vec::new(),
                });
            }
        >
            <label class="text-sm font-medium">"Organization"
                <select class=ui::INPUT data-testid="vm-org" on:change=move |ev| org.set(event_target_value(&ev))>
                    {orgs.into_iter().map(|o| view! { <option value=o.id.clone()>{o.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="text-sm font-medium">"Name"
                <input class=ui::INPUT name="name" placeholder="web-1" data-testid="vm-name" required
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium md:col-span-2">"Image"
                <select class=ui::INPUT data-testid="vm-image" on:change=move |ev| image.set(event_target_value(&ev))>
                    {images.into_iter().map(|i| {
                        let text = format!("{} — {} ({:.1} MiB)", i.name, i.os, i.size_bytes as f64 / 1_048_576.0);
                        view! { <option value=i.id.clone()>{text}</option> }
                    }).collect_view()}
                </select>
                {no_images.then(|| view! { <span class="mt-1 block text-xs text-amber-700">"No image is available yet: an administrator registers one."</span> })}
            </label>
            <label class="text-sm font-medium">"vCPUs"
                <input class=ui::INPUT type="number" min="1" data-testid="vm-cpus" prop:value=move || cpus.get() on:input=move |ev| cpus.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Memory (MiB)"
                <input class=ui::INPUT type="number" min=MIN_MEMORY_MB data-testid="vm-memory" prop:value=move || memory.get() on:input=move |ev| memory.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Disk (GiB)"
                <input class=ui::INPUT type="number" min="1" data-testid="vm-disk" prop:value=move || disk.get() on:input=move |ev| disk.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Region"
                <select class=ui::INPUT data-testid="vm-region" on:change=move |ev| region.set(event_target_value(&ev))>
                    <option value="">"Anywhere with room"</option>
                    {regions.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="text-sm font-medium">"Description"
                <input class=ui::INPUT data-testid="vm-description" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) />
            </label>
            <NetworkChoice org chosen=networks />
            <label class="flex items-center gap-2 text-sm md:col-span-2">
                <input type="checkbox" data-testid="vm-start" prop:checked=move || start.get() on:change=move |ev| start.set(event_target_checked(&ev)) />
                "Start it once created"
            </label>
            <div class="flex justify-end">
                <button type="submit" class=ui::BTN_PRIMARY data-testid="vm-create" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create VM" }}
                </button>
            </div>
            {move || create.value().get().and_then(Result::err).map(|error| view! { <div class="md:col-span-4"><ErrorNotice error /></div> })}
        </form>
    }
}
