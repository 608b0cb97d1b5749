//! The configuration's history: every saved version with its author, time and note; view one,
//! diff two, or roll back to an older one (saved again as a new version and deployed).

use leptos::prelude::*;
use model::services::ConfigVersion;

use super::state::{toggle_pick, Actions, Drafts};
use crate::components::{error_notice::ErrorNotice, ui};

#[component]
pub fn History(
    service_id: String,
    /// Newest first.
    configs: Vec<ConfigVersion>,
    /// The version the replicas should run.
    current: i64,
    can_rollback: bool,
    actions: Actions,
    drafts: Drafts,
) -> impl IntoView {
    let picked = move || drafts.compare.get();
    let diff_id = service_id.clone();
    let diff = move |_| {
        let p = drafts.compare.get_untracked();
        if let (Some(a), Some(b)) = (p.iter().min(), p.iter().max()) {
            actions.diff.dispatch((diff_id.clone(), *a, *b));
        }
    };
    view! {
        <section class=ui::CARD>
            <div class="flex items-center justify-between gap-2">
                <h2 class="text-base font-semibold">"History"</h2>
                <button type="button" class=ui::BTN_SECONDARY data-testid="config-diff-go"
                    disabled=move || picked().len() != 2 on:click=diff>
                    {move || match picked().as_slice() {
                        [a, b] => format!("Diff v{} → v{}", a.min(b), a.max(b)),
                        _ => "Diff".to_owned(),
                    }}
                </button>
            </div>
            <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">"Tick two versions to compare them."</p>
            <ul class="mt-2 max-h-80 divide-y divide-slate-200 overflow-auto text-sm dark:divide-slate-800" data-testid="config-history">
                {configs.into_iter().map(|c| {
                    let v = c.version;
                    let rollback_id = service_id.clone();
                    let json = c.config.clone();
                    view! {
                        <li class="py-2" data-testid="config-version" data-version=v>
                            <div class="flex flex-wrap items-center gap-2">
                                <input type="checkbox" data-testid="config-compare" title=format!("Compare v{v}")
                                    prop:checked=move || drafts.compare.with(|p| p.contains(&v))
                                    on:change=move |_| drafts.compare.update(|p| toggle_pick(p, v)) />
                                <span class="font-medium">{format!("v{v}")}</span>
                                {(v == current).then(|| view! { <span class="rounded bg-sky-100 px-1.5 text-xs text-sky-800 dark:bg-sky-900/40 dark:text-sky-300">"current"</span> })}
                                <span class="text-xs text-slate-500 dark:text-slate-400">
                                    {c.author.clone().map(|a| format!("by {a}, ")).unwrap_or_default()} {c.created_at.clone()}
                                </span>
                                <span class="ml-auto flex gap-2">
                                    <button type="button" class=ui::BTN_SECONDARY data-testid="config-view"
                                        on:click=move |_| drafts.viewing.update(|s| *s = if *s == Some(v) { None } else { Some(v) })>
                                        {move || if drafts.viewing.get() == Some(v) { "Hide" } else { "View" }}
                                    </button>
                                    {(can_rollback && v < current).then(|| view! {
                                        <button type="button" class=ui::BTN_SECONDARY data-testid="config-rollback"
                                            disabled=move || actions.rollback.pending().get()
                                            on:click=move |_| { actions.rollback.dispatch((rollback_id.clone(), v)); }>"Roll back"</button>
                                    })}
                                </span>
                            </div>
                            {(!c.note.is_empty()).then(|| view! { <p class="text-xs text-slate-600 dark:text-slate-400" data-testid="config-note">{c.note.clone()}</p> })}
                            {move || (drafts.viewing.get() == Some(v)).then(|| view! {
                                <pre class="mt-1 max-h-60 overflow-auto rounded-md bg-slate-50 p-2 font-mono text-xs dark:bg-slate-950"
                                    data-testid="config-json">{json.clone()}</pre>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || actions.diff.value().get().map(|r| match r {
                Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                Ok(lines) => view! {
                    <pre class="mt-3 max-h-80 overflow-auto rounded-md bg-slate-50 p-2 font-mono text-xs dark:bg-slate-950" data-testid="config-diff">
                        {lines.into_iter().map(|l| {
                            let class = match l.tag {
                                '+' => "block bg-emerald-50 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
                                '-' => "block bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-300",
                                _ => "block text-slate-600 dark:text-slate-400",
                            };
                            view! { <span class=class data-tag=l.tag.to_string()>{format!("{} {}", l.tag, l.text)}</span> }
                        }).collect_view()}
                    </pre>
                }.into_any(),
            })}
        </section>
    }
}
