//! The real `strata` binary as a process: migrate, serve, JSON logs with request ids, and a
//! graceful stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use control::testing::TestDb;

use crate::common::free_port;

/// Kills the server when a failed assertion ends the test early (a graceful stop has ended
/// it already by then).
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("kill")
                .args(["-9", &self.0.to_string()])
                .status();
        }
    }
}

fn http_get(port: u16, path: &str, request_id: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nx-request-id: {request_id}\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Reads one HTTP/1.1 response (Content-Length or chunked) from a kept-alive connection and
/// returns its status line.
fn read_response(s: &mut BufReader<TcpStream>) -> String {
    let mut status = String::new();
    s.read_line(&mut status).unwrap();
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut line = String::new();
        s.read_line(&mut line).unwrap();
        let lower = line.trim().to_ascii_lowercase();
        if lower.is_empty() {
            break;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        if lower == "transfer-encoding: chunked" {
            chunked = true;
        }
    }
    if chunked {
        loop {
            let mut size = String::new();
            s.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0u8; n + 2];
            s.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
        }
    } else {
        let mut body = vec![0u8; length.unwrap_or(0)];
        s.read_exact(&mut body).unwrap();
    }
    status
}

/// The times of `n` sequential GETs of `path` (gzip accepted, so the body is compressed as it
/// is written, in several pieces) on one kept-alive connection.
fn kept_alive_times(port: u16, path: &str, n: usize) -> Vec<Duration> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The client's own side must not wait either: each request leaves in one write.
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut times = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n");
        writer.write_all(request.as_bytes()).unwrap();
        let status = read_response(&mut reader);
        times.push(started.elapsed());
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    }
    times
}

/// A site root with one stylesheet of about the size of the app's own (46 KB).
fn site_with_stylesheet(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    let css: String = (0..1400)
        .map(|i| {
            format!(
                ".c{i}{{color:#{:06x};margin:{}px}}\n",
                (i * 7919) % 0xffffff,
                i % 50
            )
        })
        .collect();
    std::fs::write(dir.join("app.css"), css).unwrap();
}

#[tokio::test]
async fn migrate_then_serve_log_json_and_stop_on_sigterm() {
    let db = TestDb::new().await;
    let data = std::env::temp_dir().join(format!("strata-proc-{}", free_port()));
    let bin = env!("CARGO_BIN_EXE_strata");

    let migrate = Command::new(bin)
        .args(["migrate", "--database-url", &db.url, "--log", "info"])
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    let log = String::from_utf8_lossy(&migrate.stdout);
    assert!(log.contains(r#""message":"migrations applied""#), "{log}");

    let port = free_port();
    let metrics_port = free_port();
    site_with_stylesheet(&data.join("site"));
    let mut child = Command::new(bin)
        .args(["serve", "--database-url", &db.url])
        .args(["--agent-listen", "127.0.0.1:0"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{metrics_port}"))
        .arg("--data-dir")
        .arg(&data)
        .arg("--site-root")
        .arg(data.join("site"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _stop = KillOnDrop(child.id());

    // Wait until it answers (bounded), then make a request with a known id.
    let start = Instant::now();
    let health = loop {
        if let Some(r) = http_get(port, "/healthz", "probe") {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "strata did not start"
        );
        assert!(child.try_wait().unwrap().is_none(), "strata exited early");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(health.starts_with("HTTP/1.0 200"), "{health}");
    // A signed-in request: its log line names the user, never the cookie.
    let control = db.control().await;
    let (user_id, token) = control::testing::user_with_session(&control, "ada", false).await;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /settings HTTP/1.0\r\nHost: localhost\r\nx-request-id: req-signed-in\r\nCookie: strata_session={token}\r\n\r\n"
    )
    .unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    // Kept-alive connections answer as fast as new ones: a response written in several
    // pieces (a compressed stylesheet) must not wait for the client's delayed ACK (Nagle),
    // which stalled every other request for 40 ms or more before TCP_NODELAY. Of 20
    // sequential requests on one connection about half stalled; a bound that loopback never
    // comes near on its own.
    let times = kept_alive_times(port, "/app.css", 20);
    let stalled = times
        .iter()
        .filter(|t| **t >= Duration::from_millis(38))
        .count();
    assert!(
        stalled <= 3,
        "{stalled} of 20 kept-alive requests took 38 ms or more: {times:?}"
    );
    let ready = http_get(port, "/readyz", "req-readyz-42").unwrap();
    assert!(ready.contains("x-request-id: req-readyz-42"), "{ready}");
    // Metrics on their own address, without a token; not on the main one.
    let metrics = http_get(metrics_port, "/metrics", "m").unwrap();
    assert!(metrics.starts_with("HTTP/1.0 200"), "{metrics}");
    assert!(
        metrics.contains(r#"strata_http_requests_total{route="/readyz",status="200"}"#),
        "{metrics}"
    );
    let main = http_get(port, "/metrics", "m2").unwrap();
    assert!(main.starts_with("HTTP/1.0 404"), "{main}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "strata did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a graceful stop exits 0: {exit:?}");

    let lines: Vec<serde_json::Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).expect("every log line is JSON"))
        .collect();
    let response = lines
        .iter()
        .find(|l| l["message"] == "response" && l["span"]["request_id"] == "req-readyz-42")
        .unwrap_or_else(|| panic!("a response log line with the request id: {lines:#?}"));
    assert_eq!(response["status"], 200);
    assert_eq!(response["span"]["path"], "/readyz");
    assert!(
        response["span"].get("user_id").is_none(),
        "anonymous requests carry no user id"
    );
    let signed_in = lines
        .iter()
        .find(|l| l["message"] == "response" && l["span"]["request_id"] == "req-signed-in")
        .unwrap_or_else(|| panic!("a response line for the signed-in request: {lines:#?}"));
    assert_eq!(signed_in["span"]["user_id"], user_id.to_string());
    let all = lines.iter().map(|l| l.to_string()).collect::<String>();
    assert!(
        !all.contains(&token),
        "the session token never reaches the log"
    );
    assert!(lines
        .iter()
        .any(|l| l["message"] == "SIGTERM received, shutting down"));
    assert!(lines.iter().any(|l| l["message"] == "Strata stopped"));
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn config_show_prints_each_setting_with_its_source_and_hides_secrets() {
    let dir = std::env::temp_dir().join(format!("strata-config-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("strata.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:4100\"\nmetrics_token = \"from-file\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "config",
            "show",
            "--config",
            file.to_str().unwrap(),
            "--log",
            "debug",
        ])
        .env("STRATA_SIGNUP_POLICY", "open")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("listen ").contains("127.0.0.1:4100") && line("listen ").ends_with("(file)"),
        "{text}"
    );
    assert!(
        line("log ").contains("debug") && line("log ").ends_with("(flag)"),
        "{text}"
    );
    assert!(
        line("signup_policy").contains("open") && line("signup_policy").ends_with("(environment)"),
        "{text}"
    );
    assert!(line("public_url").ends_with("(default)"), "{text}");
    assert!(!text.contains("from-file"), "secrets are redacted: {text}");

    std::fs::write(&file, "listen = \"nowhere\"\n").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["config", "show", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--listen"),
        "{bad:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A stand-in OTLP/HTTP collector: counts the trace export requests it receives.
async fn collector() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::routing::post;
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = hits.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    let protobuf = headers
                        .get("content-type")
                        .is_some_and(|v| v.as_bytes() == b"application/x-protobuf");
                    if protobuf && !body.is_empty() {
                        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_are_exported_over_otlp_when_an_endpoint_is_set() {
    let db = TestDb::new().await;
    let (collector_port, hits) = collector().await;
    let data = std::env::temp_dir().join(format!("strata-otlp-{}", free_port()));
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--database-url", &db.url, "--log", "info"])
        .args(["--agent-listen", "127.0.0.1:0"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(&data)
        .arg("--otlp-endpoint")
        .arg(format!("http://127.0.0.1:{collector_port}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while http_get(port, "/healthz", "otlp").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "strata did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for i in 0..5 {
        http_get(port, "/readyz", &format!("otlp-{i}")).unwrap();
    }
    // The batch exporter sends within a few seconds (its default delay is 5 s).
    let start = Instant::now();
    while hits.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no traces reached the collector"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
}
