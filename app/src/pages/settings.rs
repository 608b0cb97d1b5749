//! Settings → Security: passkeys (add, rename, remove) and sessions (revoke one or all others).
//!
//! Adding or removing a passkey and ending sessions need a recent passkey check; when the
//! server asks for one, the page runs it (a passkey prompt) and tries the change again.

use leptos::prelude::*;
use model::auth::needs_reauth;
use model::AppError;
use std::future::Future;

use crate::api::security::{
    begin_add_passkey, begin_reauth, finish_add_passkey, finish_reauth, list_passkeys,
    list_sessions, remove_passkey, rename_passkey, revoke_other_sessions, revoke_session,
};
use crate::browser;
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, page_header::PageHeader, ui};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <PageHeader title="Settings" subtitle="Your account's passkeys and signed-in devices." />
        <div class="space-y-6">
            <Passkeys />
            <Sessions />
        </div>
    }
}

/// Confirms the signed-in person with one of their passkeys (user verification).
async fn reauthenticate() -> Result<(), AppError> {
    let start = begin_reauth().await?;
    let credential = browser::passkey(&start.options, false).await?;
    finish_reauth(start.ceremony_id, credential).await
}

/// Runs a sensitive change; when the server wants a fresh passkey check first, runs it and
/// tries the change once more.
async fn confirmed<T, F, Fut>(change: F) -> Result<T, AppError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    match change().await {
        Err(e) if needs_reauth(&e) => {
            reauthenticate().await?;
            change().await
        }
        other => other,
    }
}

async fn add_passkey() -> Result<(), AppError> {
    let start = begin_add_passkey().await?;
    let credential = browser::passkey(&start.options, true).await?;
    finish_add_passkey(start.ceremony_id, credential).await
}

#[component]
fn Passkeys() -> impl IntoView {
    let keys = Resource::new(|| (), |_| list_passkeys());
    let add = Action::new_local(|_: &()| confirmed(add_passkey));
    let rename =
        Action::new(|(id, name): &(String, String)| rename_passkey(id.clone(), name.clone()));
    let remove = Action::new_local(|id: &String| {
        let id = id.clone();
        async move { confirmed(|| remove_passkey(id.clone())).await }
    });
    Effect::new(move |_| {
        let (a, r, d) = (
            add.version().get(),
            rename.version().get(),
            remove.version().get(),
        );
        if a + r + d > 0 {
            keys.refetch();
        }
    });
    let error = move || {
        [
            add.value().get(),
            rename.value().get(),
            remove.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    };

    view! {
        <section class=ui::CARD aria-labelledby="passkeys-title">
            <div class="flex items-center justify-between">
                <h2 id="passkeys-title" class="text-base font-semibold">"Passkeys"</h2>
                <button
                    type="button"
                    class=ui::BTN_SECONDARY
                    data-testid="add-passkey"
                    disabled=add.pending()
                    on:click=move |_| {
                        add.dispatch(());
                    }
                >
                    "Add a passkey"
                </button>
            </div>
            <Loaded resource=keys inset=true let:list>
                    {
                        {
                            let only_one = list.len() == 1;
                            view! {
                                <ul class="mt-3 divide-y divide-slate-200 dark:divide-slate-800" data-testid="passkey-list">
                                    {list
                                        .into_iter()
                                        .map(|k| {
                                            let name = RwSignal::new(k.name.clone());
                                            let (id_rename, id_remove) = (k.id.clone(), k.id.clone());
                                            view! {
                                                <li class="flex flex-wrap items-center gap-3 py-3" data-testid="passkey">
                                                    <input
                                                        class=format!("{} max-w-xs", ui::INPUT)
                                                        aria-label="Passkey name"
                                                        bind:value=name
                                                    />
                                                    <button
                                                        type="button"
                                                        class=ui::BTN_SECONDARY
                                                        on:click=move |_| {
                                                            rename.dispatch((id_rename.clone(), name.get()));
                                                        }
                                                    >
                                                        "Rename"
                                                    </button>
                                                    <span class="text-xs text-slate-500">
                                                        "Created " {k.created_at.clone()} " · Last used "
                                                        {k.last_used_at.clone().unwrap_or_else(|| "never".into())}
                                                    </span>
                                                    <button
                                                        type="button"
                                                        class=format!("{} ml-auto", ui::BTN_DANGER)
                                                        disabled=only_one
                                                        title=if only_one { "Your only passkey cannot be removed" } else { "" }
                                                        on:click=move |_| {
                                                            remove.dispatch(id_remove.clone());
                                                        }
                                                    >
                                                        "Remove"
                                                    </button>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                    }
            </Loaded>
            {move || error().map(|error| view! { <div class="mt-3"><ErrorNotice error /></div> })}
        </section>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| list_sessions());
    let revoke = Action::new_local(|id: &String| {
        let id = id.clone();
        async move { confirmed(|| revoke_session(id.clone())).await }
    });
    let revoke_others = Action::new_local(|_: &()| confirmed(revoke_other_sessions));
    Effect::new(move |_| {
        if revoke.version().get() + revoke_others.version().get() > 0 {
            sessions.refetch();
        }
    });
    let error = move || {
        revoke
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| revoke_others.value().get().and_then(Result::err))
    };

    view! {
        <section class=ui::CARD aria-labelledby="sessions-title">
            <div class="flex items-center justify-between">
                <h2 id="sessions-title" class="text-base font-semibold">"Signed-in sessions"</h2>
                <button
                    type="button"
                    class=ui::BTN_DANGER
                    data-testid="revoke-others"
                    on:click=move |_| {
                        revoke_others.dispatch(());
                    }
                >
                    "Sign out all other sessions"
                </button>
            </div>
            <Loaded resource=sessions inset=true let:list>
                    {
                        view! {
                            <ul class="mt-3 divide-y divide-slate-200 dark:divide-slate-800" data-testid="session-list">
                                {list
                                    .into_iter()
                                    .map(|s| {
                                        let id = s.id.clone();
                                        view! {
                                            <li class="flex flex-wrap items-center gap-3 py-3" data-testid="session">
                                                <div class="min-w-0 flex-1">
                                                    <div class="truncate text-sm font-medium">{s.user_agent.clone()}</div>
                                                    <div class="text-xs text-slate-500">
                                                        {s.ip.clone()} " · signed in " {s.created_at.clone()} " · last seen " {s.last_seen_at.clone()}
                                                    </div>
                                                </div>
                                                {if s.current {
                                                    view! { <span class="rounded bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200">"This session"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <button
                                                            type="button"
                                                            class=ui::BTN_DANGER
                                                            on:click=move |_| {
                                                                revoke.dispatch(id.clone());
                                                            }
                                                        >
                                                            "Revoke"
                                                        </button>
                                                    }.into_any()
                                                }}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }.into_any()
                    }
            </Loaded>
            {move || error().map(|error: AppError| view! { <div class="mt-3"><ErrorNotice error /></div> })}
        </section>
    }
}
