//! What a server function needs from the request: the control plane, the caller, the client,
//! and a way to set the session cookie on the response.

use control::auth::{Caller, ClientInfo};
use control::Control;
use leptos::prelude::use_context;
use model::AppError;

/// The control plane provided to every server function by the server's router.
pub fn control() -> Result<Control, AppError> {
    use_context::<Control>().ok_or_else(|| control::internal("server fn", "Control not in context"))
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The signed-in caller, or `Unauthenticated`.
pub fn caller() -> Result<Caller, AppError> {
    maybe_caller().ok_or(AppError::Unauthenticated)
}

/// The signed-in caller, if any.
pub fn maybe_caller() -> Option<Caller> {
    parts().and_then(|p| p.extensions.get::<Caller>().cloned())
}

/// The client's address and user agent, as the request guard recorded them.
pub fn client() -> ClientInfo {
    parts()
        .and_then(|p| p.extensions.get::<ClientInfo>().cloned())
        .unwrap_or_default()
}

/// Adds a `Set-Cookie` header to the server function's response.
pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        res.append_header(http::header::SET_COOKIE, v);
    }
}

/// Gives a failed server function the HTTP status of its error (401, 403, 404, ...), so the
/// endpoint speaks plain HTTP as well as Leptos's protocol.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result {
        if let (Some(res), Ok(code)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(e.status()),
        ) {
            res.set_status(code);
        }
    }
    result
}

/// The current time by the control plane's clock: what server functions pass to use cases.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use_context::<Control>().map_or_else(control::clock::system_now, |c| c.now())
}
