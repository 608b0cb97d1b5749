//! A last-hour line chart of several labelled series (one per replica): a value axis with its
//! unit, a time axis, gridlines, each minute's values on hover (a native tooltip per slice of
//! the hour), and each series' latest value as text.

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
/// Hover targets: the hour in minutes.
const SLICES: usize = 60;

/// A value for an axis label: no decimals from 10 up.
fn short(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// "now", "12 min ago": how long before the chart's end.
fn ago(ms: f64) -> String {
    let minutes = (ms / 60_000.0).round();
    if minutes < 1.0 {
        "now".into()
    } else {
        format!("{minutes:.0} min ago")
    }
}

/// The tooltip of each minute of the hour that has samples: (slice, text naming each series'
/// newest value in it).
fn slices(all: &[Series], (x0, x1): (f64, f64), unit: &str) -> Vec<(usize, String)> {
    let width = (x1 - x0) / SLICES as f64;
    (0..SLICES)
        .filter_map(|k| {
            let (from, to) = (x0 + width * k as f64, x0 + width * (k + 1) as f64);
            let values: Vec<String> = all
                .iter()
                .filter_map(|s| {
                    let (_, v) = s
                        .points
                        .iter()
                        .rev()
                        .find(|(t, _)| (*t as f64) >= from && (*t as f64) <= to)?;
                    Some(format!("{}: {v:.1} {unit}", s.label))
                })
                .collect();
            (!values.is_empty()).then(|| (k, format!("{}: {}", ago(x1 - to), values.join(", "))))
        })
        .collect()
}

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
            ((end - HOUR_MS) as f64, end as f64, top)
        })
    });
    let empty = move || series.with(|all| all.iter().all(|s| s.points.is_empty()));
    view! {
        <figure class="min-w-0" data-testid="metrics-chart" data-title=title>
            <figcaption class="flex items-baseline justify-between text-sm font-medium">
                {title}
                <span class="text-xs font-normal text-slate-500 dark:text-slate-400">
                    {move || (!empty()).then(|| format!("top {:.1} {unit}", scale.get().2))}
                </span>
            </figcaption>
            {move || if empty() {
                view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="metrics-empty">"No samples yet"</p> }.into_any()
            } else {
                let (x0, x1, top) = scale.get();
                let slice = WIDTH / SLICES as f64;
                view! {
                    <div class="mt-1 flex gap-1">
                        <div class="flex w-12 shrink-0 flex-col justify-between text-right text-[10px] leading-none text-slate-500 dark:text-slate-400" data-testid="chart-y">
                            <span>{format!("{} {unit}", short(top))}</span>
                            <span>{short(top / 2.0)}</span>
                            <span>"0"</span>
                        </div>
                        <svg class="h-24 min-w-0 flex-1 rounded bg-slate-50 dark:bg-slate-950" viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                            preserveAspectRatio="none" role="img" aria-hidden="true">
                            {[0.25, 0.5, 0.75].into_iter().map(|f| view! {
                                <line class="text-slate-200 dark:text-slate-800" x1=WIDTH * f x2=WIDTH * f y1="0" y2=HEIGHT
                                    stroke="currentColor" vector-effect="non-scaling-stroke" />
                            }).collect_view()}
                            {[0.5].into_iter().map(|f| view! {
                                <line class="text-slate-200 dark:text-slate-800" x1="0" x2=WIDTH y1=HEIGHT * f y2=HEIGHT * f
                                    stroke="currentColor" vector-effect="non-scaling-stroke" />
                            }).collect_view()}
                            {series.get().into_iter().enumerate().map(|(i, s)| {
                                let data: Vec<(f64, f64)> = s.points.iter().map(|(t, v)| (*t as f64, *v)).collect();
                                view! {
                                    <polyline class=COLOURS[i % COLOURS.len()] points=points(&data, (x0, x1), top, WIDTH, HEIGHT)
                                        fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" />
                                }
                            }).collect_view()}
                            {series.with(|all| slices(all, (x0, x1), unit)).into_iter().map(|(k, text)| view! {
                                <rect class="fill-transparent hover:fill-slate-400/20" data-testid="chart-slice" x=slice * k as f64 y="0"
                                    width=slice height=HEIGHT pointer-events="all"><title>{text}</title></rect>
                            }).collect_view()}
                        </svg>
                    </div>
                    <div class="ml-[3.25rem] flex justify-between text-[10px] leading-tight text-slate-500 dark:text-slate-400" data-testid="chart-x">
                        <span>"60 min ago"</span><span>"45"</span><span>"30"</span><span>"15"</span><span>"now"</span>
                    </div>
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
