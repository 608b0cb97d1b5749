//! Showing a resource: "Loading…" first, then its value, or the error's safe message.
//!
//! Every page shows its data through [`Loaded`]; [`loaded`] is the one safe way to await a
//! resource inside `Suspend`, for the few views that await two at once.

use std::sync::Arc;

use leptos::prelude::*;
use model::AppError;

use crate::components::error_notice::ErrorNotice;

/// The resource's value, or None when its page is already gone. Live events can start a
/// refetch just as a person navigates away, and awaiting a disposed resource panics. The part
/// of the page that asked can also go *while* it loads (two live refetches in a row rebuild a
/// page's sections): then its signals are disposed too, and building its view from the value
/// would read them and panic, so it gets nothing.
pub async fn loaded<T: Clone + Send + Sync + 'static>(resource: Resource<T>) -> Option<T> {
    if resource.is_disposed() {
        return None;
    }
    let value = resource.await;
    (!resource.is_disposed()).then_some(value)
}

/// `children` of the resource's value once it loaded (`<Loaded resource=r let:value>`). While
/// it refetches the old view stays (a transition); a failure shows its message, or what
/// `on_error` makes of it (a page whose subject is gone adds a way back).
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    children: F,
    #[prop(optional, into)] on_error: Option<Callback<AppError, AnyView>>,
    /// Inside a card, under its heading: the loading line and the error keep a gap above.
    #[prop(optional)]
    inset: bool,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = Arc::new(children);
    let gap = if inset { "mt-3" } else { "" };
    view! {
        <Transition fallback=move || view! { <p class=format!("{gap} text-sm text-slate-500 dark:text-slate-400")>"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match loaded(resource).await {
                        None => ().into_any(),
                        Some(Ok(value)) => children(value).into_any(),
                        Some(Err(error)) => match on_error {
                            Some(show) => show.run(error),
                            None => view! { <div class=gap><ErrorNotice error /></div> }.into_any(),
                        },
                    }
                })
            }}
        </Transition>
    }
}
