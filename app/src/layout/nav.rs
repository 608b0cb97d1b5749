//! The main navigation: every area, and Users and Nodes for platform administrators.

use leptos::prelude::*;
use leptos_router::components::A;
use model::auth::Me;
use model::AppError;

use crate::components::loaded::loaded;

const NAV: [(&str, &str); 8] = [
    ("/", "Dashboard"),
    ("/vms", "Virtual machines"),
    ("/images", "Images"),
    ("/services", "Services"),
    ("/organizations", "Organizations"),
    ("/operations", "Operations"),
    ("/audit", "Audit"),
    ("/settings", "Settings"),
];
const LINK: &str = "block rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-sky-50 aria-[current=page]:text-sky-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-sky-950 dark:aria-[current=page]:text-sky-300";

#[component]
pub fn MainNav(
    me: Resource<Result<Option<Me>, AppError>>,
    #[prop(into)] hidden: Signal<bool>,
) -> impl IntoView {
    view! {
        <nav
            id="main-nav"
            aria-label="Main"
            // On a phone it lies over the page (fixed, under the top bar) instead of taking a
            // third of its width.
            class="w-56 shrink-0 border-r border-slate-200 bg-white p-3 max-md:fixed max-md:bottom-0 max-md:left-0 max-md:top-14 max-md:z-20 max-md:overflow-y-auto max-md:shadow-lg dark:border-slate-800 dark:bg-slate-900"
            class:hidden=move || hidden.get()
        >
            <ul class="space-y-1">
                {NAV
                    .into_iter()
                    .map(|(href, label)| {
                        view! {
                            <li>
                                <A href=href exact=true attr:class=LINK>
                                    {label}
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        loaded(me).await.and_then(Result::ok).flatten().filter(|m| m.is_admin).map(|_| view! {
                            <li>
                                <A href="/admin/users" exact=true attr:class=LINK>
                                    "Users"
                                </A>
                            </li>
                            <li>
                                <A href="/admin/nodes" exact=true attr:class=LINK>
                                    "Nodes"
                                </A>
                            </li>
                        })
                    })}
                </Transition>
            </ul>
        </nav>
    }
}
