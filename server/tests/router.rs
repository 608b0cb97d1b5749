//! Router-level tests without a browser or a socket: health, readiness, 404, compression,
//! request ids, static files and a server function, on the database this run asks for.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use control::testing::TestDb;
use http_body_util::BodyExt;
use server::{router, serve::leptos_options, AppState};
use tower::ServiceExt;

struct Harness {
    app: axum::Router,
    control: control::Control,
    site: std::path::PathBuf,
    _db: TestDb,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.site);
    }
}

async fn harness() -> Harness {
    harness_with(Default::default()).await
}

async fn harness_with(metrics: server::metrics::MetricsAccess) -> Harness {
    harness_behind(metrics, Default::default()).await
}

async fn harness_behind(
    metrics: server::metrics::MetricsAccess,
    trusted_proxies: server::client_ip::TrustedProxies,
) -> Harness {
    let db = TestDb::new().await;
    let control = db.control().await;
    let site = std::env::temp_dir().join(format!("strata-site-{}", uuid_like()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/strata.css"), "body{color:red}".repeat(100)).unwrap();
    std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
    let state = AppState {
        leptos_options: leptos_options(&site),
        control: control.clone(),
        auth_limiter: server::ratelimit::RateLimiter::per_minute(30),
        api_limiter: server::ratelimit::RateLimiter::per_minute(1000),
        trusted_proxies,
        metrics,
    };
    Harness {
        app: router::build(state),
        control,
        site,
        _db: db,
    }
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn get(app: &axum::Router, uri: &str, encoding: Option<&str>) -> axum::response::Response {
    get_as(app, uri, encoding, None).await
}

async fn get_as(
    app: &axum::Router,
    uri: &str,
    encoding: Option<&str>,
    token: Option<&str>,
) -> axum::response::Response {
    let mut req = Request::get(uri);
    if let Some(e) = encoding {
        req = req.header(header::ACCEPT_ENCODING, e);
    }
    if let Some(t) = token {
        req = req.header(header::COOKIE, format!("strata_session={t}"));
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn text(res: axum::response::Response) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn healthz_answers_ok_as_json() {
    let h = harness().await;
    let res = get(&h.app, "/healthz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/json",
        "health is JSON"
    );
    assert_eq!(text(res).await, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn readyz_reflects_the_database_and_migrations() {
    let h = harness().await;
    let res = get(&h.app, "/readyz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        text(res).await,
        r#"{"status":"ready","database":true,"migrations":true}"#
    );

    // Forget that the latest migration ran: the instance must stop claiming readiness.
    h.control
        .execute_unprepared(
            "DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)",
        )
        .await
        .unwrap();
    let res = get(&h.app, "/readyz", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        text(res).await,
        r#"{"status":"not_ready","database":true,"migrations":false}"#
    );
}

#[tokio::test]
async fn unknown_pages_render_the_404_page_with_status_404() {
    let h = harness().await;
    let (_, token) = control::testing::user_with_session(&h.control, "ada", false).await;
    let res = get_as(&h.app, "/no/such/page", None, Some(&token)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = text(res).await;
    assert!(body.contains("Page not found"), "{body}");
    assert!(body.contains("<nav"), "the 404 page keeps the app shell");

    let res = get(&h.app, "/pkg/missing.wasm", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().get(header::CACHE_CONTROL).is_none());
}

#[tokio::test]
async fn pages_render_on_the_server_with_real_data() {
    let h = harness().await;
    let (_, token) = control::testing::user_with_session(&h.control, "ada", false).await;
    let res = get_as(&h.app, "/", None, Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(res).await;
    assert!(body.contains("Dashboard"), "{body}");
    assert!(
        body.contains(r#"data-testid="count-nodes""#),
        "the counts are rendered into the HTML: {body}"
    );
    for page in ["/vms", "/services", "/organizations"] {
        let res = get_as(&h.app, page, None, Some(&token)).await;
        assert_eq!(res.status(), StatusCode::OK, "{page}");
        assert!(
            text(res).await.contains("data-testid=\"empty-state\""),
            "{page}"
        );
    }
}

#[tokio::test]
async fn the_vm_list_page_renders_one_page_with_a_pager() {
    let h = harness().await;
    let caller = control::testing::caller(&h.control, "ada", false).await;
    let ada = caller.user_id;
    let token = control::testing::session_for(&h.control, ada).await;
    let org = h
        .control
        .create_organization(&caller, "acme", chrono::Utc::now())
        .await
        .unwrap();
    for i in 0..51 {
        control::testing::stopped_vm(&h.control, &org.id, &format!("vm-{i:02}"), ada).await;
    }
    let res = get_as(&h.app, "/vms", None, Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(res).await;
    assert_eq!(body.matches(r#"data-testid="vm-row""#).count(), 50);
    assert!(body.contains(r#"data-name="vm-49""#), "{body}");
    assert!(
        !body.contains(r#"data-name="vm-50""#),
        "the 51st is on the next page"
    );
    assert!(body.contains("1–50 of 51"), "{body}");
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let h = harness().await;
    let (_, token) = control::testing::user_with_session(&h.control, "ada", false).await;
    // Compressed as they are written: gzip, never brotli (its window made each response hold
    // megabytes). The release site's files also have brotli copies made at build time, which
    // `ServeDir` sends as they are; this test site has none, so its file is compressed like a
    // page.
    for (accept, page, file) in [
        ("gzip, deflate, br", Some("gzip"), Some("gzip")),
        ("br", None, None),
        ("gzip", Some("gzip"), Some("gzip")),
        ("identity", None, None),
    ] {
        let res = get_as(&h.app, "/", Some(accept), Some(&token)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            page,
            "Accept-Encoding: {accept}"
        );
        let res = get(&h.app, "/pkg/strata.css", Some(accept)).await;
        assert_eq!(
            res.headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            file,
            "static file with Accept-Encoding: {accept}"
        );
    }
}

#[tokio::test]
async fn static_files_carry_cache_headers_and_every_response_a_request_id() {
    let h = harness().await;
    let res = get(&h.app, "/pkg/strata.css", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Tests run without the site build's hash.txt, so assets must be revalidated.
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID request id: {id}");

    let res = get(&h.app, "/favicon.svg", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()["x-request-id"].to_str().unwrap(), id);
}

#[tokio::test]
async fn the_dashboard_server_function_returns_real_counts_to_signed_in_callers_only() {
    let h = harness().await;
    let call = |token: Option<String>| {
        let mut req = Request::post("/api/dashboard")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(t) = token {
            req = req.header(header::COOKIE, format!("strata_session={t}"));
        }
        h.app.clone().oneshot(req.body(Body::empty()).unwrap())
    };
    let res = call(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(res).await, r#"{"kind":"unauthenticated"}"#);
    let res = call(Some("forged-token".into())).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let (_, token) = control::testing::user_with_session(&h.control, "ada", false).await;
    let res = call(Some(token)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(json["counts"]["nodes"], 1);
    assert_eq!(json["counts"]["users"], 1);
    let backend = if control::testing::backend() == "postgres" {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(json["database"], backend);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let h = harness().await;
    let res = h
        .app
        .clone()
        .oneshot(
            Request::post("/api/dashboard")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::CONTENT_LENGTH, router::BODY_LIMIT + 1)
                .body(Body::from(vec![b'a'; router::BODY_LIMIT + 1]))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_back() {
    let h = harness().await;
    for (page, next) in [
        ("/", "/"),
        ("/vms?x=1", "/vms%3Fx%3D1"),
        ("/settings", "/settings"),
    ] {
        let res = get(&h.app, page, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(
            res.headers()[header::LOCATION],
            format!("/signin?next={next}")
        );
    }
    for page in ["/signin", "/signup", "/recover"] {
        let res = get(&h.app, page, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{page} is public");
    }
    // A fresh installation points the first visitor at creating the admin account.
    let fresh = text(get(&h.app, "/signin", None).await).await;
    assert!(
        fresh.contains("Create the administrator account"),
        "{fresh}"
    );
    control::testing::user_with_session(&h.control, "ada", true).await;
    let later = text(get(&h.app, "/signin", None).await).await;
    assert!(!later.contains("Create the administrator account"));
}

#[tokio::test]
async fn cross_site_mutations_are_refused() {
    let h = harness().await;
    let (_, token) = control::testing::user_with_session(&h.control, "ada", false).await;
    for (origin, expect) in [
        ("http://evil.example", StatusCode::FORBIDDEN),
        ("http://localhost:3000", StatusCode::OK),
    ] {
        let res = h
            .app
            .clone()
            .oneshot(
                Request::post("/api/dashboard")
                    .header(header::ORIGIN, origin)
                    .header(header::COOKIE, format!("strata_session={token}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), expect, "Origin: {origin}");
    }
}

#[tokio::test]
async fn every_private_server_function_refuses_anonymous_callers() {
    let h = harness().await;
    let (_, member) = control::testing::user_with_session(&h.control, "bob", false).await;
    let private = [
        "/api/dashboard",
        "/api/session/sign_out",
        "/api/security/passkeys",
        "/api/security/begin_reauth",
        "/api/security/finish_reauth",
        "/api/security/begin_add_passkey",
        "/api/security/finish_add_passkey",
        "/api/security/rename_passkey",
        "/api/security/remove_passkey",
        "/api/security/sessions",
        "/api/security/revoke_session",
        "/api/security/revoke_other_sessions",
        "/api/admin/users",
        "/api/admin/create_invite",
        "/api/admin/set_user_disabled",
        "/api/admin/create_recovery_link",
        "/api/nodes/list",
        "/api/nodes/cordon",
        "/api/nodes/drain",
        "/api/nodes/add",
        "/api/nodes/remove",
        "/api/orgs/quota",
        "/api/orgs/set_quota",
    ];
    let call = |path: &'static str, token: Option<String>| {
        // Arguments a valid call would carry, so only the caller decides the answer.
        let body = "ceremony_id=x&credential=x&id=x&name=x&user_id=x&disabled=true&node_id=x\
                    &cordoned=true&org_id=x&quota[vms]=1";
        let mut req =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(t) = token {
            req = req.header(header::COOKIE, format!("strata_session={t}"));
        }
        h.app.clone().oneshot(req.body(Body::from(body)).unwrap())
    };
    for path in private {
        let res = call(path, None).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(text(res).await, r#"{"kind":"unauthenticated"}"#, "{path}");
    }
    for path in private.iter().filter(|p| p.starts_with("/api/admin/")) {
        let res = call(path, Some(member.clone())).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path} as a member");
    }
}

#[tokio::test]
async fn audit_exports_are_downloads_for_those_who_may_read_the_log() {
    let h = harness().await;
    let (_, admin) = control::testing::user_with_session(&h.control, "root", true).await;
    let (_, member) = control::testing::user_with_session(&h.control, "bob", false).await;
    let res = get(&h.app, "/api/audit/export?format=csv", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = get_as(&h.app, "/api/audit/export?format=csv", None, Some(&member)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = get_as(&h.app, "/api/audit/export?format=xml", None, Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = get_as(
        &h.app,
        "/api/audit/export?format=csv&outcome=success",
        None,
        Some(&admin),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("strata-audit.csv"));
    assert!(text(res).await.starts_with("id,at,actor,"));
}

/// Every sample line of a Prometheus text exposition: (name with labels, value).
fn samples(text: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            assert!(
                comment.starts_with(" HELP ") || comment.starts_with(" TYPE "),
                "bad comment line: {line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample is `series value`");
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "unclosed labels in {line}");
        }
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        out.push((series.to_owned(), value));
    }
    out
}

fn sample(all: &[(String, f64)], series: &str) -> f64 {
    all.iter()
        .find(|(s, _)| s == series)
        .map(|(_, v)| *v)
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_need_the_token_parse_as_prometheus_text_and_move_with_requests() {
    let h = harness_with(server::metrics::MetricsAccess::Token("s3cret".into())).await;
    let scrape = |token: Option<&'static str>| {
        let mut req = Request::get("/metrics");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        h.app.clone().oneshot(req.body(Body::empty()).unwrap())
    };
    assert_eq!(
        scrape(None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        scrape(Some("wrong")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let (_, token) = control::testing::user_with_session(&h.control, "ada", false).await;
    get(&h.app, "/healthz", None).await;
    let res = scrape(Some("s3cret")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let before = samples(&text(res).await);
    let healthz = r#"strata_http_requests_total{route="/healthz",status="200"}"#;
    assert!(sample(&before, healthz) >= 1.0);
    assert!(sample(&before, "strata_sessions_active") >= 1.0);
    assert!(before
        .iter()
        .any(|(s, _)| s.starts_with("strata_http_request_duration_seconds_bucket")));

    for _ in 0..3 {
        get(&h.app, "/healthz", None).await;
    }
    // A server function call runs a permission check.
    let res = h
        .app
        .clone()
        .oneshot(
            Request::post("/api/orgs/list")
                .header(header::COOKIE, format!("strata_session={token}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let after = samples(&text(scrape(Some("s3cret")).await.unwrap()).await);
    assert!(sample(&after, healthz) >= sample(&before, healthz) + 3.0);
    assert!(
        sample(
            &after,
            r#"strata_server_fn_calls_total{function="/api/orgs/list",result="ok"}"#
        ) >= 1.0
    );
    assert!(after
        .iter()
        .any(|(s, _)| s.starts_with("strata_authz_lookups_total")));

    // Invented URLs share one label instead of growing the series.
    get(&h.app, "/api/no-such-fn-xyz", None).await;
    let last = text(scrape(Some("s3cret")).await.unwrap()).await;
    assert!(!last.contains("no-such-fn-xyz"));
}

#[tokio::test]
async fn metrics_are_not_served_on_the_main_address_unless_configured() {
    let h = harness().await;
    let res = get(&h.app, "/metrics", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(text(res).await.contains("STRATA_METRICS_TOKEN"));
}

/// A sign-in request as it arrives from `peer` over a socket, with an `X-Forwarded-For`.
async fn begin_signin_from(h: &Harness, peer: &str, forwarded_for: Option<&str>) -> StatusCode {
    let mut req = Request::post("/api/auth/begin_signin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let mut req = req.body(Body::empty()).unwrap();
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    h.app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let proxies = server::client_ip::TrustedProxies::parse("10.0.0.0/8").unwrap();
    let h = harness_behind(Default::default(), proxies).await;
    // 30 a minute per address: a client inventing a new X-Forwarded-For each time is still
    // one address.
    for i in 0..30 {
        let xff = format!("198.51.100.{i}");
        let status = begin_signin_from(&h, "203.0.113.9:5000", Some(&xff)).await;
        assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "request {i}");
    }
    let status = begin_signin_from(&h, "203.0.113.9:5001", Some("198.51.100.200")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Without any trusted proxy the header means nothing either.
    let h = harness().await;
    for i in 0..30 {
        let xff = format!("198.51.100.{i}");
        begin_signin_from(&h, "203.0.113.9:5000", Some(&xff)).await;
    }
    let status = begin_signin_from(&h, "203.0.113.9:5000", Some("192.0.2.1")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_trusted_proxy_gives_each_forwarded_client_its_own_bucket() {
    let proxies = server::client_ip::TrustedProxies::parse("10.0.0.0/8").unwrap();
    let h = harness_behind(Default::default(), proxies).await;
    // Everyone arrives from the load balancer at 10.0.0.2.
    for i in 0..30 {
        let status = begin_signin_from(&h, "10.0.0.2:4000", Some("192.0.2.1")).await;
        assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "request {i}");
    }
    let status = begin_signin_from(&h, "10.0.0.2:4000", Some("192.0.2.1")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "192.0.2.1 is over");
    // Another client behind the same proxy is not.
    let status = begin_signin_from(&h, "10.0.0.2:4000", Some("192.0.2.2")).await;
    assert_ne!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "192.0.2.2 has its own"
    );
    // A client prepending a fake hop is still itself: the proxy appended the real address.
    let status = begin_signin_from(&h, "10.0.0.2:4000", Some("192.0.2.2, 192.0.2.1")).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "rightmost untrusted hop"
    );
}

#[tokio::test]
async fn pages_send_a_content_security_policy_with_a_fresh_nonce_on_every_inline_script() {
    let h = harness().await;
    let (_, token) = control::testing::user_with_session(&h.control, "ada", false).await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = get_as(&h.app, "/", None, Some(&token)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        for part in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "connect-src 'self' ws://localhost:3000",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'self'",
        ] {
            assert!(csp.contains(part), "{part} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("a nonce in {csp}"))
            .to_owned();
        let body = text(res).await;
        let scripts: Vec<&str> = body.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "the hydration script: {body}");
        for s in scripts {
            let tag = s.split('>').next().unwrap_or("");
            // Scripts with a src come from this site; inline ones need the nonce.
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains("src="),
                "an inline script without the nonce: <script{tag}>"
            );
        }
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a new nonce per response");

    // Everything else carries the policy without a nonce.
    for uri in ["/healthz", "/pkg/strata.css", "/signin"] {
        let res = get(&h.app, uri, None).await;
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        if uri != "/signin" {
            assert!(!csp.contains("nonce-"), "{uri}: {csp}");
        }
    }
}
