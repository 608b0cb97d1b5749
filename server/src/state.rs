//! The state every handler and server function can reach.

use axum::extract::FromRef;
use control::Control;
use leptos::prelude::LeptosOptions;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub control: Control,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
