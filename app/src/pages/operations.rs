//! Every operation the caller may see, newest first, with live progress and cancel.

use leptos::prelude::*;

use crate::api::operations::list_operations;
use crate::components::{
    error_notice::ErrorNotice, loaded::loaded, operations_list::OperationsList,
    page_header::PageHeader, refresh::tick_while, ui,
};

#[component]
pub fn OperationsPage() -> impl IntoView {
    let busy = RwSignal::new(false);
    let changed = RwSignal::new(0u32);
    let tick = tick_while(move || busy.try_get_untracked().unwrap_or(false), 1500);
    let live = crate::live::use_live();
    let ops = Resource::new(
        move || (tick.get(), changed.get(), live.vms.get()),
        |_| list_operations(),
    );
    view! {
        <PageHeader title="Operations" subtitle="Long work in flight and finished: creating disks, booting, stopping, deleting." />
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Some(ops) = loaded(ops).await else { return ().into_any() };
                match ops {
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    Ok(list) => {
                        busy.set(list.iter().any(|o| !o.state.is_finished()));
                        view! {
                            <section class=ui::CARD>
                                <OperationsList ops=list show_target=true on_change=Callback::new(move |_| changed.update(|c| *c += 1)) />
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
