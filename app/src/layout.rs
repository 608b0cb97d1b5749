//! The frame around every page: top bar with the signed-in person, navigation, content area.
//! Sign-in, sign-up and recovery pages get the bare frame.

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_location, use_navigate},
};

use crate::api::auth::{get_me, sign_out};
use crate::api::orgs::list_organizations;
use crate::browser;
use crate::components::ui;

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
pub fn Layout(children: Children) -> impl IntoView {
    // The navigation can be folded away to give tables more room.
    let nav_open = RwSignal::new(true);
    let path = use_location().pathname;
    let public = move || matches!(path.get().as_str(), "/signin" | "/signup" | "/recover");
    let me = Resource::new(|| (), |_| get_me());
    let live = crate::live::provide_live();
    let signout = Action::new(|_: &()| sign_out());
    // Only ask for organizations when someone is signed in: the call would answer 401 (and
    // give a server-rendered public page that status) for anonymous visitors.
    let orgs = Resource::new(
        || (),
        |_| async {
            match get_me().await {
                Ok(Some(_)) => list_organizations().await.unwrap_or_default(),
                _ => Vec::new(),
            }
        },
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = signout.value().get() {
            browser::go_to("/signin");
        }
    });

    view! {
        <header class="sticky top-0 z-10 flex h-14 items-center gap-3 border-b border-slate-200 bg-white/90 px-4 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
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
            <div class="ml-auto flex items-center gap-3">
                <Transition fallback=|| ()>
                    {move || {
                        let navigate = navigate.clone();
                        Suspend::new(async move {
                            let list = crate::components::loaded::loaded(orgs).await.unwrap_or_default();
                            (!list.is_empty()).then(|| {
                                let current = path.get_untracked();
                                view! {
                                    <select
                                        aria-label="Switch organization"
                                        data-testid="org-switcher"
                                        class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900"
                                        on:change=move |ev| {
                                            let id = event_target_value(&ev);
                                            if !id.is_empty() {
                                                navigate(&format!("/organizations/{id}"), Default::default());
                                            }
                                        }
                                    >
                                        <option value="">"Organization…"</option>
                                        {list
                                            .into_iter()
                                            .map(|o| {
                                                let selected = current == format!("/organizations/{}", o.id);
                                                view! { <option value=o.id.clone() selected=selected>{o.name.clone()}</option> }
                                            })
                                            .collect_view()}
                                    </select>
                                }
                            })
                        })
                    }}
                </Transition>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        crate::components::loaded::loaded(me).await.and_then(Result::ok).flatten().map(|me| view! {
                            <crate::live::LiveIndicator />
                            <span class="text-sm text-slate-600 dark:text-slate-300" data-testid="me">{me.display_name}</span>
                            <button
                                type="button"
                                class=ui::BTN_SECONDARY
                                data-testid="sign-out"
                                on:click=move |_| {
                                    live.status.set(crate::live::LiveStatus::SignedOut);
                                    signout.dispatch(());
                                }
                            >
                                "Sign out"
                            </button>
                        })
                    })}
                </Transition>
            </div>
        </header>
        <div class="flex">
            <nav
                id="main-nav"
                aria-label="Main"
                class="w-56 shrink-0 border-r border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900"
                class:hidden=move || public() || !nav_open.get()
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
                            crate::components::loaded::loaded(me).await.and_then(Result::ok).flatten().filter(|m| m.is_admin).map(|_| view! {
                                <li>
                                    <A href="/admin/users" exact=true attr:class=LINK>
                                        "Users"
                                    </A>
                                </li>
                            })
                        })}
                    </Transition>
                </ul>
            </nav>
            <main class="min-h-[calc(100vh-3.5rem)] flex-1 p-6 lg:p-8">{children()}</main>
        </div>
    }
}
