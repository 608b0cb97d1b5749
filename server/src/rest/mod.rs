//! The REST API under `/api/v1`: bearer tokens only, problem details for errors, cursor
//! pagination, 202 with an operation for work that outlives the request, and an OpenAPI 3.1
//! document generated from these handlers (`/api/v1/openapi.json`), so the spec and the routes
//! cannot drift apart: every route is added with its spec entry by `routes!`.
//!
//! The handlers are thin: they read the request, call the same `control` use cases as the
//! pages' server functions, and shape the answer.

pub mod access;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod console;
pub mod forwards;
pub mod members;
pub mod networks;
pub mod nodes;
pub mod pages;
pub mod problem;
pub mod services;
pub mod tokens;
pub mod versions;
pub mod vms;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use problem::Problem;

/// Where the API lives.
pub const BASE: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Strata API",
        version = "1",
        description = "Strata's REST API. Authenticate with a personal API token \
            (`Authorization: Bearer strata_...`) made under Settings. Errors are RFC 9457 \
            problem details; lists are paged with `after` (a page's `next`) and `limit`; work \
            that outlives the request answers 202 with the operation to follow."
    ),
    modifiers(&BearerToken),
    // Enums that only paths name (the handlers' bodies register everything else).
    components(schemas(model::services::ServiceAction, model::vms::VmAction)),
    tags(
        (name = "vms", description = "Virtual machines"),
        (name = "organizations", description = "Organizations"),
        (name = "images", description = "Images to make VMs from"),
        (name = "operations", description = "Work under way"),
        (name = "tokens", description = "Personal API tokens"),
        (name = "services", description = "Services: replicas, configurations and deployments"),
        (name = "audit", description = "The audit log"),
        (name = "nodes", description = "Hypervisor hosts, for platform admins"),
        (name = "access", description = "Questions about grants, for platform admins"),
        (name = "networks", description = "An organization's VM networks"),
    )
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("strata_...")
                    .description(Some("A personal API token"))
                    .build(),
            ),
        );
    }
}

/// The API's routes (relative to [`BASE`]) and the document that describes them (with full
/// paths).
pub fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(vms::list_vms, vms::create_vm))
        .routes(routes!(vms::get_vm, vms::delete_vm))
        .routes(routes!(vms::act_on_vm))
        .routes(routes!(vms::set_vm_tags))
        .routes(routes!(catalog::list_organizations))
        .routes(routes!(catalog::get_organization))
        .routes(routes!(catalog::list_images, catalog::register_image))
        .routes(routes!(catalog::get_operation))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(access::query))
        .routes(routes!(services::list_services, services::create_service))
        .routes(routes!(services::get_service, services::delete_service))
        .routes(routes!(services::deploy_service))
        .routes(routes!(services::scale_service))
        .routes(routes!(services::act_on_service))
        .routes(routes!(audit::audit_page))
        .routes(routes!(services::save_config))
        .routes(routes!(members::add_member))
        .routes(routes!(members::change_role, members::remove_member))
        .routes(routes!(members::share_vm))
        .routes(routes!(members::get_quota, members::set_quota))
        .routes(routes!(members::unshare_vm))
        .routes(routes!(nodes::list_nodes, nodes::add_node))
        .routes(routes!(nodes::remove_node))
        .routes(routes!(nodes::drain_node))
        .routes(routes!(nodes::cordon_node))
        .routes(routes!(nodes::uncordon_node))
        .routes(routes!(console::read_console, console::write_console))
        .routes(routes!(networks::list_networks))
        .routes(routes!(networks::create_network))
        .routes(routes!(networks::delete_network))
        .routes(routes!(networks::reachability))
        .routes(routes!(networks::list_rules, networks::add_rule))
        .routes(routes!(networks::remove_rule))
        .routes(routes!(forwards::list_forwards, forwards::add_forward))
        .routes(routes!(forwards::remove_forward))
        .routes(routes!(forwards::set_egress))
        .split_for_parts();
    doc.paths.paths = std::mem::take(&mut doc.paths.paths)
        .into_iter()
        .map(|(path, item)| (format!("{BASE}{path}"), item))
        .collect();
    problems_are_problem_json(&mut doc);
    (routes, doc)
}

/// Error answers are problem details (`application/problem+json`, [`problem::ApiError`]); the
/// handlers' annotations name their body type, and this names its media type, in one place.
fn problems_are_problem_json(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            for (status, response) in op.responses.responses.iter_mut() {
                let error = status.starts_with('4') || status.starts_with('5');
                if let (true, RefOr::T(r)) = (error, response) {
                    if let Some(content) = r.content.shift_remove("application/json") {
                        r.content.insert("application/problem+json".into(), content);
                    }
                }
            }
        }
    }
}

/// The reference page: Swagger UI (npm's `swagger-ui-dist`, copied into the site by the build)
/// over `openapi.json`, started by a script file so the page keeps the site's CSP.
const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strata API</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/api-docs/swagger-ui.css">
</head>
<body>
<main id="swagger-ui"></main>
<script src="/api-docs/swagger-ui-bundle.js"></script>
<script src="/api-docs/init.js"></script>
</body>
</html>
"#;

/// The router to nest at [`BASE`]: the routes, `openapi.json`, the reference page (`docs`),
/// and problem answers for unknown paths and methods.
pub fn router() -> Router<AppState> {
    let (routes, doc) = parts();
    let json: Arc<Vec<u8>> = Arc::new(doc.to_json().map(String::into_bytes).unwrap_or_default());
    routes
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        json.as_ref().clone(),
                    )
                }
            }),
        )
        .route(
            "/docs",
            get(|| async {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    )],
                    DOCS_PAGE,
                )
            }),
        )
        .method_not_allowed_fallback(|| async {
            status_problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "This address does not take that method.",
            )
        })
        .fallback(|| async {
            status_problem(StatusCode::NOT_FOUND, "There is no such API address.")
        })
}

/// `202 Accepted` with `body`, and `Location` naming the operation to follow when there is one.
fn accepted(operation: Option<impl std::fmt::Display>, body: impl serde::Serialize) -> Response {
    let mut res = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Some(v) =
        operation.and_then(|op| HeaderValue::from_str(&format!("{BASE}/operations/{op}")).ok())
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn status_problem(status: StatusCode, detail: &str) -> Response {
    let code = if status == StatusCode::NOT_FOUND {
        "not_found"
    } else {
        "method_not_allowed"
    };
    let problem = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: code.into(),
    };
    let mut res = (status, Json(problem)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}
