//! Services (empty until the services issue lands).

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn ServicesPage() -> impl IntoView {
    view! {
        <PageHeader title="Services" subtitle="Named workloads with versioned configuration and rolling deployments." />
        <EmptyState
            title="No services yet"
            body="A service runs one image as several replicas. Services you can see will be listed here with their status."
        />
    }
}
