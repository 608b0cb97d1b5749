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
    let context = move || provide_context(control.clone());

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
                .layer(CompressionLayer::new())
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
                )),
        )
        .with_state(state)
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
