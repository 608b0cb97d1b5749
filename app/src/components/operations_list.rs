//! A list of operations with their progress steps and a cancel button where allowed.

use leptos::prelude::*;
use model::operations::{OperationState, OperationView};

use crate::api::operations::cancel_operation;
use crate::components::{error_notice::ErrorNotice, ui};

#[component]
pub fn OperationsList(
    ops: Vec<OperationView>,
    /// Called after a cancel was accepted (to refetch).
    on_change: Callback<()>,
    #[prop(optional)] show_target: bool,
) -> impl IntoView {
    let cancel = Action::new(|id: &String| cancel_operation(id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = cancel.value().get() {
            on_change.run(());
        }
    });
    if ops.is_empty() {
        return view! { <p class="text-sm text-slate-500 dark:text-slate-400">"No operations yet."</p> }.into_any();
    }
    view! {
        {move || cancel.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
            {ops.into_iter().map(|op| {
                let id = op.id.clone();
                let colour = match op.state {
                    OperationState::Succeeded => "text-emerald-700 dark:text-emerald-400",
                    OperationState::Failed => "text-red-700 dark:text-red-400",
                    OperationState::Cancelled => "text-slate-500 dark:text-slate-400",
                    _ => "text-sky-700 dark:text-sky-400",
                };
                let last = op.steps.last().map(|s| s.step.clone()).unwrap_or_default();
                view! {
                    <li class="py-2" data-testid="operation-row" data-kind=op.kind.clone() data-state=op.state.as_str()>
                        <div class="flex flex-wrap items-center justify-between gap-2">
                            <span>
                                <span class="font-medium">{op.kind.clone()}</span>
                                {show_target.then(|| {
                                    let name = op.target_name.clone().unwrap_or_else(|| op.target_id.chars().take(8).collect());
                                    view! { <span class="text-slate-500 dark:text-slate-400">" on " {name}</span> }
                                })}
                                " · " <span class=colour>{op.state.as_str()}</span>
                                {(op.attempt > 1).then(|| format!(" · attempt {} of {}", op.attempt, op.max_attempts))}
                            </span>
                            <span class="text-xs text-slate-500 dark:text-slate-400">
                                {op.requested_by.clone().map(|u| format!("by {u}, ")).unwrap_or_default()}
                                {op.created_at.clone()}
                            </span>
                        </div>
                        <p class="text-xs text-slate-600 dark:text-slate-400" data-testid="operation-step">{last}</p>
                        {op.error.clone().map(|e| view! { <p class="text-xs text-red-700 dark:text-red-400">{e}</p> })}
                        <details class="text-xs text-slate-500 dark:text-slate-400">
                            <summary>"Steps"</summary>
                            <ol class="ml-4 list-decimal">
                                {op.steps.iter().map(|s| view! { <li>{s.at.clone()} " — " {s.step.clone()}</li> }).collect_view()}
                            </ol>
                        </details>
                        {op.can_cancel.then(|| view! {
                            <button type="button" class=format!("{} mt-1", ui::BTN_SECONDARY) data-testid="operation-cancel"
                                on:click=move |_| { cancel.dispatch(id.clone()); }>"Cancel"</button>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }.into_any()
}
