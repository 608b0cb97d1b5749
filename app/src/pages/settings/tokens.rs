//! The person's API tokens: make one (after a fresh passkey check; its secret is shown once),
//! see when each was last used and from where, revoke one. Platform admins may list and revoke
//! everyone's.

use leptos::prelude::*;
use model::tokens::{CreatedToken, NewToken, TokenScope, TokenView, DEFAULT_EXPIRY_DAYS};
use model::AppError;

use super::confirmed;
use crate::api::auth::get_me;
use crate::api::orgs::list_organizations;
use crate::api::tokens::{create_api_token, list_api_tokens, revoke_api_token};
use crate::components::{error_notice::ErrorNotice, loaded::loaded, loaded::Loaded, ui};

/// What a token may do: the presets the form offers (the API takes any permission names).
const PRESETS: [(&str, &str, &[&str]); 3] = [
    ("all", "Everything I may do", &[]),
    ("read", "Read only", &["read", "view"]),
    (
        "operate",
        "Read and operate VMs",
        &["read", "view", "start", "stop", "restart", "console"],
    ),
];

#[component]
pub fn Tokens() -> impl IntoView {
    let everyone = RwSignal::new(false);
    let create = Action::new_local(|new: &NewToken| {
        let new = new.clone();
        async move { confirmed(|| create_api_token(new.clone())).await }
    });
    let revoke = Action::new(|id: &String| revoke_api_token(id.clone()));
    let tokens = Resource::new(
        move || {
            (
                everyone.get(),
                create.version().get(),
                revoke.version().get(),
            )
        },
        |(all, _, _)| list_api_tokens(all),
    );
    let me = Resource::new(|| (), |_| get_me());
    let error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| revoke.value().get().and_then(Result::err))
    };
    view! {
        <section class=ui::CARD aria-labelledby="tokens-title">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h2 id="tokens-title" class="text-base font-semibold">"API tokens"</h2>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let admin = loaded(me).await.and_then(Result::ok).flatten().is_some_and(|m| m.is_admin);
                        admin.then(|| view! {
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" data-testid="tokens-everyone"
                                    prop:checked=move || everyone.get()
                                    on:change=move |ev| everyone.set(event_target_checked(&ev)) />
                                "Everyone's tokens"
                            </label>
                        })
                    })}
                </Transition>
            </div>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "For scripts and the "<code>"strata"</code>" command line: a token acts as you, limited to what you choose here. See "<a class="underline" href="/api/v1/openapi.json">"the API's description"</a>"."
            </p>
            <TokenForm create />
            {move || create.value().get().and_then(Result::ok).map(|created| view! { <Secret created /> })}
            <Loaded resource=tokens inset=true let:list>
                {view! { <TokenTable list revoke /> }.into_any()}
            </Loaded>
            {move || error().map(|error: AppError| view! { <div class="mt-3"><ErrorNotice error /></div> })}
        </section>
    }
}

#[component]
fn TokenForm(create: Action<NewToken, Result<CreatedToken, AppError>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(DEFAULT_EXPIRY_DAYS.to_string());
    let preset = RwSignal::new("all".to_owned());
    let org = RwSignal::new(String::new());
    let orgs = Resource::new(|| (), |_| list_organizations());
    view! {
        <form class="mt-3 grid gap-3 md:grid-cols-4" data-testid="token-form"
            on:submit=move |ev| {
                ev.prevent_default();
                let actions = PRESETS
                    .iter()
                    .find(|(key, _, _)| *key == preset.get_untracked())
                    .map(|(_, _, a)| a.iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default();
                let org = org.get_untracked();
                create.dispatch(NewToken {
                    name: name.get_untracked(),
                    expires_in_days: days.get_untracked().trim().parse().unwrap_or(0),
                    actions,
                    scope: if org.is_empty() { TokenScope::Everything } else { TokenScope::Organization { id: org } },
                });
            }>
            <label class="text-sm font-medium">"Name"
                <input class=ui::INPUT data-testid="token-name" required maxlength="64" placeholder="deploy-bot"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Expires in (days)"
                <input class=ui::INPUT data-testid="token-days" type="number" min="1" required
                    prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"May"
                <select class=ui::INPUT data-testid="token-actions" on:change=move |ev| preset.set(event_target_value(&ev))>
                    {PRESETS.iter().map(|(key, label, _)| view! { <option value=*key>{*label}</option> }).collect_view()}
                </select>
            </label>
            <label class="text-sm font-medium">"Where"
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = loaded(orgs).await.and_then(Result::ok).unwrap_or_default();
                        view! {
                            <select class=ui::INPUT data-testid="token-scope" on:change=move |ev| org.set(event_target_value(&ev))>
                                <option value="">"Everywhere I may"</option>
                                {list.into_iter().map(|o| view! {
                                    <option value=o.id.clone()>{format!("Only organization {}", o.name)}</option>
                                }).collect_view()}
                            </select>
                        }
                    })}
                </Transition>
            </label>
            <div class="md:col-span-4 flex justify-end">
                <button type="submit" class=ui::BTN_PRIMARY data-testid="token-create" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Making the token…" } else { "Make token" }}
                </button>
            </div>
        </form>
    }
}

/// A new token's secret, shown this once.
#[component]
fn Secret(created: CreatedToken) -> impl IntoView {
    view! {
        <div class="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950" role="status">
            <p class="font-medium">{format!("Token {} made. Copy its secret now: it is not shown again.", created.token.name)}</p>
            <input class=format!("{} font-mono", ui::INPUT) readonly data-testid="token-secret" aria-label="The token's secret" value=created.secret.clone() />
        </div>
    }
}

#[component]
fn TokenTable(list: Vec<TokenView>, revoke: Action<String, Result<(), AppError>>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="mt-3 text-sm text-slate-600 dark:text-slate-400" data-testid="tokens-empty">"No tokens yet."</p> }.into_any();
    }
    view! {
        <div class="mt-3 overflow-x-auto">
            <table class="w-full text-left text-sm" data-testid="token-list">
                <thead class="text-slate-500 dark:text-slate-400">
                    <tr><th class="py-2">"Name"</th><th>"Owner"</th><th>"May"</th><th>"Where"</th><th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th><span class="sr-only">"Actions"</span></th></tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                    {list.into_iter().map(|t| {
                        let id = t.id.clone();
                        let active = t.status == "active";
                        let may = if t.actions.is_empty() { "everything".to_owned() } else { t.actions.join(", ") };
                        let used = match (&t.last_used_at, &t.last_used_ip) {
                            (Some(at), Some(ip)) => format!("{at} from {ip}"),
                            (Some(at), None) => at.clone(),
                            _ => "never".to_owned(),
                        };
                        view! {
                            <tr data-testid="token-row" data-name=t.name.clone() data-status=t.status.clone()>
                                <td class="py-2"><div class="font-medium">{t.name.clone()}</div><div class="font-mono text-xs text-slate-500 dark:text-slate-400">{t.hint.clone()} "…"</div></td>
                                <td>{t.owner.clone()}</td>
                                <td>{may}</td>
                                <td>{t.scope_label.clone()}</td>
                                <td>{t.expires_at.clone()}</td>
                                <td data-testid="token-used">{used}</td>
                                <td>{t.status.clone()}</td>
                                <td class="text-right">
                                    {active.then(|| view! {
                                        <button type="button" class=ui::BTN_DANGER data-testid="token-revoke"
                                            on:click=move |_| { revoke.dispatch(id.clone()); }>
                                            "Revoke"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }.into_any()
}
