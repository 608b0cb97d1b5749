//! The person's signed-in sessions: end one, or every other one (after a fresh passkey check).

use leptos::prelude::*;
use model::AppError;

use super::confirmed;
use crate::api::security::{list_sessions, revoke_other_sessions, revoke_session};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, ui};

#[component]
pub fn Sessions() -> impl IntoView {
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
                                                    <div class="text-xs text-slate-500 dark:text-slate-400">
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
