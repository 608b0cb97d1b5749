//! The usage samples of every listed service: each service's last hour fetched once, then
//! live samples appended, so the list's sparklines move without refetching.

use std::collections::HashMap;

use leptos::prelude::*;
use model::services::MetricSample;

use crate::api::services::service_metrics;
use crate::components::metrics_feed::merge;

/// Samples by service id, for the ids `listed` names (fetched in the browser only).
pub fn cpu_feeds(listed: RwSignal<Vec<String>>) -> RwSignal<HashMap<String, Vec<MetricSample>>> {
    let live = crate::live::use_live();
    let feeds = RwSignal::new(HashMap::<String, Vec<MetricSample>>::new());
    Effect::new(move |_| {
        for id in listed.get() {
            if feeds.with_untracked(|f| f.contains_key(&id)) {
                continue;
            }
            feeds.update(|f| {
                f.insert(id.clone(), Vec::new());
            });
            leptos::task::spawn_local(async move {
                if let Ok(list) = service_metrics(id.clone()).await {
                    feeds.try_update(|f| {
                        let samples = f.entry(id).or_default();
                        for sample in list {
                            merge(samples, sample);
                        }
                    });
                }
            });
        }
    });
    Effect::new(move |_| {
        let Some((id, sample)) = live.metrics.get() else {
            return;
        };
        // Samples of VMs (not services) are sent too: they change nothing here.
        if feeds.try_with_untracked(|f| f.contains_key(&id)) == Some(true) {
            feeds.try_update(|f| {
                if let Some(samples) = f.get_mut(&id) {
                    merge(samples, sample);
                }
            });
        }
    });
    feeds
}
