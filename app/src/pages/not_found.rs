//! The page for an address that leads nowhere; answered with HTTP 404.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <div class="mx-auto max-w-lg py-16 text-center">
            <p class="text-sm font-semibold text-sky-600 dark:text-sky-400">"404"</p>
            <h1 class="mt-2 text-3xl font-semibold tracking-tight">"Page not found"</h1>
            <p class="mt-3 text-slate-600 dark:text-slate-400">
                "There is nothing at this address. It may have been moved or deleted, or you may not have access to it."
            </p>
            <A
                href="/"
                attr:class="mt-6 inline-block rounded-md bg-sky-700 px-4 py-2 text-sm font-medium text-white hover:bg-sky-800"
            >
                "Back to the dashboard"
            </A>
        </div>
    }
}
