//! The form that creates a service: where it runs, what it runs, how many replicas of what
//! size, and its first configuration (checked against an optional JSON Schema).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use model::orgs::OrgSummary;
use model::services::NewService;
use model::vms::{ImageSummary, MIN_MEMORY_MB};

use crate::api::services::create_service;
use crate::components::{error_notice::ErrorNotice, ui};

#[component]
pub fn CreateServiceForm(
    orgs: Vec<OrgSummary>,
    images: Vec<ImageSummary>,
    regions: Vec<String>,
) -> impl IntoView {
    let org = RwSignal::new(orgs.first().map(|o| o.id.clone()).unwrap_or_default());
    let image = RwSignal::new(images.first().map(|i| i.id.clone()).unwrap_or_default());
    let region = RwSignal::new(regions.first().cloned().unwrap_or_default());
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let version = RwSignal::new("1".to_owned());
    let replicas = RwSignal::new("1".to_owned());
    let memory = RwSignal::new(MIN_MEMORY_MB.to_string());
    let cpus = RwSignal::new("1".to_owned());
    let config = RwSignal::new("{}".to_owned());
    let schema = RwSignal::new(String::new());
    let create = Action::new(|s: &NewService| create_service(s.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(s)) = create.value().get() {
            navigate(&format!("/services/{}", s.id), Default::default());
        }
    });
    let number = |s: RwSignal<String>| s.get_untracked().trim().parse().unwrap_or(0);
    let no_images = images.is_empty();
    let no_regions = regions.is_empty();
    view! {
        <form
            class=format!("{} mb-6 grid gap-3 md:grid-cols-4", ui::CARD)
            data-testid="service-create-form"
            on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(NewService {
                    organization_id: org.get_untracked(),
                    name: name.get_untracked(),
                    description: description.get_untracked(),
                    region: region.get_untracked(),
                    image_id: Some(image.get_untracked()).filter(|s| !s.is_empty()),
                    version: version.get_untracked(),
                    replicas: number(replicas),
                    cpu_count: number(cpus),
                    memory_mb: number(memory),
                    config: config.get_untracked(),
                    config_schema: schema.get_untracked(),
                });
            }
        >
            <label class="text-sm font-medium">"Organization"
                <select class=ui::INPUT data-testid="service-org" on:change=move |ev| org.set(event_target_value(&ev))>
                    {orgs.into_iter().map(|o| view! { <option value=o.id.clone()>{o.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="text-sm font-medium">"Name"
                <input class=ui::INPUT name="name" placeholder="web" data-testid="service-name" required
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium md:col-span-2">"Description"
                <input class=ui::INPUT data-testid="service-description"
                    prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Region"
                <select class=ui::INPUT data-testid="service-region" on:change=move |ev| region.set(event_target_value(&ev))>
                    {no_regions.then(|| view! { <option value="">"This node's"</option> })}
                    {regions.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="text-sm font-medium md:col-span-2">"Image"
                <select class=ui::INPUT data-testid="service-image" on:change=move |ev| image.set(event_target_value(&ev))>
                    {images.into_iter().map(|i| view! { <option value=i.id.clone()>{format!("{} — {}", i.name, i.os)}</option> }).collect_view()}
                </select>
                {no_images.then(|| view! { <span class="mt-1 block text-xs text-amber-700">"No image is available yet: an administrator registers one."</span> })}
            </label>
            <label class="text-sm font-medium">"Version"
                <input class=ui::INPUT data-testid="service-version" required
                    prop:value=move || version.get() on:input=move |ev| version.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Replicas"
                <input class=ui::INPUT type="number" min="0" max=model::services::MAX_REPLICAS data-testid="service-replicas-input"
                    prop:value=move || replicas.get() on:input=move |ev| replicas.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Memory (MiB)"
                <input class=ui::INPUT type="number" min=MIN_MEMORY_MB data-testid="service-memory"
                    prop:value=move || memory.get() on:input=move |ev| memory.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"CPUs"
                <input class=ui::INPUT type="number" min="1" data-testid="service-cpus"
                    prop:value=move || cpus.get() on:input=move |ev| cpus.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium md:col-span-2">"Configuration"
                <textarea class=format!("{} font-mono", ui::INPUT) rows="5" spellcheck="false" data-testid="service-config"
                    prop:value=move || config.get() on:input=move |ev| config.set(event_target_value(&ev))></textarea>
            </label>
            <label class="text-sm font-medium md:col-span-2">"Config schema"
                <textarea class=format!("{} font-mono", ui::INPUT) rows="5" spellcheck="false" data-testid="service-schema"
                    placeholder="Optional JSON Schema; empty accepts any JSON object"
                    prop:value=move || schema.get() on:input=move |ev| schema.set(event_target_value(&ev))></textarea>
            </label>
            <div class="flex items-end justify-end md:col-span-4">
                <button type="submit" class=ui::BTN_PRIMARY data-testid="service-create" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create service" }}
                </button>
            </div>
            {move || create.value().get().and_then(Result::err).map(|error| view! { <div class="md:col-span-4"><ErrorNotice error /></div> })}
        </form>
    }
}
