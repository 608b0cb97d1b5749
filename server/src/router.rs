//! The HTTP surface: health, server functions, pages, static files, and the middleware around them.

use axum::{
    body::Body,
    http::{header, HeaderName, HeaderValue, Request, Response},
    routing::get,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};
use tracing::Span;

use crate::{health, AppState};

/// Largest request body accepted anywhere (server function arguments are small).
pub const BODY_LIMIT: usize = 1024 * 1024;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the whole application router around `state`.
pub fn build(state: AppState) -> Router {
    // Record from the first request on.
    crate::metrics::handle();
    let options = state.leptos_options.clone();
    let routes = generate_route_list(app::App);
    let control = state.control.clone();
    let csp = Csp::new(&state.control.auth().public_url);
    let default_csp = csp.header(None);
    let context = move || {
        provide_context(control.clone());
        // A page names this response's nonce, which Leptos puts on its inline scripts.
        if let (Some(nonce), Some(res)) = (
            leptos::nonce::use_nonce(),
            use_context::<leptos_axum::ResponseOptions>(),
        ) {
            res.insert_header(header::CONTENT_SECURITY_POLICY, csp.header(Some(&nonce)));
        }
    };

    let site_root = options.site_root.to_string();
    let pkg_dir = format!("{site_root}/{}", options.site_pkg_dir);
    let hashed = options.hash_files;
    // With hashed file names a changed asset gets a new name, so browsers may keep one forever.
    let pkg = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            move |res: &Response<_>| cache_control(res, hashed),
        ))
        .service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        );
    // Anything that is neither a route nor a file renders the app, whose router shows a 404.
    let not_found = {
        let options = options.clone();
        leptos_axum::render_app_to_stream_with_context(context.clone(), move || {
            app::shell(options.clone())
        })
    };
    let files = ServeDir::new(site_root).fallback(
        axum::handler::HandlerWithoutStateExt::into_service(not_found),
    );

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/audit/export", get(crate::audit_export::export))
        .route("/api/vms/{id}/console", get(crate::console::console))
        .route("/ws", get(crate::live::ws))
        .route("/metrics", get(crate::metrics::endpoint))
        .nest(crate::rest::BASE, crate::rest::router())
        .leptos_routes_with_context(&state, routes, context, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg)
        .fallback_service(files)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::guard::guard,
        ))
        .layer(axum::middleware::from_fn(crate::fn_errors::fix_status))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request<Body>| {
                            let id = req
                                .headers()
                                .get(&REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), user_id = tracing::field::Empty)
                        })
                        .on_request(())
                        .on_response(log_response),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
                // Rendered pages and server-function replies: gzip, not brotli. tower-http's
                // brotli keeps its default 4 MiB window, so every large or streamed response
                // held about 8 MiB while it was written, which the allocator kept afterwards
                // (0.5-0.7 GiB after the load benchmark; docs/performance.md). Static files
                // are served brotli-precompressed by `ServeDir` above.
                .layer(CompressionLayer::new().no_br())
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                // Everything that is not a rendered page (JSON, files, redirects) gets the
                // policy without a nonce: no inline script runs there.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    default_csp,
                )),
        )
        .with_state(state)
}

/// The Content-Security-Policy: scripts only from this site (the WASM bundle's JS glue and
/// snippets) or inline with this response's nonce (Leptos's hydration and resource scripts),
/// WebAssembly compilation, styles and images from this site, fetches and the live
/// WebSocket to this site only, and no framing, plugins, `<base>` or foreign form targets.
#[derive(Clone, Debug)]
struct Csp {
    /// `ws://host` or `wss://host` for the public URL's host.
    websocket: String,
}

impl Csp {
    fn new(public_url: &str) -> Self {
        let websocket = match public_url.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}"),
            Some((_, rest)) => format!("ws://{rest}"),
            None => String::new(),
        };
        Self { websocket }
    }

    fn policy(&self, nonce: Option<&str>) -> String {
        let script = match nonce {
            Some(n) => format!("'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
            None => "'self' 'wasm-unsafe-eval'".to_owned(),
        };
        format!(
            "default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data:; \
             font-src 'self'; connect-src 'self' {ws}; frame-ancestors 'none'; \
             object-src 'none'; base-uri 'self'; form-action 'self'",
            ws = self.websocket
        )
    }

    fn header(&self, nonce: Option<&str>) -> HeaderValue {
        // The public URL was validated at start and a nonce is base64url, so this parses; the
        // fallback still forbids everything foreign.
        HeaderValue::from_str(&self.policy(nonce)).unwrap_or_else(|_| {
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
            )
        })
    }
}

fn log_response<B>(res: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        status = res.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "response"
    );
}

/// Hashed names change with their content, so browsers may keep them forever; anything else
/// must be revalidated. Errors are never cached.
fn cache_control<B>(res: &Response<B>, hashed: bool) -> Option<HeaderValue> {
    res.status().is_success().then(|| {
        HeaderValue::from_static(if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_only_this_site_and_its_nonce() {
        let csp = Csp::new("https://cloud.example.com");
        let p = csp.policy(Some("abc123"));
        assert!(
            p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"),
            "{p}"
        );
        assert!(
            p.contains("connect-src 'self' wss://cloud.example.com;"),
            "{p}"
        );
        assert!(!p.contains("unsafe-inline"), "{p}");
        let p = Csp::new("http://localhost:3000").policy(None);
        assert!(p.contains("connect-src 'self' ws://localhost:3000;"), "{p}");
        assert!(p.contains("script-src 'self' 'wasm-unsafe-eval';"), "{p}");
    }
}
