//! Every server function of organizations, VMs, services, the Access panel, nodes and user
//! administration, called over HTTP as each kind of caller: only the allowed ones succeed, and
//! refusals are 401 (anonymous), 404 (cannot see it) or 403 (can see it, may not do this).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::Utc;
use control::testing::{user_with_session, TestDb};
use http_body_util::BodyExt;
use model::vms::{NewVm, ShareLevel};
use server::{router, serve::leptos_options, AppState};
use tower::ServiceExt;

const CALLERS: [&str; 5] = ["anonymous", "stranger", "member", "owner", "admin"];

struct World {
    app: axum::Router,
    control: control::Control,
    tokens: Vec<Option<String>>,
    org: String,
    vm: String,
    /// The VM's queued creation.
    op: String,
    /// A service and its queued first deployment.
    svc: String,
    /// The organization's default network (the VM has its card on it).
    network: String,
    /// A rule of that network (tcp/5432 from 10.9.0.0/16).
    rule: String,
    /// A (stopped) replica of that service.
    replica: String,
    dep: String,
    tess: String,
    vic: String,
    dora: String,
    /// A node added but not joined (no VMs: it can be removed).
    spare: String,
    _db: TestDb,
    site: std::path::PathBuf,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.site);
    }
}

async fn world() -> World {
    let db = TestDb::new().await;
    let control = db.control().await;
    let now = Utc::now();
    let mut tokens = vec![None];
    let mut ids = Vec::new();
    for (name, admin) in [
        ("stranger", false),
        ("member", false),
        ("owner", false),
        ("admin", true),
    ] {
        let (id, token) = user_with_session(&control, name, admin).await;
        tokens.push(Some(token));
        ids.push(id);
    }
    let caller = |i: usize, name: &str, admin: bool| control::auth::Caller {
        user_id: ids[i],
        session_id: uuid::Uuid::nil(),
        username: name.to_owned(),
        display_name: name.to_owned(),
        is_admin: admin,
        client: control::auth::ClientInfo::new("127.0.0.1", "test"),
        token: None,
    };
    let owner = caller(2, "owner", false);
    control.set_agent_url("wss://127.0.0.1:9".into());
    let spare = control
        .add_node(&caller(3, "admin", true), "spare", now)
        .await
        .unwrap()
        .node_id;
    let (tess, _) = user_with_session(&control, "tess", false).await;
    let (vic, _) = user_with_session(&control, "vic", false).await;
    let (dora, _) = user_with_session(&control, "dora", false).await;
    let crate::common::Acme { org, vm } =
        crate::common::acme(&control, &owner, &["member", "tess"], now).await;
    control
        .share_vm(&owner, &vm, "vic", ShareLevel::Viewer, now)
        .await
        .unwrap();
    let mut new_svc = model::services::NewService::named(&org, "api");
    new_svc.replicas = 0;
    let svc = control.create_service(&owner, &new_svc, now).await.unwrap();
    let dep = control.service(&owner, &svc.id).await.unwrap().deployments[0]
        .id
        .clone();
    let replica = control::testing::stopped_replica(&control, &svc.id, "api-1").await;
    let site = std::env::temp_dir().join(format!("strata-matrix-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&site).unwrap();
    let app = router::build(AppState {
        leptos_options: leptos_options(&site),
        control: control.clone(),
        auth_limiter: server::ratelimit::RateLimiter::per_minute(1000),
        api_limiter: server::ratelimit::RateLimiter::per_minute(1000),
        trusted_proxies: Default::default(),
        metrics: Default::default(),
    });
    let network = control.networks(&owner, &org).await.unwrap()[0].id.clone();
    let rule = control
        .add_network_rule(&owner, &network, &pg_rule("10.9.0.0/16"), now)
        .await
        .unwrap()
        .id;
    let op = control
        .list_operations(&owner, None)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.target_id == vm)
        .expect("the VM's creation is queued")
        .id;
    World {
        app,
        control,
        tokens,
        org,
        vm,
        op,
        svc: svc.id,
        network,
        rule,
        replica,
        dep,
        spare,
        tess: tess.to_string(),
        vic: vic.to_string(),
        dora: dora.to_string(),
        _db: db,
        site,
    }
}

/// A rule letting tcp/5432 in from `cidr`.
fn pg_rule(cidr: &str) -> model::networks::NewRule {
    model::networks::NewRule {
        protocol: model::networks::RuleProtocol::Tcp,
        port_from: Some(5432),
        port_to: None,
        from_cidr: Some(cidr.to_owned()),
        from_network: None,
        from_tag: None,
        description: String::new(),
    }
}

/// An endpoint, its arguments, and the status each caller must get (in `CALLERS` order).
struct Case {
    path: &'static str,
    body: fn(&World) -> String,
    expect: [u16; 5],
    /// The audit action a change writes; None for reads.
    audit: Option<&'static str>,
}

const OK: u16 = 200;
const UNAUTH: u16 = 401;
const FORBID: u16 = 403;
const HIDDEN: u16 = 404;
const CONFLICT: u16 = 409;

fn cases() -> Vec<Case> {
    vec![
        Case {
            path: "/api/tokens/list",
            body: |_| "everyone=false".into(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/tokens/list",
            body: |_| "everyone=true".into(),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: None,
        },
        Case {
            path: "/api/tokens/create",
            body: |_| {
                serde_json::json!({ "new": { "name": "bot", "expires_in_days": 7 } }).to_string()
            },
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: Some("token.create"),
        },
        // Nobody's token by that id: the same answer for everyone.
        Case {
            path: "/api/tokens/revoke",
            body: |_| format!("id={}", uuid::Uuid::new_v4()),
            expect: [UNAUTH, HIDDEN, HIDDEN, HIDDEN, HIDDEN],
            audit: None,
        },
        Case {
            path: "/api/orgs/list",
            body: |_| String::new(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/orgs/create",
            body: |_| "name=new-org".into(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: Some("organization.create"),
        },
        Case {
            path: "/api/orgs/get",
            body: |w| format!("id={}", w.org),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/orgs/add_member",
            body: |w| format!("org_id={}&username=dora&role=member", w.org),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("organization.add_member"),
        },
        Case {
            path: "/api/orgs/change_role",
            body: |w| format!("org_id={}&user_id={}&role=owner", w.org, w.tess),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("organization.change_role"),
        },
        Case {
            path: "/api/orgs/remove_member",
            body: |w| format!("org_id={}&user_id={}", w.org, w.tess),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("organization.remove_member"),
        },
        // The owner is the only owner, so leaving is refused by rule; an admin is not in it.
        Case {
            path: "/api/orgs/leave",
            body: |w| format!("org_id={}", w.org),
            expect: [UNAUTH, HIDDEN, OK, CONFLICT, FORBID],
            audit: Some("organization.leave"),
        },
        Case {
            path: "/api/vms/list",
            body: |_| String::new(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
        // Platform admins look after organizations but do not work inside them.
        Case {
            path: "/api/vms/create",
            body: |w| serde_json::json!({ "vm": NewVm::named(&w.org, "new-vm") }).to_string(),
            expect: [UNAUTH, HIDDEN, OK, OK, FORBID],
            audit: Some("vm.create"),
        },
        // Networks: members see them; those who manage the organization make and delete them.
        Case {
            path: "/api/networks/list",
            body: |w| format!("org_id={}", w.org),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/networks/create",
            body: |w| {
                serde_json::json!({ "new": { "organization_id": w.org, "name": "back", "cidr": "10.1.0.0/24" } })
                    .to_string()
            },
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("network.create"),
        },
        // The default network has the VM's card on it: those who may delete it hear why not.
        Case {
            path: "/api/networks/delete",
            body: |w| format!("id={}", w.network),
            expect: [UNAUTH, HIDDEN, FORBID, CONFLICT, CONFLICT],
            audit: Some("network.delete"),
        },
        // One network's page and its rules: those who see the network; the rules change for
        // those who manage the organization.
        Case {
            path: "/api/networks/get",
            body: |w| format!("id={}", w.network),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/networks/rules",
            body: |w| format!("network_id={}", w.network),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/networks/add_rule",
            body: |w| {
                serde_json::json!({ "network_id": w.network, "rule": pg_rule("10.8.0.0/16") })
                    .to_string()
            },
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("network.rule_add"),
        },
        Case {
            path: "/api/networks/remove_rule",
            body: |w| format!("network_id={}&rule_id={}", w.network, w.rule),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("network.rule_remove"),
        },
        // Whether one VM reaches another: those who may read both.
        Case {
            path: "/api/networks/explain",
            body: |w| {
                serde_json::json!({ "query": { "from": w.vm, "to": w.replica, "protocol": "tcp", "port": 22 } })
                    .to_string()
            },
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/vms/get",
            body: |w| format!("id={}", w.vm),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/vms/act",
            body: |w| format!("id={}&action=start", w.vm),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: Some("vm.start"),
        },
        // The VM has not finished being created: stopping it is refused by rule (409) once
        // permission allows it, and leaves no audit row.
        Case {
            path: "/api/vms/act",
            body: |w| format!("id={}&action=stop", w.vm),
            expect: [UNAUTH, HIDDEN, CONFLICT, CONFLICT, CONFLICT],
            audit: Some("vm.stop"),
        },
        Case {
            path: "/api/vms/images",
            body: |_| String::new(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
        // Only platform admins add images; the file must exist on the node.
        Case {
            path: "/api/images/register",
            body: |_| {
                serde_json::json!({ "image": {
                    "name": "copy", "os": "Debian 12", "format": "kernel",
                    "kernel_path": "strata-test-guest/vmlinuz",
                    "initrd_path": "strata-test-guest/initrd.img",
                    "disk_path": null, "cmdline": "", "boot_marker": null,
                }})
                .to_string()
            },
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("image.register"),
        },
        Case {
            path: "/api/operations/list",
            body: |_| String::new(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
        // Cancelling the VM's queued creation needs `start` on it.
        Case {
            path: "/api/operations/cancel",
            body: |w| format!("id={}", w.op),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: Some("operation.cancel"),
        },
        Case {
            path: "/api/vms/delete",
            body: |w| format!("id={}", w.vm),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("vm.delete"),
        },
        Case {
            path: "/api/vms/share",
            body: |w| format!("id={}&username=dora&level=operator", w.vm),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("vm.share"),
        },
        Case {
            path: "/api/vms/unshare",
            body: |w| format!("id={}&user_id={}", w.vm, w.vic),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("vm.unshare"),
        },
        // A service's replica belongs to the service: members read it, but nobody powers,
        // deletes or shares it as a VM (the refusal names the service), and the member who
        // asked for the rollout gained nothing over it.
        Case {
            path: "/api/vms/get",
            body: |w| format!("id={}", w.replica),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/vms/act",
            body: |w| format!("id={}&action=start", w.replica),
            expect: [UNAUTH, HIDDEN, FORBID, FORBID, FORBID],
            audit: Some("vm.start"),
        },
        Case {
            path: "/api/vms/delete",
            body: |w| format!("id={}", w.replica),
            expect: [UNAUTH, HIDDEN, FORBID, FORBID, FORBID],
            audit: Some("vm.delete"),
        },
        Case {
            path: "/api/vms/share",
            body: |w| format!("id={}&username=dora&level=operator", w.replica),
            expect: [UNAUTH, HIDDEN, FORBID, FORBID, FORBID],
            audit: Some("vm.share"),
        },
        Case {
            path: "/api/access/overview",
            body: |w| format!("kind=vm&id={}", w.vm),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/access/overview",
            body: |w| format!("kind=organization&id={}", w.org),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/access/explain",
            body: |w| format!("kind=vm&id={}&username=member&permission=delete", w.vm),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/nodes/list",
            body: |_| String::new(),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: None,
        },
        Case {
            path: "/api/nodes/cordon",
            body: |w| format!("node_id={}&cordoned=true", w.control.local_node()),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("node.cordon"),
        },
        Case {
            path: "/api/nodes/drain",
            body: |w| format!("node_id={}", w.control.local_node()),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("node.drain"),
        },
        Case {
            path: "/api/nodes/add",
            body: |_| "name=matrix-host".into(),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("node.add"),
        },
        Case {
            path: "/api/nodes/remove",
            body: |w| format!("node_id={}", w.spare),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("node.remove"),
        },
        Case {
            path: "/api/orgs/quota",
            body: |w| format!("org_id={}", w.org),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/orgs/set_quota",
            body: |w| format!("org_id={}&quota[vms]=100&quota[vcpus]=64", w.org),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("organization.set_quota"),
        },
        Case {
            path: "/api/admin/users",
            body: |_| String::new(),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: None,
        },
        Case {
            path: "/api/admin/create_invite",
            body: |_| String::new(),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("user.invite"),
        },
        Case {
            path: "/api/admin/set_user_disabled",
            body: |w| format!("user_id={}&disabled=true", w.dora),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("user.disable"),
        },
        Case {
            path: "/api/admin/create_recovery_link",
            body: |w| format!("user_id={}", w.dora),
            expect: [UNAUTH, FORBID, FORBID, FORBID, OK],
            audit: Some("user.recovery_link"),
        },
        Case {
            path: "/api/services/list",
            body: |_| String::new(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/services/regions",
            body: |_| String::new(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
        // Members create services in their organization; strangers do not even see it, and
        // platform admins (who look after it) do not work in it, as for VMs.
        Case {
            path: "/api/services/create",
            body: |w| {
                let new = model::services::NewService::named(&w.org, "new-svc");
                serde_json::json!({ "service": new }).to_string()
            },
            expect: [UNAUTH, HIDDEN, OK, OK, FORBID],
            audit: Some("service.create"),
        },
        Case {
            path: "/api/services/get",
            body: |w| format!("id={}", w.svc),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        // Saving a configuration is `update`: the owner and organization managers.
        Case {
            path: "/api/services/config/save",
            body: |w| {
                serde_json::json!({ "id": w.svc, "config": "{\"a\": 1}", "deploy": false })
                    .to_string()
            },
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("service.config"),
        },
        Case {
            path: "/api/services/config/diff",
            body: |w| format!("id={}&from=1&to=1", w.svc),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/services/config/rollback",
            body: |w| format!("id={}&version=1", w.svc),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("service.rollback"),
        },
        // Deploying is its own permission, which members hold.
        Case {
            path: "/api/services/deploy",
            body: |w| {
                serde_json::json!({ "id": w.svc, "request": { "config_version": 1 } }).to_string()
            },
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: Some("service.deploy"),
        },
        Case {
            path: "/api/services/scale",
            body: |w| format!("id={}&replicas=1", w.svc),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: Some("service.scale"),
        },
        Case {
            path: "/api/services/act",
            body: |w| format!("id={}&action=stop", w.svc),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: Some("service.stop"),
        },
        Case {
            path: "/api/services/delete",
            body: |w| format!("id={}", w.svc),
            expect: [UNAUTH, HIDDEN, FORBID, OK, OK],
            audit: Some("service.delete"),
        },
        Case {
            path: "/api/services/deployment/log",
            body: |w| format!("id={}", w.dep),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/services/metrics",
            body: |w| format!("id={}", w.svc),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/vms/metrics",
            body: |w| format!("id={}", w.vm),
            expect: [UNAUTH, HIDDEN, OK, OK, OK],
            audit: None,
        },
        Case {
            path: "/api/dashboard",
            body: |_| String::new(),
            expect: [UNAUTH, OK, OK, OK, OK],
            audit: None,
        },
    ]
}

async fn call(w: &World, path: &str, body: String, token: Option<&String>) -> (StatusCode, String) {
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ORIGIN, "http://localhost:3000");
    if let Some(t) = token {
        req = req.header(header::COOKIE, format!("strata_session={t}"));
    }
    let res = w
        .app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Calls case `c` as caller `i` in a world of its own; returns what was wrong.
async fn check_one(c: usize, i: usize) -> Vec<String> {
    let case = &cases()[c];
    let who = CALLERS[i];
    let mut failures = Vec::new();
    let w = world().await;
    let before = audit_rows(&w).await.len();
    let (status, body) = call(&w, case.path, (case.body)(&w), w.tokens[i].as_ref()).await;
    if status.as_u16() != case.expect[i] {
        failures.push(format!(
            "{} as {who}: expected {}, got {status} {body}",
            case.path, case.expect[i]
        ));
    }
    // Exactly the right audit row: success for a change made, denied for a change refused by
    // permission, nothing for reads, anonymous calls and rule conflicts.
    let new: Vec<(String, String, String)> =
        audit_rows(&w).await.into_iter().skip(before).collect();
    let want: Vec<(String, String, String)> = match (case.audit, status.as_u16()) {
        (Some(action), OK) => vec![(action.into(), "success".into(), who.to_string())],
        (Some(action), FORBID | HIDDEN) if i > 0 => {
            vec![(action.into(), "denied".into(), who.to_string())]
        }
        _ => vec![],
    };
    if new != want {
        failures.push(format!(
            "{} as {who}: audit rows {new:?}, expected {want:?}",
            case.path
        ));
    }
    if status.as_u16() != OK && (body.contains("Db") || body.contains("SQL")) {
        failures.push(format!("{} leaked detail: {body}", case.path));
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_callers_succeed_on_every_server_function() {
    // A fresh world per call, so one caller's success cannot change the next answer; a few
    // worlds at once, since most of each is waiting on its database (PostgreSQL's round trips
    // and database copies leave the cores idle more: more worlds at once there).
    let at_once = if control::testing::backend() == "postgres" {
        8
    } else {
        4
    };
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once));
    let mut calls = tokio::task::JoinSet::new();
    for c in 0..cases().len() {
        for i in 0..CALLERS.len() {
            let permits = permits.clone();
            calls.spawn(async move {
                let _permit = permits
                    .acquire_owned()
                    .await
                    .expect("the semaphore is open");
                check_one(c, i).await
            });
        }
    }
    let mut failures = Vec::new();
    while let Some(done) = calls.join_next().await {
        failures.extend(done.expect("a call's task finished"));
    }
    failures.sort();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (action, outcome, actor) of every audit row, oldest first.
async fn audit_rows(w: &World) -> Vec<(String, String, String)> {
    use sea_orm::{EntityTrait, QueryOrder};
    control::entities::audit::Entity::find()
        .order_by_asc(control::entities::audit::Column::Id)
        .all(control::testing::db(&w.control))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.outcome, r.actor_name))
        .collect()
}

/// Server functions whose audit rows are checked by the passkey tests (they need a WebAuthn
/// ceremony), or that change nothing.
const COVERED_ELSEWHERE: &[&str] = &[
    "/api/session/me",
    "/api/session/signup_status",
    "/api/session/invite",
    "/api/session/sign_out",
    "/api/auth/begin_signup",
    "/api/auth/finish_signup",
    "/api/auth/begin_signin",
    "/api/auth/finish_signin",
    "/api/auth/begin_recovery",
    "/api/auth/finish_recovery",
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
    "/api/audit/page",
    // JSON input; as every caller kind through the CLI in two_instances.rs.
    "/api/admin/authz/query",
];

#[tokio::test]
async fn every_server_function_is_in_a_table() {
    // Building the router registers every server function.
    let _w = world().await;
    let listed: Vec<&str> = cases()
        .iter()
        .map(|c| c.path)
        .chain(COVERED_ELSEWHERE.iter().copied())
        .collect();
    let missing: Vec<&str> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|path| !listed.contains(path))
        .collect();
    assert!(
        missing.is_empty(),
        "server functions with no permission/audit expectations: {missing:?}; add them to a table"
    );
}

#[tokio::test]
async fn refused_calls_change_nothing() {
    let w = world().await;
    let stranger = w.tokens[1].as_ref();
    let member = w.tokens[2].as_ref();
    for token in [stranger, member] {
        let (s, _) = call(&w, "/api/vms/delete", format!("id={}", w.vm), token).await;
        assert_ne!(s, StatusCode::OK);
        let (s, _) = call(
            &w,
            "/api/orgs/remove_member",
            format!("org_id={}&user_id={}", w.org, w.tess),
            token,
        )
        .await;
        assert_ne!(s, StatusCode::OK);
    }
    let owner = w.tokens[3].as_ref();
    let (_, vm) = call(&w, "/api/vms/get", format!("id={}", w.vm), owner).await;
    assert!(vm.contains(r#""name":"web""#), "{vm}");
    let (_, org) = call(&w, "/api/orgs/get", format!("id={}", w.org), owner).await;
    assert!(org.contains(r#""username":"tess""#), "{org}");
}

#[tokio::test]
async fn malformed_arguments_are_the_callers_mistake() {
    let w = world().await;
    let owner = w.tokens[3].as_ref();
    // Wrong JSON types, a missing field, a missing form field: 400, a short message naming
    // the field, never the decoder's position or a 500.
    for (path, body, names) in [
        (
            "/api/services/config/save",
            serde_json::json!({ "id": 5, "config": "{}", "deploy": false }).to_string(),
            "invalid type: integer `5`",
        ),
        (
            "/api/services/config/save",
            serde_json::json!({ "config": "{}", "deploy": false }).to_string(),
            "missing field `id`",
        ),
        ("/api/vms/get", String::new(), "missing field `id`"),
        (
            "/api/vms/act",
            format!("id={}&action=explode", w.vm),
            "unknown variant",
        ),
    ] {
        let (status, text) = call(&w, path, body, owner).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {text}");
        let e: model::AppError = serde_json::from_str(&text).unwrap();
        match e {
            model::AppError::Invalid(m) => {
                assert!(m.contains(names), "{path}: {m}");
                assert!(!m.contains("line 1"), "{path}: {m}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}
