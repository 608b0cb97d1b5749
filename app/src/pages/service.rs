//! One service: its status and spec, start/stop/scale/deploy/delete, replicas, configuration
//! (edit, history, diff, roll back), deployments with their live logs, and live metrics.

mod config_editor;
mod deployments;
mod header;
mod history;
pub mod log_feed;
mod metrics;
mod operate;
mod replicas;
mod state;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use model::AppError;

use crate::api::services::{get_service, service_metrics};
use crate::api::vms::list_images;
use crate::components::{
    error_notice::ErrorNotice,
    loaded::{loaded, Loaded},
    metrics_feed::sample_feed,
};
use config_editor::ConfigEditor;
use deployments::Deployments;
use header::{ServiceHeader, ServiceSpec};
use history::History;
use log_feed::log_feed;
use metrics::ServiceMetrics;
use operate::Operate;
use replicas::Replicas;
use state::{Actions, Drafts};

#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions::new();
    let drafts = Drafts::new();
    drafts.settle(actions);
    Effect::new(move |before: Option<String>| {
        let now = id();
        if before.is_some_and(|b| b != now) {
            drafts.reset();
        }
        now
    });
    let live = crate::live::use_live();
    let detail = Resource::new(
        move || (id(), actions.version(), live.services.get(), live.vms.get()),
        |(id, _, _, _)| get_service(id),
    );
    let images = Resource::new(|| (), |_| list_images());
    // Deployments as last fetched (id, finished), newest first: which log to show.
    let deployments = RwSignal::new(Vec::<(String, bool)>::new());
    let shown = Memo::new(move |_| {
        let picked = drafts.deployment.get();
        deployments.with(|all| {
            picked
                .filter(|p| all.iter().any(|(id, _)| id == p))
                .or_else(|| all.first().map(|(id, _)| id.clone()))
        })
    });
    let finished = Memo::new(move |_| {
        let id = shown.get();
        deployments.with(|all| all.iter().any(|(d, done)| Some(d) == id.as_ref() && *done))
    });
    let log = log_feed(shown, finished);
    let samples = sample_feed(Signal::derive(id), service_metrics);

    // Also what the page shows once the service is deleted, or access to it revoked.
    let gone = Callback::new(|error| {
        view! {
            {match error {
                AppError::NotFound(_) => view! {
                    <p class="text-sm" role="alert" data-testid="service-missing">"No such service."</p>
                }.into_any(),
                error => view! { <ErrorNotice error /> }.into_any(),
            }}
            <p class="mt-3 text-sm">
                <A href="/services" attr:class="text-sky-700 underline dark:text-sky-400" attr:data-testid="back-to-services">"Back to services"</A>
            </p>
        }
        .into_any()
    });

    view! {
        <Loaded resource=detail on_error=gone let:d>
            {
                deployments.set(d.deployments.iter().map(|x| (x.id.clone(), x.state.is_finished())).collect());
                let sid = d.service.id.clone();
                let service = d.service.clone();
                view! {
                    <leptos_meta::Title text=d.service.name.clone() />
                    {view! { <ServiceHeader detail=d.clone() actions drafts /> }.into_any()}
                    {view! { <ServiceSpec service=d.service.clone() /> }.into_any()}
                    {move || actions.error().map(|error| view! { <div class="mb-4" data-testid="service-error"><ErrorNotice error /></div> })}
                    {d.can_deploy.then(|| view! {
                        <Transition fallback=|| ()>
                            {move || {
                                let service = service.clone();
                                Suspend::new(async move {
                                    let images = loaded(images).await.and_then(Result::ok).unwrap_or_default();
                                    view! { <Operate service images actions drafts /> }
                                })
                            }}
                        </Transition>
                    }.into_any())}
                    <div class="mb-6 grid gap-6 xl:grid-cols-2">
                        {view! { <ConfigEditor detail=d.clone() actions drafts /> }.into_any()}
                        {view! { <History service_id=sid.clone() configs=d.configs.clone() current=d.service.config_version
                            can_rollback=d.can_update actions drafts /> }.into_any()}
                    </div>
                    {view! { <Replicas replicas=d.replicas.clone() address=d.address.clone() network=d.network.clone() /> }.into_any()}
                    {view! { <Deployments deployments=d.deployments.clone() shown log drafts /> }.into_any()}
                    {view! { <ServiceMetrics samples replicas=d.replicas.clone() /> }.into_any()}
                }
            }
        </Loaded>
    }
}
