//! Virtual machines (empty until the VM issue lands).

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn VmsPage() -> impl IntoView {
    view! {
        <PageHeader title="Virtual machines" subtitle="QEMU virtual machines on your nodes." />
        <EmptyState
            title="No virtual machines yet"
            body="Virtual machines you create, or that are shared with you, will be listed here with their live state."
        />
    }
}
