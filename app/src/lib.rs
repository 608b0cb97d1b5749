//! Strata's user interface: the HTML shell, the router, the pages and their server functions.
//!
//! Rendered on the server (feature `ssr`) and hydrated in the browser (feature `hydrate`).
//! Server functions here stay thin: they find the caller's context and call one `control` use
//! case.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
pub mod browser;
pub mod components;
pub mod layout;
pub mod live;
pub mod pages;
pub mod routes;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
};

use crate::layout::Layout;
use crate::pages::not_found::NotFound;
use crate::routes as page;

/// The HTML document around the app; rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="strata" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// The application: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Set once the browser has hydrated the page; tests and styles can rely on it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Strata".to_owned() } else { format!("{page} · Strata") }
        } />
        <Router>
            <div id="app" data-hydrated=move || hydrated.get().to_string()>
                <Layout>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("") view={Lazy::<page::Dashboard>::new()} ssr=SsrMode::InOrder />
                        <Route path=path!("vms") view={Lazy::<page::Vms>::new()} />
                        <Route path=path!("vms/:id") view={Lazy::<page::Vm>::new()} />
                        <Route path=path!("services") view={Lazy::<page::Services>::new()} />
                        <Route path=path!("services/:id") view={Lazy::<page::Service>::new()} />
                        <Route path=path!("organizations") view={Lazy::<page::Organizations>::new()} />
                        <Route path=path!("organizations/:id") view={Lazy::<page::Organization>::new()} />
                        <Route path=path!("networks/:id") view={Lazy::<page::Network>::new()} />
                        <Route path=path!("settings") view={Lazy::<page::Settings>::new()} />
                        <Route path=path!("admin/users") view={Lazy::<page::AdminUsers>::new()} />
                        <Route path=path!("admin/nodes") view={Lazy::<page::Nodes>::new()} />
                        <Route path=path!("audit") view={Lazy::<page::Audit>::new()} />
                        <Route path=path!("operations") view={Lazy::<page::Operations>::new()} />
                        <Route path=path!("images") view={Lazy::<page::Images>::new()} />
                        <Route path=path!("signin") view={Lazy::<page::Signin>::new()} />
                        <Route path=path!("signup") view={Lazy::<page::Signup>::new()} />
                        <Route path=path!("recover") view={Lazy::<page::Recover>::new()} />
                    </Routes>
                </Layout>
            </div>
        </Router>
    }
}
