//! One virtual machine: spec and state, network cards, power buttons, metrics, timeline, operations, serial
//! console, shares, delete, and its Access panel. Live events refresh it (no polling): VM
//! updates for its state, operation updates for progress.

mod activity;
mod console;
mod header;
mod metrics;
mod network;
mod shares;
mod state;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use model::access::PanelKind;
use model::vms::VmState;

use crate::api::services::vm_metrics;
use crate::api::vms::get_vm;
use crate::components::{
    access_panel::AccessPanel, error_notice::ErrorNotice, loaded::Loaded, metrics_feed::sample_feed,
};
use activity::VmActivity;
use console::SerialConsole;
use header::{VmHeader, VmSpec};
use metrics::VmMetrics;
use network::VmNetwork;
use shares::VmShares;
use state::Actions;

#[component]
pub fn VmPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions::new();
    let live = crate::live::use_live();
    let vm = Resource::new(
        move || {
            (
                id(),
                actions.version(),
                live.vms.get(),
                live.operations.get(),
            )
        },
        |(id, _, _, _)| get_vm(id),
    );
    // Kept across refetches, so live samples are appended rather than refetched.
    let samples = sample_feed(Signal::derive(id), vm_metrics);
    // Also what the page shows once its VM is deleted, or access to it revoked.
    let gone = Callback::new(|error| {
        view! {
            <ErrorNotice error />
            <p class="mt-3 text-sm">
                <A href="/vms" attr:class="text-sky-700 underline dark:text-sky-400" attr:data-testid="back-to-vms">"Back to virtual machines"</A>
            </p>
        }
        .into_any()
    });

    view! {
        <Loaded resource=vm on_error=gone let:d>
            {
                let console = d.can_console
                    && matches!(d.vm.state, VmState::Running | VmState::Paused | VmState::Starting | VmState::Restarting);
                view! {
                    <leptos_meta::Title text=d.vm.name.clone() />
                    {view! { <VmHeader detail=d.clone() actions /> }.into_any()}
                    {view! { <VmSpec detail=d.clone() /> }.into_any()}
                    {view! { <VmNetwork detail=d.clone() /> }.into_any()}
                    <VmMetrics samples name=d.vm.name.clone() />
                    {console.then(|| view! { <div class="mb-6"><SerialConsole vm_id=d.vm.id.clone() /></div> })}
                    {view! { <VmActivity detail=d.clone() actions /> }.into_any()}
                    {move || actions.error().map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
                    <div class="grid gap-6 xl:grid-cols-2">
                        {view! { <VmShares detail=d.clone() actions /> }.into_any()}
                        <AccessPanel kind=PanelKind::Vm id=d.vm.id.clone() version=Signal::derive(move || actions.version()) />
                    </div>
                }
            }
        </Loaded>
    }
}
