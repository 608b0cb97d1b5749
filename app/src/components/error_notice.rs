//! How a failed load is shown: the safe message from the server, never internal detail.

use leptos::prelude::*;
use model::AppError;

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! {
        <div
            role="alert"
            class="rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
        >
            {error.to_string()}
        </div>
    }
}
