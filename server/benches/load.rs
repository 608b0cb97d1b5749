//! What a person waits for, under load: the release `strata` binary on a seeded world (an
//! organization with 1,000 VM rows, 50 services and 20 members), measured with `wrk` on
//! loopback, kept-alive, at 1 and at 50 connections: health, a static asset, the dashboard,
//! VM list and VM pages (server-rendered), and the server functions behind them, signed in
//! with a real session. Prints a Markdown table (p50, p99, requests per second).
//!
//! `cargo xtask bench` builds the release site and runs this; `STRATA_BENCH_SECONDS` sets how
//! long each row runs (default 8), and `STRATA_BENCH_SOAK_MINUTES` adds a soak: the same mix
//! for that long, with the server's RSS sampled every 10 s. docs/performance.md keeps the
//! results. Nothing leaves loopback.
// Allowed here: a benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use control::testing::{user_with_session, TestDb};
use model::orgs::OrgRole;

/// One measured row: what, how it is asked for.
struct Target {
    name: &'static str,
    path: String,
    /// A form body for a server function (POST); None for a GET.
    form: Option<String>,
    signed_in: bool,
}

/// What `wrk` reported.
struct Measure {
    p50_ms: f64,
    p99_ms: f64,
    rps: f64,
    errors: u64,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What the server's resident memory is made of (`/proc/PID/smaps_rollup`, in KiB): its
/// anonymous memory (heap, stacks: what the allocator and the caches hold) and the rest, file
/// pages (the binary's code and read-only data, shared libraries) that the kernel keeps resident.
fn rss_parts(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (rss, anon) = (field("Rss:"), field("Anonymous:"));
    (anon, rss.saturating_sub(anon))
}

/// The server's CPU time so far, in clock ticks (utime + stime of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The fields after the command name, which is in parentheses.
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0)
}

/// Waits until the server has finished the work a run left behind (requests wrk gave up on
/// are still rendered): two quarter-seconds in a row with under 5% of a core used, or 30 s.
/// Without it a row's c=1 figures paid for the previous row's c=50 backlog.
fn settle(pid: u32) {
    let started = Instant::now();
    let mut quiet = 0;
    let mut last = cpu_ticks(pid);
    while quiet < 2 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(250));
        let now = cpu_ticks(pid);
        // 100 ticks a second: at most 1 tick in 250 ms is under 5% of a core.
        quiet = if now.saturating_sub(last) <= 1 {
            quiet + 1
        } else {
            0
        };
        last = now;
    }
}

/// Milliseconds from wrk's "1.23ms", "456.00us" or "1.02s".
fn millis(text: &str) -> f64 {
    let t = text.trim();
    let (num, scale) = if let Some(v) = t.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = t.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (t, 1.0)
    };
    num.parse::<f64>().unwrap_or(f64::NAN) * scale
}

fn parse_wrk(out: &str) -> Measure {
    let mut m = Measure {
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        rps: 0.0,
        errors: 0,
    };
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => m.p50_ms = millis(v),
            ["99%", v] => m.p99_ms = millis(v),
            ["Requests/sec:", v] => m.rps = v.parse().unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => m.errors += n.parse().unwrap_or(0),
            ["Socket", "errors:", ..] => m.errors += 1,
            _ => {}
        }
    }
    m
}

/// A wrk Lua script that sends `form` as a POST (server functions), with the cookie.
fn script(dir: &Path, name: &str, form: Option<&str>, cookie: Option<&str>) -> PathBuf {
    let mut lua = String::new();
    if let Some(body) = form {
        lua.push_str("wrk.method = \"POST\"\n");
        lua.push_str(&format!("wrk.body = \"{body}\"\n"));
        lua.push_str("wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n");
    }
    if let Some(c) = cookie {
        lua.push_str(&format!(
            "wrk.headers[\"Cookie\"] = \"strata_session={c}\"\n"
        ));
    }
    lua.push_str("wrk.headers[\"Accept-Encoding\"] = \"br, gzip\"\n");
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, lua).expect("write the wrk script");
    path
}

fn wrk(url: &str, script: &Path, connections: u32, seconds: u64) -> Measure {
    let threads = connections.clamp(1, 2);
    let out = Command::new("wrk")
        .args([
            "--latency",
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk runs (cargo xtask bench installs it)");
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// The hashed stylesheet of the built site.
fn stylesheet(site: &Path) -> String {
    std::fs::read_dir(site.join("pkg"))
        .expect("a built site (cargo xtask bench builds it)")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".css"))
        .map(|n| format!("/pkg/{n}"))
        .expect("a stylesheet in the built site")
}

/// The seeded world; returns (a signed-in session token, a VM id).
async fn seed(db: &TestDb) -> (String, String) {
    let c = db.control().await;
    let now = Utc::now();
    let (owner_id, token) = user_with_session(&c, "owner", false).await;
    let owner = control::auth::Caller {
        user_id: owner_id,
        session_id: uuid::Uuid::nil(),
        username: "owner".into(),
        display_name: "OWNER".into(),
        is_admin: false,
        client: control::auth::ClientInfo::new("127.0.0.1", "bench"),
        token: None,
    };
    let org = c.create_organization(&owner, "bench", now).await.unwrap();
    for i in 0..19 {
        let name = format!("member{i}");
        user_with_session(&c, &name, false).await;
        c.add_member(&owner, &org.id, &name, OrgRole::Member, now)
            .await
            .unwrap();
    }
    let mut vm = String::new();
    for i in 0..1000 {
        vm = control::testing::stopped_vm(&c, &org.id, &format!("vm-{i}"), owner.user_id).await;
    }
    for i in 0..50 {
        let mut s = model::services::NewService::named(&org.id, &format!("svc-{i}"));
        s.replicas = 0;
        c.create_service(&owner, &s, now).await.unwrap();
    }
    // Let the runner-less seed's queued first deployments finish here, not under load.
    c.run_due_operations().await.unwrap();
    control::testing::analyze(&c).await;
    (token, vm)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(db_url: &str, site: &Path, data: &Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--database-url", db_url, "--log", "warn"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data)
        .arg("--site-root")
        .arg(site)
        .arg("--ready-image")
        .arg(data.join("no-ready-image"))
        .stdout(Stdio::null())
        .spawn()
        .expect("start the release strata binary");
    let started = Instant::now();
    loop {
        let ok = std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .and_then(|mut s| {
                s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n").ok()?;
                let mut buf = String::new();
                std::io::Read::read_to_string(&mut s, &mut buf).ok()?;
                buf.starts_with("HTTP/1.0 200").then_some(())
            })
            .is_some();
        if ok {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "strata did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Server(child)
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("STRATA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let soak_minutes: u64 = std::env::var("STRATA_BENCH_SOAK_MINUTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let site = root.join("target/site");
    let css = stylesheet(&site);
    let db = TestDb::new().await;
    let seeding = Instant::now();
    let (token, vm) = seed(&db).await;
    eprintln!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    let work = std::env::temp_dir().join(format!("strata-load-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work).unwrap();
    let port = free_port();
    let server = start(&db.url, &site, &work.join("data"), port);
    let pid = server.0.id();
    let rss_start = rss_kib(pid);
    let (anon_start, file_start) = rss_parts(pid);
    println!(
        "Server RSS after start: {:.1} MiB anonymous, {:.1} MiB file pages.",
        anon_start as f64 / 1024.0,
        file_start as f64 / 1024.0
    );

    let targets = vec![
        Target {
            name: "GET /healthz",
            path: "/healthz".into(),
            form: None,
            signed_in: false,
        },
        Target {
            name: "GET stylesheet (brotli)",
            path: css.clone(),
            form: None,
            signed_in: false,
        },
        Target {
            name: "GET / (dashboard page)",
            path: "/".into(),
            form: None,
            signed_in: true,
        },
        Target {
            name: "GET /vms (first 50 of 1,000 VMs)",
            path: "/vms".into(),
            form: None,
            signed_in: true,
        },
        Target {
            name: "GET /vms/{id}",
            path: format!("/vms/{vm}"),
            form: None,
            signed_in: true,
        },
        Target {
            name: "POST /api/dashboard",
            path: "/api/dashboard".into(),
            form: Some(String::new()),
            signed_in: true,
        },
        Target {
            name: "POST /api/vms/list (first 50 of 1,000)",
            path: "/api/vms/list".into(),
            form: Some(String::new()),
            signed_in: true,
        },
        Target {
            name: "POST /api/vms/list (all 1,000)",
            path: "/api/vms/list".into(),
            form: Some("limit=1000".into()),
            signed_in: true,
        },
        Target {
            name: "POST /api/vms/get",
            path: "/api/vms/get".into(),
            form: Some(format!("id={vm}")),
            signed_in: true,
        },
    ];
    let scripts: Vec<PathBuf> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            script(
                &work,
                &format!("t{i}"),
                t.form.as_deref(),
                t.signed_in.then_some(token.as_str()),
            )
        })
        .collect();

    println!("| What | c=1 p50 | c=1 p99 | c=1 req/s | c=50 p50 | c=50 p99 | c=50 req/s |");
    println!("|---|---|---|---|---|---|---|");
    for (t, s) in targets.iter().zip(&scripts) {
        let url = format!("http://127.0.0.1:{port}{}", t.path);
        // One second unmeasured first: the first signed-in request after start fills the
        // tuple cache (a few hundred milliseconds), which is not what a row measures.
        wrk(&url, s, 1, 1);
        settle(pid);
        let one = wrk(&url, s, 1, seconds);
        let fifty = wrk(&url, s, 50, seconds);
        let flag = |m: &Measure| {
            if m.errors > 0 {
                format!(" ({} errors)", m.errors)
            } else {
                String::new()
            }
        };
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.0}{} | {:.2} ms | {:.2} ms | {:.0}{} |",
            t.name,
            one.p50_ms,
            one.p99_ms,
            one.rps,
            flag(&one),
            fifty.p50_ms,
            fifty.p99_ms,
            fifty.rps,
            flag(&fifty)
        );
    }
    let rss_after = rss_kib(pid);
    settle(pid);
    let rss_idle = rss_kib(pid);
    println!(
        "\nServer RSS: {:.1} MiB after start, {:.1} MiB after the table, {:.1} MiB once idle.",
        rss_start as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        rss_idle as f64 / 1024.0
    );
    let (anon, file) = rss_parts(pid);
    println!(
        "Once idle: {:.1} MiB anonymous (heap, stacks, caches), {:.1} MiB file pages (the \
         binary's code and data, shared libraries).",
        anon as f64 / 1024.0,
        file as f64 / 1024.0
    );
    if soak_minutes > 0 {
        soak(port, pid, &targets, &scripts, soak_minutes);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
}

/// The same mix for `minutes`, one wrk run of 10 s per target in turn at c=10, with the
/// server's RSS after each run.
fn soak(port: u16, pid: u32, targets: &[Target], scripts: &[PathBuf], minutes: u64) {
    println!("\nSoak: {minutes} min of the mix at c=10; RSS every 10 s");
    println!("| t (s) | RSS (MiB) | target |");
    println!("|---|---|---|");
    let started = Instant::now();
    let mut first = None;
    let mut last = 0;
    for (t, s) in targets.iter().zip(scripts).cycle() {
        if started.elapsed() >= Duration::from_secs(minutes * 60) {
            break;
        }
        let url = format!("http://127.0.0.1:{port}{}", t.path);
        wrk(&url, s, 10, 10);
        last = rss_kib(pid);
        first.get_or_insert(last);
        println!(
            "| {} | {:.1} | {} |",
            started.elapsed().as_secs(),
            last as f64 / 1024.0,
            t.name
        );
    }
    let first = first.unwrap_or(last);
    println!(
        "\nSoak RSS: {:.1} MiB after the first 10 s, {:.1} MiB at the end ({:+.1} MiB).",
        first as f64 / 1024.0,
        last as f64 / 1024.0,
        (last as f64 - first as f64) / 1024.0
    );
}
