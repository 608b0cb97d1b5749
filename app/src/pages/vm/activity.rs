//! What is being done to the VM (its operations, cancellable) and what happened (its timeline).

use leptos::prelude::*;
use model::vms::VmDetail;

use super::state::Actions;
use crate::components::{operations_list::OperationsList, ui};

#[component]
pub fn VmActivity(detail: VmDetail, actions: Actions) -> impl IntoView {
    let d = detail;
    view! {
        <div class="mb-6 grid gap-6 xl:grid-cols-2">
            <section class=ui::CARD aria-labelledby="ops-title">
                <h2 id="ops-title" class="mb-2 text-base font-semibold">"Operations"</h2>
                <OperationsList ops=d.operations.clone() on_change=Callback::new(move |_| actions.cancelled.update(|c| *c += 1)) />
            </section>
            <section class=ui::CARD aria-labelledby="events-title">
                <h2 id="events-title" class="mb-2 text-base font-semibold">"Timeline"</h2>
                <ol class="space-y-1 text-sm" data-testid="vm-events">
                    {d.events.iter().map(|e| view! {
                        <li data-kind=e.kind.clone()><span class="text-xs text-slate-500 dark:text-slate-400">{e.at.clone()}</span> " " {e.message.clone()}</li>
                    }).collect_view()}
                </ol>
            </section>
        </div>
    }
}
