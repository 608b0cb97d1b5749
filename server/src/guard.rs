//! The request guard in front of every route: Origin check on mutating requests, the sign-in
//! rate limit, session resolution, and the redirect of anonymous visitors to sign-in.
//!
//! It places the [`Caller`] (when signed in) and the [`ClientInfo`] in the request's extensions,
//! where server functions find them.

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Json,
};
use control::auth::{cookie, Caller, ClientInfo};
use model::AppError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::AppState;

/// Pages anyone may open.
const PUBLIC_PAGES: [&str; 3] = ["/signin", "/signup", "/recover"];
/// Server functions behind this prefix are rate limited per address.
pub const RATE_LIMITED_PREFIX: &str = "/api/auth/";

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = state.control.now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // Behind a trusted load balancer the client is the address it forwarded for; this one
    // address keys the rate limit and goes on audit rows and sessions.
    let ip = state.trusted_proxies.client(peer, req.headers());
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if mutating && !same_origin(req.headers(), &state.control.auth().public_url) {
        return error(AppError::Forbidden("Cross-site request refused.".into()));
    }
    let path = req.uri().path().to_owned();
    if path.starts_with(RATE_LIMITED_PREFIX) && !state.auth_limiter.check(ip, now) {
        return error(AppError::RateLimited);
    }

    // The REST API takes bearer tokens only (rest::auth): a cookie never authenticates there.
    let token = if path.starts_with("/api/v1/") {
        None
    } else {
        session_token(&state, req.headers())
    };
    let caller = match token {
        Some(t) => state.control.resolve_session(&t, now).await.unwrap_or(None),
        None => None,
    };
    if req.method() == Method::GET && caller.is_none() && is_protected_page(&path) {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        return Redirect::to(&format!("/signin?next={}", encode_component(&target)))
            .into_response();
    }
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let client = ClientInfo::new(ip.to_string(), &user_agent);
    req.extensions_mut().insert(client.clone());
    if let Some(mut c) = caller {
        // Who made the request, on every log line of it (never the cookie or token).
        tracing::Span::current().record("user_id", tracing::field::display(c.user_id));
        c.client = client;
        req.extensions_mut().insert::<Caller>(c);
    }
    next.run(req).await
}

/// The session token in a request's cookies, if any.
pub(crate) fn session_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let auth = state.control.auth();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| cookie::read(auth, v).map(str::to_owned))
}

/// An error as the JSON response every endpoint gives.
pub(crate) fn error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(e)).into_response()
}

/// A browser names the page that sent a request in `Origin` (and `Sec-Fetch-Site`); a request
/// from another site is refused. Clients that send neither (scripts, tests) are not browsers
/// acting for someone else and pass.
pub(crate) fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().map(|o| o == public_url).unwrap_or(false);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

/// Pages need a session; APIs, assets and health checks answer for themselves.
fn is_protected_page(path: &str) -> bool {
    let public = PUBLIC_PAGES.contains(&path)
        || path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
        || path == "/ws"
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
    !public
}

fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_must_match_the_public_url() {
        let url = "http://localhost:3000";
        let mut h = HeaderMap::new();
        assert!(same_origin(&h, url), "no browser headers");
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h, url));
        h.insert(header::ORIGIN, "http://localhost:3000".parse().unwrap());
        assert!(same_origin(&h, url), "Origin decides when present");
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h, url));
    }

    #[test]
    fn pages_are_protected_but_not_sign_in_assets_or_apis() {
        assert!(is_protected_page("/"));
        assert!(is_protected_page("/vms"));
        assert!(!is_protected_page("/signin"));
        assert!(!is_protected_page("/api/dashboard"));
        assert!(!is_protected_page("/favicon.svg"));
        assert_eq!(encode_component("/vms?x=1&y"), "/vms%3Fx%3D1%26y");
    }
}
