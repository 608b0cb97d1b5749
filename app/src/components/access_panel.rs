//! The Access panel: who holds each permission on a resource, and for any person and action,
//! a sentence saying why, with the chain of relations that grants it (or what was tried)
//! behind disclosures.

use leptos::prelude::*;
use model::access::{ExplainStep, PanelKind};

use crate::api::access::{explain_access, get_access_overview};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, ui};

#[component]
pub fn AccessPanel(
    kind: PanelKind,
    id: String,
    #[prop(into)] version: Signal<usize>,
) -> impl IntoView {
    let id_for_load = id.clone();
    let overview = Resource::new(
        move || version.get(),
        move |_| get_access_overview(kind, id_for_load.clone()),
    );
    let username = RwSignal::new(String::new());
    let permission = RwSignal::new(String::from("read"));
    let explain = Action::new(move |(user, perm): &(String, String)| {
        explain_access(kind, id.clone(), user.clone(), perm.clone())
    });

    view! {
        <section class=ui::CARD aria-labelledby="access-title" data-testid="access-panel">
            <h2 id="access-title" class="text-base font-semibold">"Access"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "Who can do what here, computed from the permission schema. Ask why for anyone."
            </p>
            <Loaded resource=overview inset=true let:o>
                    {
                        {
                            let perms: Vec<String> = o.permissions.iter().map(|p| p.permission.clone()).collect();
                            view! {
                                <table class="mt-3 w-full text-left text-sm">
                                    <thead class="text-slate-500 dark:text-slate-400">
                                        <tr><th class="py-1 pr-4">"Action"</th><th class="pr-4">"Who"</th><th class="hidden md:table-cell">"Rule"</th></tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                        {o.permissions.into_iter().map(|h| view! {
                                            <tr data-testid="access-row" data-permission=h.permission.clone()>
                                                <td class="py-1.5 pr-4 font-mono text-xs">{h.permission.clone()}</td>
                                                <td class="pr-4" data-testid="access-people">
                                                    {if h.people.is_empty() {
                                                        "nobody".to_owned()
                                                    } else {
                                                        h.people.iter().map(|p| p.username.clone()).collect::<Vec<_>>().join(", ")
                                                    }}
                                                </td>
                                                <td class="hidden font-mono text-xs text-slate-500 dark:text-slate-400 md:table-cell">{h.rule.clone()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <form
                                    class="mt-4 flex flex-wrap items-end gap-2"
                                    on:submit=move |ev| {
                                        ev.prevent_default();
                                        explain.dispatch((username.get_untracked(), permission.get_untracked()));
                                    }
                                >
                                    <label class="text-sm">"Person"
                                        <input class=ui::INPUT name="username" placeholder="username" data-testid="explain-user"
                                            prop:value=move || username.get()
                                            on:input=move |ev| username.set(event_target_value(&ev)) />
                                    </label>
                                    <label class="text-sm">"Action"
                                        <select class=ui::INPUT data-testid="explain-permission"
                                            on:change=move |ev| permission.set(event_target_value(&ev))>
                                            {perms.into_iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    <button type="submit" class=ui::BTN_SECONDARY data-testid="explain-go">"Why?"</button>
                                </form>
                            }.into_any()
                        }
                    }
            </Loaded>
            {move || explain.value().get().map(|r| match r {
                Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                Ok(e) => view! {
                    <div class="mt-3 text-sm" data-testid="explanation" data-granted=e.granted.to_string()>
                        <p class="font-medium" data-testid="explain-sentence">{e.sentence.clone()}</p>
                        {(!e.path.is_empty()).then(|| view! {
                            <details class="mt-2">
                                <summary class="cursor-pointer text-slate-500 dark:text-slate-400">"The exact chain"</summary>
                                <ol class="mt-1 space-y-1 font-mono text-xs" data-testid="explain-path">
                                    {e.path.iter().map(|s| view! { <li>"→ " {s.clone()}</li> }).collect_view()}
                                </ol>
                            </details>
                        })}
                        <details class="mt-2">
                            <summary class="cursor-pointer text-slate-500 dark:text-slate-400">"Everything that was checked"</summary>
                            <div class="mt-1 font-mono text-xs">{tree(e.tree)}</div>
                        </details>
                    </div>
                }.into_any(),
            })}
        </section>
    }
}

fn tree(step: ExplainStep) -> AnyView {
    let mark = if step.granted { "✓" } else { "✗" };
    let class = if step.granted {
        "text-emerald-700 dark:text-emerald-400"
    } else {
        "text-slate-500 dark:text-slate-400"
    };
    view! {
        <div class="ml-3">
            <span class=class>{mark} " " {step.label}</span>
            {step.children.into_iter().map(tree).collect_view()}
        </div>
    }
    .into_any()
}
