//! Sign-in: one click with a discoverable passkey, or a username first.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};
use model::AppError;

use crate::api::auth::{begin_signin, finish_signin, get_signup_status};
use crate::browser;
use crate::components::{auth_card::AuthCard, error_notice::ErrorNotice, ui};

#[component]
pub fn SigninPage() -> impl IntoView {
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let signin = Action::new_local(move |name: &Option<String>| {
        let name = name.clone();
        async move {
            let start = begin_signin(name).await?;
            let credential = browser::passkey(&start.options, false).await?;
            finish_signin(start.ceremony_id, credential).await?;
            Ok::<_, AppError>(())
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = signin.value().get() {
            let next = query.read_untracked().get("next");
            browser::go_to(&browser::safe_next(next.as_deref()));
        }
    });
    let busy = signin.pending();
    let status = Resource::new(|| (), |_| get_signup_status());

    view! {
        <AuthCard title="Sign in to Strata">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    crate::components::loaded::loaded(status).await.and_then(Result::ok).filter(|s| s.first_account).map(|_| view! {
                        <p class="rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-800 dark:bg-sky-950 dark:text-sky-200" data-testid="no-accounts">
                            "This installation has no accounts yet. "
                            <A href="/signup" attr:class="font-medium underline">"Create the administrator account"</A>
                            " to get started."
                        </p>
                    })
                })}
            </Suspense>
            <button
                type="button"
                class=format!("{} w-full", ui::BTN_PRIMARY)
                data-testid="signin-passkey"
                disabled=busy
                on:click=move |_| {
                    signin.dispatch(None);
                }
            >
                "Sign in with a passkey"
            </button>
            <div class="text-center text-xs uppercase tracking-wide text-slate-500 dark:text-slate-400">"or"</div>
            <form
                class="space-y-3"
                on:submit=move |ev| {
                    ev.prevent_default();
                    signin.dispatch(Some(username.get()));
                }
            >
                <label class="block text-sm font-medium">
                    "Username"
                    <input
                        class=ui::INPUT
                        name="username"
                        autocomplete="username"
                        required
                        bind:value=username
                    />
                </label>
                <button type="submit" class=format!("{} w-full", ui::BTN_SECONDARY) disabled=busy>
                    "Continue with username"
                </button>
            </form>
            {move || {
                signin.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })
            }}
            <p class="text-sm text-slate-600 dark:text-slate-400">
                "No account yet? "
                <A href="/signup" attr:class="font-medium text-sky-700 dark:text-sky-400">
                    "Create one"
                </A>
            </p>
        </AuthCard>
    }
}
