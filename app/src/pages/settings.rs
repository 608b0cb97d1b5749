//! Settings (security settings arrive with passkeys).

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <PageHeader title="Settings" subtitle="Your account and this installation." />
        <EmptyState
            title="Nothing to configure yet"
            body="Your passkeys and active sessions will be managed here once sign-in is enabled."
        />
    }
}
