//! The last hour of CPU and memory use of each replica, growing live.

use leptos::prelude::*;
use model::services::{MetricSample, ReplicaView};

use crate::components::metrics_chart::MetricsChart;
use crate::components::metrics_feed::{cpu, memory, per_vm};
use crate::components::ui;

#[component]
pub fn ServiceMetrics(
    samples: RwSignal<Vec<MetricSample>>,
    replicas: Vec<ReplicaView>,
) -> impl IntoView {
    let names: Vec<(String, String)> = replicas.into_iter().map(|r| (r.vm_id, r.name)).collect();
    let name = move |vm: &str| {
        names
            .iter()
            .find(|(id, _)| id == vm)
            .map(|(_, n)| n.clone())
    };
    let by_name = name.clone();
    let cpu_series = Signal::derive(move || samples.with(|s| per_vm(s, &name, cpu)));
    let memory_series = Signal::derive(move || samples.with(|s| per_vm(s, &by_name, memory)));
    view! {
        <section class=ui::CARD data-testid="service-metrics">
            <h2 class="text-base font-semibold">"Metrics"</h2>
            <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">"The last hour, per replica, as sampled from each VM's process on its node."</p>
            <div class="mt-3 grid gap-6 md:grid-cols-2">
                <MetricsChart title="CPU" unit="%" series=cpu_series floor=5.0 />
                <MetricsChart title="Memory (RSS)" unit="MiB" series=memory_series floor=16.0 />
            </div>
        </section>
    }
}
