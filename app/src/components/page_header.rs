//! The title row atop every page.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PageHeader(
    title: &'static str,
    #[prop(optional)] subtitle: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                {subtitle
                    .map(|s| {
                        view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{s}</p> }
                    })}
            </div>
            {children.map(|c| c())}
        </div>
    }
}
