//! The person's passkeys: add one (after a fresh passkey check), rename, remove.

use leptos::prelude::*;
use model::AppError;

use super::confirmed;
use crate::api::security::{
    begin_add_passkey, finish_add_passkey, list_passkeys, remove_passkey, rename_passkey,
};
use crate::browser;
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, ui};

async fn add_passkey() -> Result<(), AppError> {
    let start = begin_add_passkey().await?;
    let credential = browser::passkey(&start.options, true).await?;
    finish_add_passkey(start.ceremony_id, credential).await
}

#[component]
pub fn Passkeys() -> impl IntoView {
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
                                                    <span class="text-xs text-slate-500 dark:text-slate-400">
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
