//! Two real `strata` processes sharing one database. The new-enemy guarantee: after an owner
//! removes a member through one instance, the member's very next request to the other
//! instance (whose cache had just allowed it) is refused. Live events through Redis: a change
//! made through one instance reaches a WebSocket connected to the other.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use control::testing::{caller, TestDb};

use crate::common::{acme, free_port, strata};

struct Instance {
    child: Child,
    port: u16,
    data: std::path::PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn start(url: &str) -> Instance {
    let data = std::env::temp_dir().join(format!("strata-two-{}", free_port()));
    start_with(url, &data, &[])
}

fn start_with(url: &str, data: &std::path::Path, extra: &[&str]) -> Instance {
    let port = free_port();
    let data = data.to_owned();
    let child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--database-url", url, "--log", "warn"])
        .args(["--agent-listen", "127.0.0.1:0"])
        .args(extra)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut instance = Instance { child, port, data };
    let started = Instant::now();
    while post(instance.port, "/healthz", "", None).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "strata did not start"
        );
        assert!(
            instance.child.try_wait().unwrap().is_none(),
            "strata exited early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    instance.port = port;
    instance
}

/// A server function call (or any request) over plain HTTP/1.0; returns the status line's code.
fn post(port: u16, path: &str, body: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let cookie = token
        .map(|t| format!("Cookie: strata_session={t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: localhost\r\nOrigin: http://localhost:3000\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let code = out.split(' ').nth(1)?.parse().ok()?;
    Some((code, out))
}

#[tokio::test]
async fn a_member_removed_on_one_instance_is_refused_by_the_other_at_once() {
    let db = TestDb::new().await;
    let control = db.control().await;
    let now = Utc::now();
    let owner = caller(&control, "olga", false).await;
    let (_, member_token) = control::testing::user_with_session(&control, "mike", false).await;
    let (_, owner_token) = {
        // A session for the owner too, to act through HTTP.
        let token = control::testing::session_for(&control, owner.user_id).await;
        (owner.user_id, token)
    };
    let acme = acme(&control, &owner, &["mike"], now).await;
    let member_id = control
        .organization(&owner, &acme.org)
        .await
        .unwrap()
        .members
        .into_iter()
        .find(|m| m.person.username == "mike")
        .unwrap()
        .person
        .id;

    let a = start(&db.url);
    let b = start(&db.url);
    let get_vm = format!("id={}", acme.vm);
    // The member reads the VM through A several times: A's cache now holds the grant.
    for _ in 0..3 {
        let (code, body) = post(a.port, "/api/vms/get", &get_vm, Some(&member_token)).unwrap();
        assert_eq!(code, 200, "{body}");
    }
    // The owner removes the member through B.
    let (code, body) = post(
        b.port,
        "/api/orgs/remove_member",
        &format!("org_id={}&user_id={member_id}", acme.org),
        Some(&owner_token),
    )
    .unwrap();
    assert_eq!(code, 200, "{body}");
    // The very next request to A is refused, and lists come back empty.
    let (code, body) = post(a.port, "/api/vms/get", &get_vm, Some(&member_token)).unwrap();
    assert_eq!(code, 404, "{body}");
    let (code, body) = post(a.port, "/api/vms/list", "", Some(&member_token)).unwrap();
    assert_eq!(code, 200);
    assert!(
        body.contains(r#""vms":[]"#) && body.contains(r#""total":0"#),
        "{body}"
    );
}

#[tokio::test]
async fn authz_questions_to_a_running_server_need_platform_admin_rights() {
    let db = TestDb::new().await;
    let control = db.control().await;
    let root = caller(&control, "root", true).await;
    let owner = caller(&control, "olga", false).await;
    // After the callers: their sessions' passkey check must not lie in `now`'s future.
    let now = Utc::now();
    let api_token = |who: control::auth::Caller| {
        let control = control.clone();
        async move {
            let new = model::tokens::NewToken {
                name: "authz".into(),
                expires_in_days: 1,
                actions: vec![],
                scope: model::tokens::TokenScope::Everything,
            };
            control.create_token(&who, &new, now).await.unwrap().secret
        }
    };
    let admin_token = api_token(root).await;
    let owner_token = api_token(owner.clone()).await;
    let acme = acme(&control, &owner, &[], now).await;
    let server = start(&db.url);
    let url = format!("http://127.0.0.1:{}", server.port);
    let vm_ref = format!("vm:{}", acme.vm);
    let ask = |token: &str, args: &[&str]| {
        let mut all = vec!["authz"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--server", &url, "--token", token]);
        strata(&all)
    };
    assert_eq!(
        ask(&admin_token, &["check", "user:olga", "delete", &vm_ref]),
        (true, "allowed\n".into())
    );
    let (ok, out) = ask(
        &admin_token,
        &["lookup-subjects", "organization:acme", "manage", "user"],
    );
    assert!(
        ok && out.contains("(olga)") && out.contains("(root)") && out.contains("(2 found)"),
        "{out}"
    );
    let (ok, out) = ask(&admin_token, &["explain", "user:root", "console", &vm_ref]);
    assert!(ok && out.ends_with("allowed\n"), "{out}");
    // An organization owner is not a platform admin: refused.
    let (ok, out) = ask(&owner_token, &["check", "user:olga", "delete", &vm_ref]);
    assert!(!ok && out.contains("the server refused"), "{out}");
    // A made-up token: not signed in.
    let (ok, out) = ask("strata_forged", &["check", "user:olga", "delete", &vm_ref]);
    assert!(!ok && out.contains("valid API token"), "{out}");
    // Bad input comes back as a clear error.
    let (ok, out) = ask(&admin_token, &["check", "user:nobody", "read", &vm_ref]);
    assert!(!ok && out.contains("no user called `nobody`"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_instance_reaches_a_websocket_on_the_other_through_redis() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let redis = control::testing::redis_url();
    let db = TestDb::new().await;
    let control = db.control().await;
    let now = Utc::now();
    let owner = caller(&control, "olga", false).await;
    let token = control::testing::session_for(&control, owner.user_id).await;
    let acme = acme(&control, &owner, &[], now).await;
    // Two instances of one installation on one host: one data directory, one node.
    let data = std::env::temp_dir().join(format!("strata-redis-{}", free_port()));
    let a = start_with(&db.url, &data, &["--redis-url", &redis]);
    let b = start_with(&db.url, &data, &["--redis-url", &redis]);

    let mut req = format!("ws://127.0.0.1:{}/ws", b.port)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", "http://localhost:3000".parse().unwrap());
    req.headers_mut()
        .insert("cookie", format!("strata_session={token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    // Through A: ask for the VM's deletion.
    let (code, body) = post(
        a.port,
        "/api/vms/delete",
        &format!("id={}", acme.vm),
        Some(&token),
    )
    .unwrap();
    assert_eq!(code, 200, "{body}");
    // B's socket hears of it, with the request's generation.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "no event for the VM reached B");
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("an event")
            .expect("open")
            .expect("a message");
        let tokio_tungstenite::tungstenite::Message::Text(text) = msg else {
            continue;
        };
        let event: model::events::LiveEvent = serde_json::from_str(&text).unwrap();
        if let model::events::LiveEvent::VmUpdate { id, generation, .. } = event {
            if id == acme.vm && generation >= 2 {
                break;
            }
        }
    }
    drop((a, b));
}
