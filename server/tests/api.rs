//! The REST API (`/api/v1`) through the router: the spec matches the routes, every route
//! refuses callers without a valid token, restricted tokens get exactly their rights, no answer
//! leaks what exists, stale writes get 412, lists page by cursor, and each token has its rate
//! limit.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use control::entities::api_token;
use control::testing::{caller, TestDb};
use http_body_util::BodyExt;
use model::tokens::{NewToken, TokenScope};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use server::{router, serve::leptos_options, AppState};
use tower::ServiceExt;

/// Every operation the API offers, as `METHOD path`. A route added without its spec entry, or
/// removed, fails [`the_spec_lists_every_route_and_every_route_refuses_without_a_token`].
const OPERATIONS: &[&str] = &[
    "PUT /api/v1/vms/{id}/tags",
    "GET /api/v1/vms/{id}/forwards",
    "POST /api/v1/vms/{id}/forwards",
    "DELETE /api/v1/vms/{id}/forwards/{forward_id}",
    "PUT /api/v1/networks/{id}/egress",
    "DELETE /api/v1/nodes/{id}",
    "GET /api/v1/organizations/{id}/quota",
    "PUT /api/v1/organizations/{id}/quota",
    "POST /api/v1/images",
    "POST /api/v1/nodes",
    "POST /api/v1/nodes/{id}/cordon",
    "POST /api/v1/nodes/{id}/uncordon",
    "DELETE /api/v1/organizations/{id}/members/{user_id}",
    "DELETE /api/v1/services/{id}",
    "DELETE /api/v1/tokens/{id}",
    "DELETE /api/v1/vms/{id}",
    "DELETE /api/v1/vms/{id}/shares/{user_id}",
    "GET /api/v1/audit",
    "GET /api/v1/images",
    "GET /api/v1/nodes",
    "GET /api/v1/operations/{id}",
    "GET /api/v1/organizations",
    "GET /api/v1/organizations/{id}",
    "GET /api/v1/services",
    "GET /api/v1/services/{id}",
    "GET /api/v1/tokens",
    "GET /api/v1/vms",
    "GET /api/v1/vms/{id}",
    "GET /api/v1/vms/{id}/console",
    "POST /api/v1/authz/query",
    "POST /api/v1/nodes/{id}/drain",
    "POST /api/v1/organizations/{id}/members",
    "POST /api/v1/services",
    "POST /api/v1/services/{id}/configs",
    "POST /api/v1/services/{id}/deploy",
    "POST /api/v1/services/{id}/scale",
    "POST /api/v1/services/{id}/{action}",
    "POST /api/v1/tokens",
    "POST /api/v1/vms",
    "POST /api/v1/vms/{id}/console",
    "POST /api/v1/vms/{id}/shares",
    "POST /api/v1/vms/{id}/{action}",
    "PUT /api/v1/organizations/{id}/members/{user_id}",
    "GET /api/v1/organizations/{id}/networks",
    "POST /api/v1/networks",
    "DELETE /api/v1/networks/{id}",
    "POST /api/v1/networks/reachability",
    "GET /api/v1/networks/{id}/rules",
    "POST /api/v1/networks/{id}/rules",
    "DELETE /api/v1/networks/{id}/rules/{rule_id}",
];

struct Api {
    app: axum::Router,
    control: control::Control,
    site: std::path::PathBuf,
    _db: TestDb,
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.site);
    }
}

async fn api(rate_per_minute: u32) -> Api {
    let db = TestDb::new().await;
    let control = db.control().await;
    let site = std::env::temp_dir().join(format!("strata-api-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&site).unwrap();
    let app = router::build(AppState {
        leptos_options: leptos_options(&site),
        control: control.clone(),
        auth_limiter: server::ratelimit::RateLimiter::per_minute(1000),
        api_limiter: server::ratelimit::RateLimiter::per_minute(rate_per_minute),
        trusted_proxies: Default::default(),
        metrics: Default::default(),
    });
    Api {
        app,
        control,
        site,
        _db: db,
    }
}

/// Sends a request; returns the status, the headers and the body as JSON (Null when empty).
async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
    extra: &[(header::HeaderName, &str)],
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (k, v) in extra {
        req = req.header(k, *v);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, json)
}

async fn get(app: &axum::Router, uri: &str, token: &str) -> (StatusCode, Value) {
    let (s, _, v) = call(app, Method::GET, uri, Some(token), None, &[]).await;
    (s, v)
}

async fn post(app: &axum::Router, uri: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let (s, _, v) = call(app, Method::POST, uri, Some(token), Some(body), &[]).await;
    (s, v)
}

fn token(name: &str, actions: &[&str], scope: TokenScope) -> NewToken {
    NewToken {
        name: name.into(),
        expires_in_days: 30,
        actions: actions.iter().map(|a| a.to_string()).collect(),
        scope,
    }
}

fn is_problem(headers: &axum::http::HeaderMap, body: &Value, status: StatusCode) -> bool {
    headers[header::CONTENT_TYPE] == "application/problem+json"
        && body["status"] == status.as_u16()
        && body["type"] == "about:blank"
        && body["detail"].as_str().is_some_and(|d| !d.is_empty())
}

#[tokio::test]
async fn the_spec_lists_every_route_and_every_route_refuses_without_a_token() {
    let api = api(1000).await;
    let (status, headers, spec) = call(
        &api.app,
        Method::GET,
        "/api/v1/openapi.json",
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let methods = ["get", "post", "put", "patch", "delete"];
    let mut listed = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{user_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{action}", "start");
        for m in methods {
            let method: Method = m.to_uppercase().parse().unwrap();
            let (status, headers, body) = call(
                &api.app,
                method.clone(),
                &concrete,
                None,
                Some(serde_json::json!({})),
                &[],
            )
            .await;
            if item.get(m).is_some() {
                listed.push(format!("{} {path}", m.to_uppercase()));
                assert!(
                    item[m]["security"][0].get("token").is_some(),
                    "{m} {path} names its security"
                );
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{m} {path} without a token"
                );
                assert!(is_problem(&headers, &body, status), "{m} {path}: {body}");
                assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} is routed but not in the spec"
                );
                assert!(is_problem(&headers, &body, status), "{m} {path}: {body}");
            }
        }
    }
    listed.sort();
    let mut expected = OPERATIONS.to_vec();
    expected.sort();
    assert_eq!(listed, expected);

    let (status, headers, body) =
        call(&api.app, Method::GET, "/api/v1/nothing", None, None, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(is_problem(&headers, &body, status), "{body}");
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_exactly_and_leaks_nothing() {
    let api = api(1000).await;
    let (app, c) = (&api.app, &api.control);
    let ann = caller(c, "ann", false).await;
    let bob = caller(c, "bob", false).await;
    let eve = caller(c, "eve", false).await;
    // After the callers: their sessions' passkey check must not lie in `now`'s future.
    let now = Utc::now();
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    let other = c.create_organization(&bob, "other", now).await.unwrap();
    c.add_member(&bob, &other.id, "ann", model::orgs::OrgRole::Member, now)
        .await
        .unwrap();
    let (a1, a1_op) = c
        .create_vm_operation(&ann, &model::vms::NewVm::named(&acme.id, "a1"), now)
        .await
        .unwrap();
    let b1 = c
        .create_vm(&bob, &model::vms::NewVm::named(&other.id, "b1"), now)
        .await
        .unwrap();
    c.share_vm(&bob, &b1.id, "eve", model::vms::ShareLevel::Viewer, now)
        .await
        .unwrap();
    let secret = |t: model::tokens::CreatedToken| t.secret;
    let full = secret(
        c.create_token(&ann, &token("full", &[], TokenScope::Everything), now)
            .await
            .unwrap(),
    );
    let elsewhere = secret(
        c.create_token(
            &ann,
            &token(
                "elsewhere",
                &[],
                TokenScope::Organization {
                    id: other.id.clone(),
                },
            ),
            now,
        )
        .await
        .unwrap(),
    );
    let reader = secret(
        c.create_token(
            &ann,
            &token("reader", &["read"], TokenScope::Everything),
            now,
        )
        .await
        .unwrap(),
    );
    let outsider = secret(
        c.create_token(&eve, &token("eve", &[], TokenScope::Everything), now)
            .await
            .unwrap(),
    );
    let expired = c
        .create_token(&ann, &token("expired", &[], TokenScope::Everything), now)
        .await
        .unwrap();
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(now - Duration::minutes(1)),
        )
        .filter(api_token::Column::Name.eq("expired"))
        .exec(control::testing::db(c))
        .await
        .unwrap();
    let revoked = c
        .create_token(&ann, &token("revoked", &[], TokenScope::Everything), now)
        .await
        .unwrap();
    c.revoke_token(&ann, &revoked.token.id, now).await.unwrap();
    let session = control::testing::session_for(c, ann.user_id).await;

    let vm = format!("/api/v1/vms/{}", a1.id);
    let org = format!("/api/v1/organizations/{}", acme.id);
    let op = format!("/api/v1/operations/{a1_op}");
    let create = serde_json::json!({
        "organization_id": acme.id, "name": "a2", "description": "", "image_id": null,
        "cpu_count": 1, "memory_mb": 128, "disk_gb": 1, "start": false,
    });

    // Without a valid token, every route is 401, whatever else the request carries.
    for (method, uri) in [
        (Method::GET, vm.as_str()),
        (Method::GET, "/api/v1/vms"),
        (Method::POST, &format!("{vm}/start")),
        (Method::DELETE, &vm),
        (Method::GET, &org),
        (Method::GET, &op),
        (Method::GET, "/api/v1/tokens"),
    ] {
        for bad in [
            Some(expired.secret.as_str()),
            Some(revoked.secret.as_str()),
            Some("strata_0000000000000000000000000000000000000000000"),
            Some("not-even-a-token"),
            None,
        ] {
            let (status, headers, body) = call(app, method.clone(), uri, bad, None, &[]).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with {bad:?}"
            );
            assert!(is_problem(&headers, &body, status), "{body}");
        }
        // A session cookie is no credential here.
        let cookie = format!("strata_session={session}");
        let (status, _, _) = call(
            app,
            method.clone(),
            uri,
            None,
            None,
            &[(header::COOKIE, cookie.as_str())],
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} with a cookie"
        );
    }

    // Reading one VM: the owner's full token; a token restricted to another organization,
    // and a person without rights, get the same 404 as a VM that does not exist.
    let missing = format!("/api/v1/vms/{}", uuid::Uuid::new_v4());
    let (_, nothing) = get(app, &missing, &full).await;
    for (who, want) in [
        (&full, StatusCode::OK),
        (&reader, StatusCode::OK),
        (&elsewhere, StatusCode::NOT_FOUND),
        (&outsider, StatusCode::NOT_FOUND),
    ] {
        let (status, body) = get(app, &vm, who).await;
        assert_eq!(status, want, "GET vm: {body}");
        if want == StatusCode::NOT_FOUND {
            assert_eq!(body["detail"], nothing["detail"], "no existence leak");
        }
    }
    for (who, org_status, op_status) in [
        (&reader, StatusCode::NOT_FOUND, StatusCode::OK),
        (&elsewhere, StatusCode::NOT_FOUND, StatusCode::NOT_FOUND),
        (&outsider, StatusCode::NOT_FOUND, StatusCode::NOT_FOUND),
        (&full, StatusCode::OK, StatusCode::OK),
    ] {
        assert_eq!(get(app, &org, who).await.0, org_status, "GET organization");
        assert_eq!(get(app, &op, who).await.0, op_status, "GET operation");
    }
    // Lists hold only what the token may see.
    let names = |v: &Value| -> Vec<String> {
        v["vms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&get(app, "/api/v1/vms", &full).await.1), ["a1", "b1"]);
    assert_eq!(names(&get(app, "/api/v1/vms", &elsewhere).await.1), ["b1"]);
    assert_eq!(names(&get(app, "/api/v1/vms", &outsider).await.1), ["b1"]);
    let orgs = get(app, "/api/v1/organizations", &elsewhere).await.1;
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["items"][0]["name"], "other");

    // Networks: listed for those who may see the organization; a rule takes more than reading.
    let nets = get(app, &format!("{org}/networks"), &full).await;
    assert_eq!(nets.0, StatusCode::OK, "{}", nets.1);
    assert_eq!(nets.1[0]["name"], "default");
    assert_eq!(
        get(app, &format!("{org}/networks"), &outsider).await.0,
        StatusCode::NOT_FOUND
    );
    let rules = format!(
        "/api/v1/networks/{}/rules",
        nets.1[0]["id"].as_str().unwrap()
    );
    let rule =
        serde_json::json!({ "protocol": "tcp", "port_from": 22, "from_cidr": "10.9.0.0/24" });
    let (status, body) = post(app, &rules, &reader, rule.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post(app, &rules, &full, rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["summary"], "tcp/22 from 10.9.0.0/24");

    // Acting: readable but not among the token's actions is 403; hidden is 404.
    for (who, want) in [
        (&reader, StatusCode::FORBIDDEN),
        (&elsewhere, StatusCode::NOT_FOUND),
        (&outsider, StatusCode::NOT_FOUND),
    ] {
        let (status, body) = post(app, &format!("{vm}/start"), who, Value::Null).await;
        assert_eq!(status, want, "start: {body}");
        let (status, _, body) = call(app, Method::DELETE, &vm, Some(who), None, &[]).await;
        assert_eq!(status, want, "delete: {body}");
        let (status, body) = post(app, "/api/v1/vms", who, create.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "create: {body}");
    }
    // Eve may see b1 (a viewer) but not start it.
    let (status, _) = post(
        app,
        &format!("/api/v1/vms/{}/start", b1.id),
        &outsider,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Tokens: each person lists their own; everyone's is for platform admins.
    let (status, mine) = get(app, "/api/v1/tokens", &outsider).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        get(app, "/api/v1/tokens?all=true", &full).await.0,
        StatusCode::FORBIDDEN
    );
    let full_id = c
        .list_tokens(&ann, false)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "full")
        .unwrap()
        .id;
    let (status, _, _) = call(
        app,
        Method::DELETE,
        &format!("/api/v1/tokens/{full_id}"),
        Some(&outsider),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's token");

    // The full token does it all; 202 names the operation to follow.
    let (status, headers, body) = call(
        app,
        Method::POST,
        "/api/v1/vms",
        Some(&full),
        Some(create),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let op_id = body["operation_id"].as_str().unwrap();
    assert_eq!(
        headers[header::LOCATION],
        format!("/api/v1/operations/{op_id}")
    );
    let (status, follow) = get(app, &format!("/api/v1/operations/{op_id}"), &full).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(follow["kind"], "vm.create");
    let (status, body) = post(app, &format!("{vm}/start"), &full, Value::Null).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = post(app, &format!("{vm}/fly"), &full, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown action: {body}");

    // Services: the same rules; a change is a deployment with its operation.
    let mut new_svc = model::services::NewService::named(&acme.id, "api");
    new_svc.replicas = 0;
    let svc = c.create_service(&ann, &new_svc, now).await.unwrap();
    let svc_uri = format!("/api/v1/services/{}", svc.id);
    for (who, want) in [
        (&reader, StatusCode::OK),
        (&elsewhere, StatusCode::NOT_FOUND),
        (&outsider, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(get(app, &svc_uri, who).await.0, want, "GET service");
        let scale = serde_json::json!({ "replicas": 2 });
        let want_change = if want == StatusCode::OK {
            StatusCode::FORBIDDEN
        } else {
            want
        };
        assert_eq!(
            post(app, &format!("{svc_uri}/scale"), who, scale).await.0,
            want_change,
            "scale"
        );
        assert_eq!(
            post(app, &format!("{svc_uri}/stop"), who, Value::Null)
                .await
                .0,
            want_change,
            "stop"
        );
    }
    let listed = get(app, "/api/v1/services", &elsewhere).await.1;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    let (status, headers, body) = call(
        app,
        Method::POST,
        &format!("{svc_uri}/scale"),
        Some(&full),
        Some(serde_json::json!({ "replicas": 2 })),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["deployment"]["kind"], "scale");
    let op = body["operation_id"].as_str().unwrap();
    assert_eq!(
        headers[header::LOCATION],
        format!("/api/v1/operations/{op}")
    );
    let (status, followed) = get(app, &format!("/api/v1/operations/{op}"), &reader).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a service's reader follows its operations"
    );
    assert_eq!(followed["kind"], "service.scale");
    assert_eq!(
        get(app, &format!("/api/v1/operations/{op}"), &elsewhere)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // The audit log: the owner's token reads its organization's rows, which name the token;
    // a token without `view_audit` among its actions is refused.
    let (status, audit) = get(app, "/api/v1/audit?action=service.scale", &full).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actors: Vec<&str> = audit["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["actor"].as_str().unwrap())
        .collect();
    assert!(actors.contains(&"ann via token full"), "{actors:?}");
    assert_eq!(
        get(app, "/api/v1/audit", &reader).await.0,
        StatusCode::FORBIDDEN
    );

    // Members and shares as writes, service configurations, nodes: the same rules.
    let members = format!("/api/v1/organizations/{}/members", acme.id);
    let eve_in = serde_json::json!({ "username": "eve", "role": "member" });
    for who in [&reader, &elsewhere, &outsider] {
        assert_eq!(
            post(app, &members, who, eve_in.clone()).await.0,
            StatusCode::NOT_FOUND
        );
    }
    let (status, body) = post(app, &members, &full, eve_in).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let eve_id = body["person"]["id"].as_str().unwrap().to_owned();
    let (status, _, body) = call(
        app,
        Method::PUT,
        &format!("{members}/{eve_id}"),
        Some(&full),
        Some(serde_json::json!({ "role": "owner" })),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _, body) = call(
        app,
        Method::DELETE,
        &format!("{members}/{eve_id}"),
        Some(&full),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let shares = format!("{vm}/shares");
    let share = serde_json::json!({ "username": "bob", "level": "viewer" });
    assert_eq!(
        post(app, &shares, &reader, share.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(app, &shares, &elsewhere, share.clone()).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = post(app, &shares, &full, share).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let configs = format!("{svc_uri}/configs");
    let config = serde_json::json!({ "config": "{\"port\": 80}" });
    assert_eq!(
        post(app, &configs, &reader, config.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = post(app, &configs, &full, config).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(
        get(app, "/api/v1/nodes", &full).await.0,
        StatusCode::FORBIDDEN,
        "not an admin"
    );
}

#[tokio::test]
async fn stale_writes_get_412_lists_page_by_cursor_and_each_token_has_a_rate_limit() {
    let api = api(40).await;
    let (app, c) = (&api.app, &api.control);
    let ann = caller(c, "ann", false).await;
    // After the callers: their sessions' passkey check must not lie in `now`'s future.
    let now = Utc::now();
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    for name in ["v1", "v2", "v3"] {
        c.create_vm(&ann, &model::vms::NewVm::named(&acme.id, name), now)
            .await
            .unwrap();
    }
    let full = c
        .create_token(&ann, &token("full", &[], TokenScope::Everything), now)
        .await
        .unwrap()
        .secret;

    // Pages follow their cursor; a cursor that does not exist is a 400 problem.
    let (status, first) = get(app, "/api/v1/vms?limit=2", &full).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["total"], 3);
    assert_eq!(first["vms"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    let uri = format!("/api/v1/vms?limit=2&after={}", next.replace('\n', "%0A"));
    let (_, second) = get(app, &uri, &full).await;
    assert_eq!(second["vms"][0]["name"], "v3");
    assert!(second["next"].is_null());
    let (status, headers, body) = call(
        app,
        Method::GET,
        "/api/v1/vms?limit=x",
        Some(&full),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(is_problem(&headers, &body, status), "{body}");
    let (status, _) = get(app, "/api/v1/organizations?after=nope", &full).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A body that is not what the call takes is a 400 problem, not a framework page.
    let (status, headers, body) = call(
        app,
        Method::POST,
        "/api/v1/vms",
        Some(&full),
        Some(serde_json::json!({ "name": 5 })),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(is_problem(&headers, &body, status), "{body}");

    // If-Match: the VM's ETag is its generation; an older one is refused.
    let id = first["vms"][0]["id"].as_str().unwrap();
    let (_, headers, _) = call(
        app,
        Method::GET,
        &format!("/api/v1/vms/{id}"),
        Some(&full),
        None,
        &[],
    )
    .await;
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let stale = "\"0\"";
    let (status, headers, body) = call(
        app,
        Method::POST,
        &format!("/api/v1/vms/{id}/start"),
        Some(&full),
        None,
        &[(header::IF_MATCH, stale)],
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert!(is_problem(&headers, &body, status));
    let (status, _, body) = call(
        app,
        Method::POST,
        &format!("/api/v1/vms/{id}/start"),
        Some(&full),
        None,
        &[(header::IF_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, _, _) = call(
        app,
        Method::DELETE,
        &format!("/api/v1/vms/{id}"),
        Some(&full),
        None,
        &[(header::IF_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "the start moved it on"
    );

    // The rate limit counts per token: this one runs out, another goes on.
    let mut limited = 0;
    for _ in 0..40 {
        if get(app, "/api/v1/tokens", &full).await.0 == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited > 0, "40 more requests in a minute exceed 40");
    let other = c
        .create_token(&ann, &token("other", &[], TokenScope::Everything), now)
        .await
        .unwrap()
        .secret;
    assert_eq!(get(app, "/api/v1/tokens", &other).await.0, StatusCode::OK);
}

#[tokio::test]
async fn admins_run_nodes_and_images_and_stale_service_writes_get_412() {
    let api = api(1000).await;
    let (app, c) = (&api.app, &api.control);
    let root = caller(c, "root", true).await;
    let ann = caller(c, "ann", false).await;
    let now = Utc::now();
    c.set_agent_url("wss://127.0.0.1:9".into());
    let admin = c
        .create_token(&root, &token("ops", &[], TokenScope::Everything), now)
        .await
        .unwrap()
        .secret;
    let user = c
        .create_token(&ann, &token("user", &[], TokenScope::Everything), now)
        .await
        .unwrap()
        .secret;

    // Nodes are for platform admins: add one (a join ticket), cordon, uncordon, remove.
    let host = serde_json::json!({ "name": "host-9" });
    assert_eq!(
        post(app, "/api/v1/nodes", &user, host.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(app, "/api/v1/nodes", &user).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, ticket) = post(app, "/api/v1/nodes", &admin, host).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert!(
        ticket["command"].as_str().unwrap().contains("strata agent"),
        "{ticket}"
    );
    let added = ticket["node_id"].as_str().unwrap().to_owned();
    let (_, nodes) = get(app, "/api/v1/nodes", &admin).await;
    let names: Vec<&str> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"host-9"), "{names:?}");
    let local = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] != added.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for action in ["cordon", "uncordon"] {
        let uri = format!("/api/v1/nodes/{local}/{action}");
        assert_eq!(
            post(app, &uri, &user, Value::Null).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, body) = post(app, &uri, &admin, Value::Null).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{action}: {body}");
    }
    let (status, _, body) = call(
        app,
        Method::DELETE,
        &format!("/api/v1/nodes/{added}"),
        Some(&admin),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Images: registering is for admins; a file that is not in the image directory is a 400.
    let image = serde_json::json!({
        "name": "nope", "os": "linux", "format": "disk", "kernel_path": null,
        "initrd_path": null, "disk_path": "missing.qcow2", "cmdline": "", "boot_marker": null,
    });
    assert_eq!(
        post(app, "/api/v1/images", &user, image.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = post(app, "/api/v1/images", &admin, image).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Services carry their generation as an ETag; a write naming an older one is refused.
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();

    // Quotas: members read them, platform admins set them.
    let quota = format!("/api/v1/organizations/{}/quota", acme.id);
    let limits = serde_json::json!({ "vcpus": null, "memory_mb": null, "disk_gb": null, "vms": 5, "services": null });
    let (status, _, _) = call(
        app,
        Method::PUT,
        &quota,
        Some(&user),
        Some(limits.clone()),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = call(app, Method::PUT, &quota, Some(&admin), Some(limits), &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = get(app, &quota, &user).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["quota"]["vms"], 5);

    let mut new_svc = model::services::NewService::named(&acme.id, "api");
    new_svc.replicas = 0;
    let svc = c.create_service(&ann, &new_svc, now).await.unwrap();
    let uri = format!("/api/v1/services/{}", svc.id);
    let (_, headers, _) = call(app, Method::GET, &uri, Some(&user), None, &[]).await;
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let scale = serde_json::json!({ "replicas": 0 });
    let (status, _, body) = call(
        app,
        Method::POST,
        &format!("{uri}/scale"),
        Some(&user),
        Some(scale.clone()),
        &[(header::IF_MATCH, "\"0\"")],
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (status, _, body) = call(
        app,
        Method::POST,
        &format!("{uri}/scale"),
        Some(&user),
        Some(scale),
        &[(header::IF_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, _, _) = call(
        app,
        Method::DELETE,
        &uri,
        Some(&user),
        None,
        &[(header::IF_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "the scale moved it on"
    );
}
