//! Sign-up: a username, a display name, then a new passkey. The first account is the admin.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};
use model::auth::{validate_display_name, validate_username, SignupPolicy};
use model::AppError;

use crate::api::auth::{begin_signup, finish_signup, get_invite, get_signup_status};
use crate::browser;
use crate::components::{auth_card::AuthCard, error_notice::ErrorNotice, ui};

#[component]
pub fn SignupPage() -> impl IntoView {
    let query = use_query_map();
    let invite = move || {
        query
            .read_untracked()
            .get("invite")
            .filter(|t| !t.is_empty())
    };
    let status = Resource::new(|| (), |_| get_signup_status());
    // An invite link says who sent it and until when it works, or that it no longer does.
    let invited = Resource::new(invite, |token| async move {
        match token {
            Some(t) => Some(get_invite(t).await),
            None => None,
        }
    });
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let signup = Action::new_local(move |(u, d): &(String, String)| {
        let (u, d) = (u.clone(), d.clone());
        let invite = invite();
        async move {
            validate_username(u.trim()).map_err(AppError::Invalid)?;
            validate_display_name(&d).map_err(AppError::Invalid)?;
            let start = begin_signup(u, d, invite).await?;
            let credential = browser::passkey(&start.options, true).await?;
            finish_signup(start.ceremony_id, credential).await?;
            Ok::<_, AppError>(())
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = signup.value().get() {
            browser::go_to("/");
        }
    });

    view! {
        <AuthCard title="Create your Strata account">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Some(status) = crate::components::loaded::loaded(status).await else { return ().into_any() };

                    match status {
                        Ok(s) if s.first_account => view! {
                            <p class="rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-800 dark:bg-sky-950 dark:text-sky-200" data-testid="first-account">
                                "This is the first account on this installation: it will be the platform administrator."
                            </p>
                        }.into_any(),
                        Ok(s) if s.policy == SignupPolicy::Invite && invite().is_none() => view! {
                            <p class="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-950 dark:text-amber-200">
                                "Sign-up is by invitation. Open the invite link an administrator gave you."
                            </p>
                        }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match crate::components::loaded::loaded(invited).await.flatten() {
                        Some(Ok(i)) => view! {
                            <p class="rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-800 dark:bg-sky-950 dark:text-sky-200" data-testid="invite-info">
                                {format!(
                                    "{} invited you to this Strata installation. The invite works once, until {}.",
                                    i.invited_by,
                                    i.expires_at,
                                )}
                            </p>
                        }.into_any(),
                        Some(Err(error)) => view! { <div data-testid="invite-info"><ErrorNotice error /></div> }.into_any(),
                        None => ().into_any(),
                    }
                })}
            </Suspense>
            <form
                class="space-y-3"
                on:submit=move |ev| {
                    ev.prevent_default();
                    signup.dispatch((username.get(), display_name.get()));
                }
            >
                <label class="block text-sm font-medium">
                    "Username"
                    <input class=ui::INPUT name="username" autocomplete="username" required bind:value=username />
                    <span class="text-xs font-normal text-slate-500 dark:text-slate-400">"Lowercase letters, digits, - and _."</span>
                </label>
                <label class="block text-sm font-medium">
                    "Display name"
                    <input class=ui::INPUT name="display_name" autocomplete="name" required bind:value=display_name />
                </label>
                <button type="submit" class=format!("{} w-full", ui::BTN_PRIMARY) disabled=signup.pending()>
                    "Create account with a passkey"
                </button>
            </form>
            {move || signup.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
            <p class="text-sm text-slate-600 dark:text-slate-400">
                "Already have an account? "
                <A href="/signin" attr:class="font-medium text-sky-700 dark:text-sky-400">"Sign in"</A>
            </p>
        </AuthCard>
    }
}
