//! The frame around every page: top bar, navigation and the content area.

use leptos::prelude::*;
use leptos_router::components::A;

const NAV: [(&str, &str); 5] = [
    ("/", "Dashboard"),
    ("/vms", "Virtual machines"),
    ("/services", "Services"),
    ("/organizations", "Organizations"),
    ("/settings", "Settings"),
];

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // The navigation can be folded away to give tables more room.
    let nav_open = RwSignal::new(true);

    view! {
        <header class="sticky top-0 z-10 flex h-14 items-center gap-3 border-b border-slate-200 bg-white/90 px-4 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
            <button
                type="button"
                data-testid="nav-toggle"
                class="rounded-md p-2 text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                aria-controls="main-nav"
                aria-expanded=move || nav_open.get().to_string()
                aria-label=move || if nav_open.get() { "Hide navigation" } else { "Show navigation" }
                on:click=move |_| nav_open.update(|open| *open = !*open)
            >
                <svg class="h-5 w-5" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
                    <path d="M3 5h14v2H3zM3 9h14v2H3zM3 13h14v2H3z" />
                </svg>
            </button>
            <A href="/" attr:class="flex items-center gap-2 font-semibold tracking-tight">
                <span class="inline-block h-6 w-6 rounded-md bg-gradient-to-br from-sky-500 to-indigo-600"></span>
                <span>"Strata"</span>
            </A>
        </header>
        <div class="flex">
            <nav
                id="main-nav"
                aria-label="Main"
                class="w-56 shrink-0 border-r border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900"
                class:hidden=move || !nav_open.get()
            >
                <ul class="space-y-1">
                    {NAV
                        .into_iter()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <A
                                        href=href
                                        exact=true
                                        attr:class="block rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-sky-50 aria-[current=page]:text-sky-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-sky-950 dark:aria-[current=page]:text-sky-300"
                                    >
                                        {label}
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <main class="min-h-[calc(100vh-3.5rem)] flex-1 p-6 lg:p-8">{children()}</main>
        </div>
    }
}
