//! A VM's CPU and memory use over the last hour, growing live.

use leptos::prelude::*;
use model::services::MetricSample;

use crate::components::metrics_chart::{MetricsChart, Series};
use crate::components::metrics_feed::{cpu, memory};
use crate::components::ui;

#[component]
pub fn VmMetrics(samples: RwSignal<Vec<MetricSample>>, name: String) -> impl IntoView {
    let series = move |pick: fn(&MetricSample) -> f64, label: String| {
        Signal::derive(move || {
            let points: Vec<(i64, f64)> =
                samples.with(|s| s.iter().map(|x| (x.at_ms, pick(x))).collect());
            vec![Series {
                label: label.clone(),
                points,
            }]
        })
    };
    view! {
        <section class=format!("{} mb-6", ui::CARD) data-testid="vm-metrics">
            <h2 class="text-base font-semibold">"Metrics"</h2>
            <div class="mt-2 grid gap-6 md:grid-cols-2">
                <MetricsChart title="CPU" unit="%" series=series(cpu, name.clone()) floor=5.0 />
                <MetricsChart title="Memory (RSS)" unit="MiB" series=series(memory, name) floor=16.0 />
            </div>
        </section>
    }
}
