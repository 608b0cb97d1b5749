//! Organizations (empty until the permissions issue lands).

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn OrganizationsPage() -> impl IntoView {
    view! {
        <PageHeader title="Organizations" subtitle="Groups of people who share machines and services." />
        <EmptyState
            title="No organizations yet"
            body="Organizations you own or belong to will be listed here, with their members and roles."
        />
    }
}
