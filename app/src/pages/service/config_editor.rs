//! Editing the configuration: the current version's JSON in a textarea, saved as a new version
//! (and deployed at once, if asked); the server's validation error names the bad field.

use leptos::prelude::*;
use model::services::ServiceDetail;

use super::state::{Actions, Drafts};
use crate::components::ui;

#[component]
pub fn ConfigEditor(detail: ServiceDetail, actions: Actions, drafts: Drafts) -> impl IntoView {
    let current = detail
        .configs
        .iter()
        .find(|c| c.version == detail.service.config_version)
        .or(detail.configs.first())
        .map(|c| c.config.clone())
        .unwrap_or_else(|| "{}".into());
    let text = move || drafts.config.get().unwrap_or_else(|| current.clone());
    let for_save = text.clone();
    let id = detail.service.id.clone();
    let save = move |deploy: bool| actions.save.dispatch((id.clone(), for_save(), deploy));
    let save_and_deploy = save.clone();
    let (can_update, can_deploy) = (detail.can_update, detail.can_deploy);
    let edited = move || drafts.config.with(Option::is_some);
    view! {
        <section class=ui::CARD>
            <h2 class="text-base font-semibold">"Edit configuration"</h2>
            <label class="mt-2 block text-sm font-medium">"Configuration"
                <textarea class=format!("{} h-56 font-mono text-xs", ui::INPUT) spellcheck="false" data-testid="config-editor"
                    readonly=!can_update
                    prop:value=text on:input=move |ev| drafts.config.set(Some(event_target_value(&ev)))></textarea>
            </label>
            {move || actions.save.value().get().and_then(Result::err).map(|e| view! {
                <p role="alert" data-testid="config-error"
                    class="mt-2 rounded-md border border-red-300 bg-red-50 px-3 py-2 font-mono text-xs text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
                    {e.to_string()}
                </p>
            })}
            {move || actions.save.value().get().and_then(Result::ok).map(|v| view! {
                <p class="mt-2 text-sm text-emerald-700 dark:text-emerald-400" data-testid="config-saved">
                    {format!("Saved as version {}.", v.version)}
                </p>
            })}
            {can_update.then(|| view! {
                <div class="mt-3 flex flex-wrap gap-2">
                    <button type="button" class=ui::BTN_SECONDARY data-testid="config-save"
                        disabled=move || actions.save.pending().get()
                        on:click=move |_| { save(false); }>"Save"</button>
                    {can_deploy.then(|| view! {
                        <button type="button" class=ui::BTN_PRIMARY data-testid="config-save-deploy"
                            disabled=move || actions.save.pending().get()
                            on:click=move |_| { save_and_deploy(true); }>"Save and deploy"</button>
                    })}
                    <button type="button" class=ui::BTN_SECONDARY data-testid="config-revert"
                        disabled=move || !edited() on:click=move |_| drafts.config.set(None)>"Discard changes"</button>
                </div>
            })}
            <details class="mt-3 text-sm">
                <summary class="cursor-pointer text-slate-500 dark:text-slate-400">"Schema every configuration must match"</summary>
                <pre class="mt-1 max-h-48 overflow-auto rounded-md bg-slate-50 p-2 font-mono text-xs dark:bg-slate-950"
                    data-testid="config-schema">{detail.config_schema.clone()}</pre>
            </details>
        </section>
    }
}
