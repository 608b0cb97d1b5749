//! Every operation the caller may see, newest first, with live progress and cancel.

use leptos::prelude::*;

use crate::api::operations::list_operations;
use crate::components::{
    loaded::Loaded, operations_list::OperationsList, page_header::PageHeader, ui,
};

#[component]
pub fn OperationsPage() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let live = crate::live::use_live();
    // Live events say when an operation moved on or a VM or service changed: no polling.
    let ops = Resource::new(
        move || {
            (
                changed.get(),
                live.operations.get(),
                live.vms.get(),
                live.services.get(),
            )
        },
        |_| list_operations(),
    );
    view! {
        <PageHeader title="Operations" subtitle="Long work in flight and finished: creating disks, booting, stopping, deleting." />
        <Loaded resource=ops let:list>
            <section class=ui::CARD>
                <OperationsList ops=list show_target=true on_change=Callback::new(move |_| changed.update(|c| *c += 1)) />
            </section>
        </Loaded>
    }
}
