//! Recovery: a person who lost every passkey registers a new one through an admin's link.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use model::AppError;

use crate::api::auth::{begin_recovery, finish_recovery};
use crate::browser;
use crate::components::{auth_card::AuthCard, error_notice::ErrorNotice, ui};

#[component]
pub fn RecoverPage() -> impl IntoView {
    let query = use_query_map();
    let recover = Action::new_local(move |_: &()| {
        let token = query.read_untracked().get("token").unwrap_or_default();
        async move {
            let start = begin_recovery(token).await?;
            let credential = browser::passkey(&start.options, true).await?;
            finish_recovery(start.ceremony_id, credential).await?;
            Ok::<_, AppError>(())
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = recover.value().get() {
            browser::go_to("/settings");
        }
    });
    view! {
        <AuthCard title="Recover your account">
            <p class="text-sm text-slate-600 dark:text-slate-400">
                "An administrator gave you this link so you can register a new passkey. It works once."
            </p>
            <button
                type="button"
                class=format!("{} w-full", ui::BTN_PRIMARY)
                data-testid="recover"
                disabled=recover.pending()
                on:click=move |_| {
                    recover.dispatch(());
                }
            >
                "Register a new passkey"
            </button>
            {move || recover.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
        </AuthCard>
    }
}
