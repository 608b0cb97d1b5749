//! A service's deployments, newest first, and the log of the one picked (the newest unless
//! another is), which grows live while it runs.

use leptos::prelude::*;
use model::services::{DeploymentLogLine, DeploymentState, DeploymentView};

use super::state::Drafts;
use crate::components::ui;

#[component]
pub fn Deployments(
    deployments: Vec<DeploymentView>,
    /// The id of the deployment whose log is shown.
    shown: Memo<Option<String>>,
    /// That log: (deployment id, lines).
    log: RwSignal<(String, Vec<DeploymentLogLine>)>,
    drafts: Drafts,
) -> impl IntoView {
    let numbers: Vec<(String, i64)> = deployments
        .iter()
        .map(|d| (d.id.clone(), d.number))
        .collect();
    let title = move || {
        let id = shown.get();
        numbers
            .iter()
            .find(|(d, _)| Some(d) == id.as_ref())
            .map(|(_, n)| format!("Log of deployment {n}"))
            .unwrap_or_else(|| "Log".into())
    };
    view! {
        <section class=format!("{} mb-6", ui::CARD)>
            <h2 class="text-base font-semibold">"Deployments"</h2>
            {if deployments.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400">"No deployments yet."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-2 max-h-80 overflow-auto">
                    <table class="w-full text-left text-sm">
                        <thead class="text-slate-500 dark:text-slate-400">
                            <tr><th class="py-1">"#"</th><th>"Kind"</th><th>"State"</th><th>"Config"</th><th>"Requested by"</th><th>"Started"</th><th>"Finished"</th><th></th></tr>
                        </thead>
                        <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                            {deployments.into_iter().map(|d| {
                                let id = d.id.clone();
                                let here = d.id.clone();
                                let picked = move || shown.get().as_deref() == Some(here.as_str());
                                view! {
                                    <tr data-testid="deployment-row" data-number=d.number data-kind=d.kind.as_str()
                                        class=move || if picked() { "bg-sky-50 dark:bg-sky-950/40" } else { "" }>
                                        <td class="py-1.5 font-medium">{d.number}</td>
                                        <td>{d.kind.label()}</td>
                                        <td><span class=state_colour(d.state) data-testid="deployment-state" data-state=d.state.as_str()>{d.state.as_str()}</span></td>
                                        <td>{format!("v{} · {}", d.config_version, d.version)}</td>
                                        <td>{d.requested_by.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td class="text-xs">{d.created_at.clone()}</td>
                                        <td class="text-xs">{d.finished_at.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>
                                            <button type="button" class=ui::BTN_SECONDARY data-testid="deployment-show-log"
                                                on:click=move |_| drafts.deployment.set(Some(id.clone()))>"Log"</button>
                                        </td>
                                    </tr>
                                    {d.error.clone().map(|e| view! {
                                        <tr><td></td><td colspan="7" class="pb-2 text-xs text-red-700 dark:text-red-400" data-testid="deployment-error">{e}</td></tr>
                                    })}
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
            <h3 class="mt-4 text-sm font-semibold" data-testid="deployment-log-title">{title}</h3>
            <ol class="mt-1 max-h-72 overflow-auto rounded-md bg-slate-950 p-3 font-mono text-xs text-slate-100" data-testid="deployment-log"
                data-deployment=move || log.with(|(id, _)| id.clone())>
                {move || log.with(|(_, lines)| {
                    if lines.is_empty() {
                        return view! { <li class="text-slate-400">"No lines yet."</li> }.into_any();
                    }
                    lines.iter().map(|l| {
                        let colour = match l.level.as_str() {
                            "error" => "text-red-400",
                            "warn" => "text-amber-300",
                            _ => "text-slate-100",
                        };
                        view! {
                            <li data-testid="deployment-log-line" data-level=l.level.clone() class=colour>
                                <span class="text-slate-500 dark:text-slate-400">{l.at.clone()}</span> " " {l.message.clone()}
                            </li>
                        }
                    }).collect_view().into_any()
                })}
            </ol>
        </section>
    }
}

fn state_colour(state: DeploymentState) -> &'static str {
    match state {
        DeploymentState::Succeeded => "text-emerald-700 dark:text-emerald-400",
        DeploymentState::Failed => "text-red-700 dark:text-red-400",
        DeploymentState::Cancelled => "text-slate-500 dark:text-slate-400",
        _ => "text-sky-700 dark:text-sky-400",
    }
}
