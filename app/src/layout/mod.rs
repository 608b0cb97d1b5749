//! The frame around every page: top bar with the signed-in person, navigation, content area.
//! Sign-in, sign-up and recovery pages get the bare frame.

mod nav;
mod top_bar;

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::api::auth::get_me;
use crate::api::orgs::list_organizations;
use model::orgs::OrgSummary;
use nav::MainNav;
use top_bar::{Account, OrgSwitcher};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // The navigation can be folded away to give tables more room. On a narrow screen it starts
    // folded (it would cover the page); the server renders it open, the browser decides.
    let nav_open = RwSignal::new(true);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < 768.0)
        {
            nav_open.set(false);
        }
    });
    let path = use_location().pathname;
    let public = move || matches!(path.get().as_str(), "/signin" | "/signup" | "/recover");
    let me = Resource::new(|| (), |_| get_me());
    let live = crate::live::provide_live();
    // Only ask for organizations when someone is signed in: the call would answer 401 (and
    // give a server-rendered public page that status) for anonymous visitors. Asked again
    // whenever grants change, so a person just added to an organization sees it at once.
    let orgs = Resource::new(
        move || live.access.get(),
        |_| async {
            match get_me().await {
                Ok(Some(_)) => list_organizations().await.unwrap_or_default(),
                _ => Vec::new(),
            }
        },
    );
    // Pages whose offer depends on membership follow `live.memberships`, which moves only when
    // this list really changed.
    Effect::new(move |before: Option<Option<Vec<OrgSummary>>>| {
        let before = before.flatten();
        let now = orgs.get();
        if let (Some(b), Some(n)) = (&before, &now) {
            if b != n {
                live.memberships.try_update(|c| *c += 1);
            }
        }
        now.or(before)
    });

    view! {
        <header class="sticky top-0 z-10 flex h-14 items-center gap-2 border-b border-slate-200 bg-white/90 px-2 backdrop-blur sm:gap-3 sm:px-4 dark:border-slate-800 dark:bg-slate-900/90">
            <button
                type="button"
                data-testid="nav-toggle"
                class="rounded-md p-2 text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                class:hidden=public
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
            <div class="ml-auto flex min-w-0 items-center gap-2 sm:gap-3">
                <OrgSwitcher orgs />
                <Account me />
            </div>
        </header>
        <div class="flex">
            <MainNav me hidden=Signal::derive(move || public() || !nav_open.get()) />
            <main class="min-h-[calc(100vh-3.5rem)] min-w-0 flex-1 p-4 sm:p-6 lg:p-8">{children()}</main>
        </div>
    }
}
