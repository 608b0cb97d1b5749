//! The top bar's right side: the organization switcher, the live indicator, who is signed in,
//! and signing out.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use model::auth::Me;
use model::orgs::OrgSummary;
use model::AppError;

use crate::api::auth::sign_out;
use crate::browser;
use crate::components::{loaded::loaded, ui};

/// Jumps to one of the caller's organizations.
#[component]
pub fn OrgSwitcher(orgs: Resource<Vec<OrgSummary>>) -> impl IntoView {
    let path = use_location().pathname;
    let navigate = use_navigate();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let navigate = navigate.clone();
                Suspend::new(async move {
                    let list = loaded(orgs).await.unwrap_or_default();
                    (!list.is_empty()).then(|| {
                        let current = path.get_untracked();
                        view! {
                            <select
                                aria-label="Switch organization"
                                data-testid="org-switcher"
                                class="max-w-28 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm sm:max-w-none dark:border-slate-700 dark:bg-slate-900"
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
    }
}

/// The live indicator, the signed-in person's name and the sign-out button.
#[component]
pub fn Account(me: Resource<Result<Option<Me>, AppError>>) -> impl IntoView {
    let live = crate::live::use_live();
    let signout = Action::new(|_: &()| sign_out());
    Effect::new(move |_| {
        if let Some(Ok(())) = signout.value().get() {
            browser::go_to("/signin");
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                loaded(me).await.and_then(Result::ok).flatten().map(|me| view! {
                    <crate::live::LiveIndicator />
                    <span class="text-sm text-slate-600 max-sm:hidden dark:text-slate-300" data-testid="me">{me.display_name}</span>
                    <button
                        type="button"
                        class=format!("{} whitespace-nowrap", ui::BTN_SECONDARY)
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
    }
}
