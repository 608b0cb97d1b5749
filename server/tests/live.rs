//! `/ws` live events over a real socket: Origin and session checks, per-person filtering
//! through the permission engine (kept current when access is revoked), the close when a
//! session ends, and a stuck client that cannot slow anyone else.

use std::time::Duration;

use chrono::Utc;
use control::testing::{caller, session_for, TestDb};
use futures_util::StreamExt;

use model::events::{LiveEvent, EVENT_VERSION};
use model::orgs::OrgRole;
use model::vms::{NewVm, VmAction};
use server::{router, serve::leptos_options, AppState};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Server {
    addr: std::net::SocketAddr,
    control: control::Control,
    _db: TestDb,
}

async fn server() -> Server {
    let db = TestDb::new().await;
    let control = db.control().await;
    control.spawn_access_watch();
    let site = std::env::temp_dir().join(format!("strata-live-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&site).unwrap();
    let app = router::build(AppState {
        leptos_options: leptos_options(&site),
        control: control.clone(),
        auth_limiter: server::ratelimit::RateLimiter::per_minute(1000),
        api_limiter: server::ratelimit::RateLimiter::per_minute(1000),
        trusted_proxies: Default::default(),
        metrics: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server {
        addr,
        control,
        _db: db,
    }
}

async fn connect(
    addr: std::net::SocketAddr,
    token: Option<&str>,
    origin: &str,
) -> Result<Socket, u16> {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    if let Some(t) = token {
        req.headers_mut()
            .insert("cookie", format!("strata_session={t}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("unexpected connection error: {e}"),
    }
}

const ORIGIN: &str = "http://localhost:3000";

/// The next event (skipping pings), within 20 s.
async fn next(socket: &mut Socket) -> LiveEvent {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("an event within 20 s")
            .expect("the socket is open")
            .expect("a message");
        match msg {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

/// Skips events until one matches.
async fn until(socket: &mut Socket, want: impl Fn(&LiveEvent) -> bool) -> LiveEvent {
    loop {
        let e = next(socket).await;
        if want(&e) {
            return e;
        }
    }
}

/// The events received before the next access change (a marker every subscriber gets).
async fn before_access_change(socket: &mut Socket) -> Vec<LiveEvent> {
    let mut seen = Vec::new();
    loop {
        let e = next(socket).await;
        if matches!(e, LiveEvent::AccessChanged { .. }) {
            return seen;
        }
        seen.push(e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_need_the_same_origin_and_a_session() {
    let s = server().await;
    let ann = caller(&s.control, "ann", false).await;
    let token = session_for(&s.control, ann.user_id).await;
    assert_eq!(connect(s.addr, None, ORIGIN).await.err(), Some(401));
    assert_eq!(
        connect(s.addr, Some(&token), "http://evil.example")
            .await
            .err(),
        Some(403)
    );
    let mut ok = connect(s.addr, Some(&token), ORIGIN).await.unwrap();
    assert_eq!(next(&mut ok).await, LiveEvent::Hello { v: EVENT_VERSION });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_get_only_what_they_may_see_and_stop_at_once_when_removed() {
    let s = server().await;
    let c = &s.control;
    let now = Utc::now();
    let ann = caller(c, "ann", false).await;
    let bob = caller(c, "bob", false).await;
    let eve = caller(c, "eve", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();

    let mut sockets = Vec::new();
    for who in [&ann, &bob, &eve] {
        let token = session_for(c, who.user_id).await;
        let mut socket = connect(s.addr, Some(&token), ORIGIN).await.unwrap();
        assert!(matches!(next(&mut socket).await, LiveEvent::Hello { .. }));
        sockets.push(socket);
    }
    let [ann_ws, bob_ws, eve_ws] = &mut sockets[..] else {
        unreachable!()
    };

    // Ann starts the VM: Ann and Bob hear of it; Eve, a stranger, does not.
    c.vm_action(&ann, &vm.id, VmAction::Start, Utc::now())
        .await
        .unwrap();
    for ws in [&mut *ann_ws, &mut *bob_ws] {
        let e = until(ws, |e| matches!(e, LiveEvent::VmUpdate { .. })).await;
        let LiveEvent::VmUpdate { id, generation, .. } = e else {
            unreachable!()
        };
        assert_eq!(id, vm.id);
        assert_eq!(generation, 2);
    }
    // A grant change reaches everyone: a marker after which Eve must have seen nothing.
    c.share_vm(
        &ann,
        &vm.id,
        "eve",
        model::vms::ShareLevel::Viewer,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(before_access_change(eve_ws).await, vec![]);
    c.unshare_vm(&ann, &vm.id, &eve.user_id.to_string(), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(before_access_change(eve_ws).await, vec![]);

    // Bob is removed: his page is told to refetch, and he hears nothing more about the VM.
    c.remove_member(&ann, &org.id, &bob.user_id.to_string(), chrono::Utc::now())
        .await
        .unwrap();
    until(bob_ws, |e| matches!(e, LiveEvent::AccessChanged { .. })).await;
    c.run_due_operations().await.unwrap();
    c.vm_action(&ann, &vm.id, VmAction::Stop, Utc::now())
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    let last = until(
        ann_ws,
        |e| matches!(e, LiveEvent::VmUpdate { state, .. } if state == "stopped"),
    )
    .await;
    assert!(matches!(last, LiveEvent::VmUpdate { .. }));
    // Another grant change as a marker: nothing about the VM reached Bob before it.
    c.share_vm(
        &ann,
        &vm.id,
        "eve",
        model::vms::ShareLevel::Viewer,
        Utc::now(),
    )
    .await
    .unwrap();
    let bob_saw = before_access_change(bob_ws).await;
    assert!(
        bob_saw
            .iter()
            .all(|e| !matches!(e, LiveEvent::VmUpdate { .. })),
        "{bob_saw:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_closes_when_the_session_ends() {
    let s = server().await;
    let ann = caller(&s.control, "ann", false).await;
    let token = session_for(&s.control, ann.user_id).await;
    let mut ws = connect(s.addr, Some(&token), ORIGIN).await.unwrap();
    assert!(matches!(next(&mut ws).await, LiveEvent::Hello { .. }));
    let who = s
        .control
        .resolve_session(&token, Utc::now())
        .await
        .unwrap()
        .unwrap();
    s.control.sign_out(&who, chrono::Utc::now()).await.unwrap();
    let close = loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("closed within 20 s")
            .expect("a close frame")
            .expect("a message");
        if let Message::Close(frame) = msg {
            break frame;
        }
    };
    assert_eq!(u16::from(close.expect("a close code").code), 4401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_client_does_not_slow_the_others() {
    let s = server().await;
    let ann = caller(&s.control, "ann", false).await;
    let token = session_for(&s.control, ann.user_id).await;
    let mut fast = connect(s.addr, Some(&token), ORIGIN).await.unwrap();
    let mut stuck = connect(s.addr, Some(&token), ORIGIN).await.unwrap();
    assert!(matches!(next(&mut fast).await, LiveEvent::Hello { .. }));
    // 1,000 events of 64 KiB (64 MiB): far more than socket buffers hold for a client that
    // reads nothing.
    let line = "x".repeat(64 * 1024);
    let started = std::time::Instant::now();
    for i in 0..1000 {
        let mut e = control::events::Envelope::new(
            LiveEvent::Log {
                v: EVENT_VERSION,
                id: i.to_string(),
                stream: "bench".into(),
                line: model::services::DeploymentLogLine {
                    at: String::new(),
                    level: "info".into(),
                    message: line.clone(),
                },
            },
            None,
            control::access::model::Permission::Read,
        );
        e.revision = 0;
        s.control.bus().deliver_locally(e);
        if i % 50 == 0 {
            // Pace the publisher a little so the fast reader is not lagged by the bus.
            tokio::task::yield_now().await;
        }
    }
    let mut got = 0;
    while got < 1000 {
        match next(&mut fast).await {
            LiveEvent::Log { .. } => {
                got += 1;
            }
            LiveEvent::Resync { .. } => got = 1000,
            _ => {}
        }
    }
    let fast_took = started.elapsed();
    assert!(
        fast_took < Duration::from_secs(30),
        "the fast client took {fast_took:?}"
    );
    // The server lets go of the stuck one (its sends time out): only the fast one is left
    // subscribed to this server's bus.
    let waited = std::time::Instant::now();
    while s.control.bus().subscribers() > 1 {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the stuck client is still subscribed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The fast one still gets events.
    s.control
        .bus()
        .deliver_locally(control::events::Envelope::new(
            LiveEvent::Resync {
                v: EVENT_VERSION,
                reason: "after".into(),
            },
            None,
            control::access::model::Permission::Read,
        ));
    until(
        &mut fast,
        |e| matches!(e, LiveEvent::Resync { reason, .. } if reason == "after"),
    )
    .await;
    // The stuck one, read at last, was told to resync or disconnected: its stream ends
    // (pings would keep a connection the server kept open alive forever).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut logs = 0;
    let verdict = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the stuck client was neither told to resync nor disconnected ({logs} events read)"
        );
        match tokio::time::timeout(Duration::from_secs(20), stuck.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break format!("closed {frame:?}"),
            Ok(Some(Ok(Message::Text(text)))) if text.contains("\"resync\"") => {
                break "resync".to_owned()
            }
            Ok(Some(Ok(_))) => logs += 1,
            Ok(Some(Err(e))) => break format!("dropped: {e}"),
            Ok(None) => break "ended".to_owned(),
            Err(_) => panic!("the stuck client's connection went quiet but stayed open"),
        }
    };
    assert!(logs < 1000, "it got everything: {verdict}");
    let _ = stuck.close(None).await;
}

async fn console(
    addr: std::net::SocketAddr,
    vm: &str,
    token: Option<&str>,
    origin: &str,
) -> Result<Socket, u16> {
    let mut req = format!("ws://{addr}/api/vms/{vm}/console")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    if let Some(t) = token {
        req.headers_mut()
            .insert("cookie", format!("strata_session={t}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("unexpected connection error: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_needs_the_console_permission_and_the_same_origin() {
    let s = server().await;
    let c = &s.control;
    let now = Utc::now();
    let ann = caller(c, "ann", false).await;
    let bob = caller(c, "bob", false).await;
    let eve = caller(c, "eve", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let [ann_t, bob_t, eve_t] = [
        session_for(c, ann.user_id).await,
        session_for(c, bob.user_id).await,
        session_for(c, eve.user_id).await,
    ];
    assert_eq!(console(s.addr, &vm.id, None, ORIGIN).await.err(), Some(401));
    assert_eq!(
        console(s.addr, &vm.id, Some(&ann_t), "http://evil.example")
            .await
            .err(),
        Some(403)
    );
    // A stranger cannot tell it exists; a member sees it but the console is root on the
    // guest, for owners and operators only.
    assert_eq!(
        console(s.addr, &vm.id, Some(&eve_t), ORIGIN).await.err(),
        Some(404)
    );
    assert_eq!(
        console(s.addr, &vm.id, Some(&bob_t), ORIGIN).await.err(),
        Some(403)
    );
    assert!(console(s.addr, &vm.id, Some(&ann_t), ORIGIN).await.is_ok());
    // Opening it is audited; the refusal too.
    let rows = c
        .audit_page(
            &ann,
            &model::audit::AuditFilter {
                action: "vm.console".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .rows;
    let outcomes: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.actor.as_str(), r.outcome.as_str()))
        .collect();
    assert!(outcomes.contains(&("ann", "success")), "{outcomes:?}");
    assert!(outcomes.contains(&("bob", "denied")), "{outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_audit_rows_reach_only_those_who_may_read_the_audit_log() {
    let s = server().await;
    s.control.spawn_audit_watch();
    let now = Utc::now();
    let ann = caller(&s.control, "ann", false).await;
    let bob = caller(&s.control, "bob", false).await;
    let _carl = caller(&s.control, "carl", false).await;
    let org = s
        .control
        .create_organization(&ann, "acme", now)
        .await
        .unwrap();
    s.control
        .add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let mut owner = connect(
        s.addr,
        Some(&session_for(&s.control, ann.user_id).await),
        ORIGIN,
    )
    .await
    .unwrap();
    let mut member = connect(
        s.addr,
        Some(&session_for(&s.control, bob.user_id).await),
        ORIGIN,
    )
    .await
    .unwrap();

    // The owner sees the row of a VM created in the organization arrive.
    s.control
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let e = until(
        &mut owner,
        |e| matches!(e, LiveEvent::Audit { action, .. } if action == "vm.create"),
    )
    .await;
    assert!(matches!(e, LiveEvent::Audit { outcome, .. } if outcome == "success"));

    // The member (who may not read the audit log) got nothing of it before a later marker.
    let before = control::access::tuples::revision(control::testing::db(&s.control))
        .await
        .unwrap();
    s.control
        .add_member(&ann, &org.id, "carl", OrgRole::Member, now)
        .await
        .unwrap();
    let mut seen = Vec::new();
    loop {
        match next(&mut member).await {
            LiveEvent::AccessChanged { revision, .. } if revision > before => break,
            e => seen.push(e),
        }
    }
    assert!(
        !seen.iter().any(|e| matches!(e, LiveEvent::Audit { .. })),
        "a member received audit events: {seen:?}"
    );
}

/// The close frame a socket gets next (skipping anything else), within 20 s.
async fn close_frame(socket: &mut Socket) -> Option<(u16, String)> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("the server answers within 20 s");
        match msg {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_holds_a_bounded_number_of_sockets() {
    let s = server().await;
    let ann = caller(&s.control, "ann", false).await;
    let bob = caller(&s.control, "bob", false).await;
    let token = session_for(&s.control, ann.user_id).await;
    let bob_t = session_for(&s.control, bob.user_id).await;
    let mut open = Vec::new();
    for _ in 0..server::ws::MAX_SOCKETS_PER_PERSON {
        open.push(connect(s.addr, Some(&token), ORIGIN).await.unwrap());
    }
    // One more is closed at once, with a reason the browser can show.
    let mut extra = connect(s.addr, Some(&token), ORIGIN).await.unwrap();
    assert_eq!(
        close_frame(&mut extra).await,
        Some((
            server::ws::TOO_MANY_CODE,
            server::ws::TOO_MANY_REASON.to_owned()
        ))
    );
    // Someone else is not affected; and closing one frees a place.
    let mut bobs = connect(s.addr, Some(&bob_t), ORIGIN).await.unwrap();
    let mut first = open.remove(0);
    first.close(None).await.unwrap();
    while first.next().await.is_some() {}
    // The server notices the close a moment after it: retry until a place is free. An
    // admitted socket's first message is the greeting; a refused one's is the close.
    let mut again = None;
    for _ in 0..200 {
        let mut s2 = connect(s.addr, Some(&token), ORIGIN).await.unwrap();
        match next_message(&mut s2).await {
            Message::Close(_) => continue,
            Message::Text(text) => {
                assert!(text.contains("hello"), "{text}");
                again = Some(s2);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut again = again.expect("a place is free once a socket closed");
    let _ = again.close(None).await;
    let _ = bobs.close(None).await;
}

/// The next message of any kind, within 20 s.
async fn next_message(socket: &mut Socket) -> Message {
    tokio::time::timeout(Duration::from_secs(20), socket.next())
        .await
        .expect("a message within 20 s")
        .expect("the socket is open")
        .expect("a message")
}

/// Writes one masked client frame header announcing `len` bytes of binary payload, and only
/// `sent` of them.
async fn announce_huge_frame(socket: &mut Socket, len: u64, sent: usize) {
    use tokio::io::AsyncWriteExt;
    let mut frame = vec![0x82u8, 0x80 | 127];
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend(std::iter::repeat_n(0u8, sent));
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = socket.get_mut() else {
        panic!("a plain socket");
    };
    tcp.write_all(&frame).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_frames_are_refused_from_their_header_before_buffering() {
    let s = server().await;
    let c = &s.control;
    let now = Utc::now();
    let ann = caller(c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let token = session_for(c, ann.user_id).await;
    // A 59 MiB frame whose payload never comes: a server that buffered before checking would
    // wait for it forever; this one closes the connection on reading the header.
    for mut socket in [
        console(s.addr, &vm.id, Some(&token), ORIGIN).await.unwrap(),
        connect(s.addr, Some(&token), ORIGIN).await.unwrap(),
    ] {
        announce_huge_frame(&mut socket, 59 << 20, 1024).await;
        let end = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break None,
                }
            }
        })
        .await
        .expect("the server ends the connection without waiting for the payload");
        assert!(
            matches!(end, None | Some(1009) | Some(1002)),
            "closed with {end:?}"
        );
    }
}
