//! The state every handler and server function can reach.

use axum::extract::FromRef;
use control::Control;
use leptos::prelude::LeptosOptions;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub control: Control,
    /// Limits sign-in, sign-up and recovery requests per client address.
    pub auth_limiter: crate::ratelimit::RateLimiter,
    /// Limits REST API requests per token.
    pub api_limiter: crate::ratelimit::RateLimiter<sea_orm::prelude::Uuid>,
    /// Proxies whose `X-Forwarded-For` names the client (for rate limits and audit rows).
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// Who may read `/metrics` on the main address.
    pub metrics: crate::metrics::MetricsAccess,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
