//! Changing what runs: scale to a replica count, or deploy another image or version with the
//! current configuration.

use leptos::prelude::*;
use model::services::{DeployRequest, ServiceSummary};
use model::vms::ImageSummary;

use super::state::{Actions, Drafts};
use crate::components::ui;

#[component]
pub fn Operate(
    service: ServiceSummary,
    images: Vec<ImageSummary>,
    actions: Actions,
    drafts: Drafts,
) -> impl IntoView {
    let (scale_id, deploy_id) = (service.id.clone(), service.id.clone());
    let wanted = service.replicas.to_string();
    let replicas = move || drafts.replicas.get().unwrap_or_else(|| wanted.clone());
    let image_now = service.image_id.clone().unwrap_or_default();
    let image = move || drafts.image.get().unwrap_or_else(|| image_now.clone());
    let version_now = service.version.clone();
    let version = move || drafts.version.get().unwrap_or_else(|| version_now.clone());
    let (image_for_submit, version_for_submit, replicas_for_submit) =
        (image.clone(), version.clone(), replicas.clone());
    view! {
        <section class=format!("{} mb-6 flex flex-wrap items-end gap-6", ui::CARD) data-testid="service-operate">
            <form class="flex items-end gap-2"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let n = replicas_for_submit().trim().parse().unwrap_or(u32::MAX);
                    actions.scale.dispatch((scale_id.clone(), n));
                }>
                <label class="text-sm font-medium">"Replicas"
                    <input class=format!("{} w-24", ui::INPUT) type="number" min="0" max=model::services::MAX_REPLICAS
                        data-testid="scale-replicas"
                        prop:value=replicas on:input=move |ev| drafts.replicas.set(Some(event_target_value(&ev))) />
                </label>
                <button type="submit" class=ui::BTN_SECONDARY data-testid="service-scale"
                    disabled=move || actions.scale.pending().get()>"Scale"</button>
            </form>
            <form class="flex flex-1 flex-wrap items-end gap-2"
                on:submit=move |ev| {
                    ev.prevent_default();
                    actions.deploy.dispatch((deploy_id.clone(), DeployRequest {
                        config_version: None,
                        image_id: Some(image_for_submit()).filter(|i| !i.is_empty()),
                        version: Some(version_for_submit()),
                        expected_generation: None,
                    }));
                }>
                <label class="min-w-48 flex-1 text-sm font-medium">"Image"
                    <select class=ui::INPUT data-testid="deploy-image"
                        on:change=move |ev| drafts.image.set(Some(event_target_value(&ev)))>
                        {images.into_iter().map(|i| {
                            let (id, image) = (i.id.clone(), image.clone());
                            view! { <option value=i.id.clone() prop:selected=move || image() == id>{i.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="text-sm font-medium">"Version"
                    <input class=format!("{} w-32", ui::INPUT) data-testid="deploy-version" required
                        prop:value=version on:input=move |ev| drafts.version.set(Some(event_target_value(&ev))) />
                </label>
                <button type="submit" class=ui::BTN_PRIMARY data-testid="service-deploy"
                    disabled=move || actions.deploy.pending().get()>"Deploy"</button>
                <span class="w-full text-xs text-slate-500 dark:text-slate-400">"Rolls the replicas one by one onto this image and version, with the current configuration."</span>
            </form>
        </section>
    }
}
