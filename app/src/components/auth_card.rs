//! The centered card that sign-in, sign-up and recovery pages use.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mx-auto mt-10 max-w-md rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h1 class="text-xl font-semibold tracking-tight">{title}</h1>
            <div class="mt-4 space-y-4">{children()}</div>
        </div>
    }
}
