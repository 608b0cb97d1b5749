//! A last-hour line chart of several labelled series (one per replica), with each series'
//! latest value as text.

use leptos::prelude::*;

use crate::components::sparkline::{ceiling, points};

/// One line: a label and (milliseconds since the epoch, value) points, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(i64, f64)>,
}

const COLOURS: [&str; 6] = [
    "text-sky-600 dark:text-sky-400",
    "text-emerald-600 dark:text-emerald-400",
    "text-amber-600 dark:text-amber-400",
    "text-fuchsia-600 dark:text-fuchsia-400",
    "text-indigo-600 dark:text-indigo-400",
    "text-rose-600 dark:text-rose-400",
];
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 96.0;
const HOUR_MS: i64 = 3_600_000;

#[component]
pub fn MetricsChart(
    /// "CPU" or "Memory".
    title: &'static str,
    /// Appended to values: "%" or "MiB".
    unit: &'static str,
    #[prop(into)] series: Signal<Vec<Series>>,
    /// The lowest top of the scale, so idle lines stay near the bottom.
    #[prop(default = 1.0)]
    floor: f64,
) -> impl IntoView {
    // The hour up to the newest point of any series.
    let scale = Memo::new(move |_| {
        series.with(|all| {
            let end = all
                .iter()
                .filter_map(|s| s.points.last().map(|p| p.0))
                .max()
                .unwrap_or(0);
            let top = ceiling(all.iter().flat_map(|s| s.points.iter().map(|p| p.1)), floor);
            ((end - HOUR_MS) as f64, end as f64, top * 1.1)
        })
    });
    let empty = move || series.with(|all| all.iter().all(|s| s.points.is_empty()));
    view! {
        <figure class="min-w-0" data-testid="metrics-chart" data-title=title>
            <figcaption class="flex items-baseline justify-between text-sm font-medium">
                {title}
                <span class="text-xs font-normal text-slate-500 dark:text-slate-400">
                    {move || (!empty()).then(|| format!("top {:.1} {unit}", scale.get().2 / 1.1))}
                </span>
            </figcaption>
            {move || if empty() {
                view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="metrics-empty">"No samples yet"</p> }.into_any()
            } else {
                let (x0, x1, top) = scale.get();
                view! {
                    <svg class="mt-1 h-24 w-full rounded bg-slate-50 dark:bg-slate-950" viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                        preserveAspectRatio="none" role="img" aria-hidden="true">
                        {series.get().into_iter().enumerate().map(|(i, s)| {
                            let data: Vec<(f64, f64)> = s.points.iter().map(|(t, v)| (*t as f64, *v)).collect();
                            view! {
                                <polyline class=COLOURS[i % COLOURS.len()] points=points(&data, (x0, x1), top, WIDTH, HEIGHT)
                                    fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" />
                            }
                        }).collect_view()}
                    </svg>
                    <ul class="mt-1 flex flex-wrap gap-x-4 text-xs" data-testid="metrics-latest">
                        {series.get().into_iter().enumerate().map(|(i, s)| {
                            let latest = s.points.last().map(|p| format!("{:.1} {unit}", p.1)).unwrap_or_else(|| "—".into());
                            view! {
                                <li class=COLOURS[i % COLOURS.len()]>
                                    <span class="font-medium">{s.label}</span> " " <span class="text-slate-700 dark:text-slate-300">{latest}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </figure>
    }
}
