//! What a list shows before anything exists: what the thing is and what comes next.

use leptos::prelude::*;

#[component]
pub fn EmptyState(
    /// Headline, e.g. "No virtual machines yet".
    title: &'static str,
    /// One or two sentences about what will appear here.
    body: &'static str,
) -> impl IntoView {
    view! {
        <div
            class="rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center dark:border-slate-700 dark:bg-slate-900"
            data-testid="empty-state"
        >
            <h2 class="text-base font-semibold">{title}</h2>
            <p class="mx-auto mt-2 max-w-md text-sm text-slate-600 dark:text-slate-400">{body}</p>
        </div>
    }
}
