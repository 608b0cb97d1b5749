//! A small inline line chart (SVG, no library), and the scaling the larger charts share.

use leptos::prelude::*;

/// SVG `points` for values laid out between `x0..x1` (data units) and `0..y_max`, in a box of
/// `width` × `height` pixels; higher values are drawn higher.
pub fn points(
    data: &[(f64, f64)],
    (x0, x1): (f64, f64),
    y_max: f64,
    width: f64,
    height: f64,
) -> String {
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let top = if y_max > 0.0 { y_max } else { 1.0 };
    data.iter()
        .map(|(x, y)| {
            let px = (x - x0) / span * width;
            let py = height - (y / top).clamp(0.0, 1.0) * (height - 1.0) - 0.5;
            format!("{px:.1},{py:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The largest value, never below `floor` (so a flat, idle line stays near the bottom).
pub fn ceiling(values: impl IntoIterator<Item = f64>, floor: f64) -> f64 {
    values.into_iter().fold(floor, f64::max)
}

#[component]
pub fn Sparkline(
    #[prop(into)] values: Signal<Vec<f64>>,
    #[prop(default = 120)] width: u32,
    #[prop(default = 24)] height: u32,
    /// What the line shows, for assistive technology and the tooltip.
    #[prop(optional)]
    label: &'static str,
) -> impl IntoView {
    let line = move || {
        values.with(|v| {
            let data: Vec<(f64, f64)> = v.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect();
            let last = v.len().saturating_sub(1) as f64;
            points(
                &data,
                (0.0, last),
                ceiling(v.iter().copied(), 1.0),
                f64::from(width),
                f64::from(height),
            )
        })
    };
    let title = move || {
        values.with(|v| match v.last() {
            Some(y) => format!("{label}: {y:.1}"),
            None => format!("{label}: no samples yet"),
        })
    };
    view! {
        <svg class="text-sky-600 dark:text-sky-400" data-testid="sparkline" role="img"
            width=width height=height viewBox=format!("0 0 {width} {height}")
            data-count=move || values.with(Vec::len)>
            <title>{title}</title>
            <line x1="0" x2=width y1=height y2=height class="stroke-slate-200 dark:stroke-slate-700" stroke-width="1" />
            <polyline points=line fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" />
        </svg>
    }
}
