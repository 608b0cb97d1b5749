//! Usage samples of one VM or service as a page shows them: the last hour fetched once in the
//! browser, then each live sample for the same id appended (never refetched).

use std::future::Future;

use leptos::prelude::*;
use model::services::MetricSample;
use model::AppError;

use crate::components::human::mib;
use crate::components::metrics_chart::Series;

pub const HOUR_MS: i64 = 3_600_000;

/// Adds a sample in time order unless it is there already, and forgets samples more than an
/// hour older than the newest.
pub fn merge(list: &mut Vec<MetricSample>, sample: MetricSample) {
    if list
        .iter()
        .any(|s| s.vm_id == sample.vm_id && s.at_ms == sample.at_ms)
    {
        return;
    }
    let at = sample.at_ms;
    let pos = list
        .iter()
        .rposition(|s| s.at_ms <= at)
        .map_or(0, |i| i + 1);
    list.insert(pos, sample);
    let newest = list.last().map_or(at, |s| s.at_ms);
    list.retain(|s| s.at_ms >= newest - HOUR_MS);
}

/// The samples of `id`: what `fetch` answers, then live samples sent for that id.
pub fn sample_feed<F, Fut>(id: Signal<String>, fetch: F) -> RwSignal<Vec<MetricSample>>
where
    F: Fn(String) -> Fut + 'static,
    Fut: Future<Output = Result<Vec<MetricSample>, AppError>> + 'static,
{
    let live = crate::live::use_live();
    let samples = RwSignal::new(Vec::new());
    let fetched = LocalResource::new(move || {
        let id = id.get();
        let answer = fetch(id.clone());
        async move { (id, answer.await) }
    });
    // Whose samples `samples` holds; live ones for the same id survive a refetch.
    let holds = StoredValue::new(String::new());
    Effect::new(move |_| {
        if let Some((for_id, Ok(list))) = fetched.get() {
            let same = holds.with_value(|h| *h == for_id);
            holds.set_value(for_id);
            samples.update(|s| {
                let arrived = if same { std::mem::take(s) } else { Vec::new() };
                *s = list;
                for sample in arrived {
                    merge(s, sample);
                }
            });
        }
    });
    Effect::new(move |_| {
        if let Some((for_id, sample)) = live.metrics.get() {
            if id.try_get_untracked().is_some_and(|id| id == for_id) {
                samples.try_update(|s| merge(s, sample));
            }
        }
    });
    samples
}

/// One series per VM of `pick` (CPU % or MiB), labelled by `name` (the VM's id when unknown).
pub fn per_vm(
    samples: &[MetricSample],
    name: impl Fn(&str) -> Option<String>,
    pick: impl Fn(&MetricSample) -> f64,
) -> Vec<Series> {
    let mut out: Vec<(String, Series)> = Vec::new();
    for s in samples {
        let point = (s.at_ms, pick(s));
        match out.iter_mut().find(|(vm, _)| *vm == s.vm_id) {
            Some((_, series)) => series.points.push(point),
            None => out.push((
                s.vm_id.clone(),
                Series {
                    label: name(&s.vm_id).unwrap_or_else(|| s.vm_id.chars().take(8).collect()),
                    points: vec![point],
                },
            )),
        }
    }
    out.sort_by(|a, b| a.1.label.cmp(&b.1.label));
    out.into_iter().map(|(_, s)| s).collect()
}

pub fn cpu(s: &MetricSample) -> f64 {
    s.cpu_percent
}

pub fn memory(s: &MetricSample) -> f64 {
    mib(s.rss_bytes)
}

/// The CPU % per replica, averaged over buckets of `bucket_ms` (for a one-line sparkline).
pub fn average_cpu(samples: &[MetricSample], bucket_ms: i64) -> Vec<f64> {
    let mut out: Vec<(i64, f64, u32)> = Vec::new();
    for s in samples {
        let b = s.at_ms.div_euclid(bucket_ms.max(1));
        match out.last_mut() {
            Some((last, sum, n)) if *last == b => {
                *sum += s.cpu_percent;
                *n += 1;
            }
            _ => out.push((b, s.cpu_percent, 1)),
        }
    }
    out.into_iter()
        .map(|(_, sum, n)| sum / f64::from(n))
        .collect()
}
