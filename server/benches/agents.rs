//! Many agents against one control plane: N simulated agents (default 1,000; no QEMU, the
//! protocol only) join through the real TLS listener with real certificates and then heartbeat
//! every 5 s as real agents do. The control plane runs in this process; the agents run in a
//! child process (this same binary, `STRATA_BENCH_AGENTS` set) so that this process's CPU and
//! RSS are the control plane's alone. Prints the join time, the control plane's CPU use and RSS
//! over a minute of steady heartbeats, and how long after one agent vanishes it is seen
//! unreachable.
//!
//! `cargo bench -p server --bench agents` (SQLite in a temporary directory; set
//! `STRATA_TEST_DATABASE=postgres` for PostgreSQL, `STRATA_BENCH_NODES` for another N).
//! docs/nodes.md keeps the results.
// Allowed here: a benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use agent::link::Host;
use agent::proto::{Inventory, JoinToken};
use chrono::Utc;
use control::testing::{caller, TestDb};
use model::nodes::NodeStatus;

const STEADY: Duration = Duration::from_secs(60);

/// CPU seconds (user + system) and RSS (MiB) of this process, from /proc.
fn cpu_and_rss() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 11 and 12 after the command's `)`.
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, rss_kib / 1024.0)
}

/// A host with no QEMU: the bench never places a VM, so no call reaches its driver.
struct Simulated(Inventory, std::sync::Arc<dyn hypervisor::driver::Driver>);

impl Host for Simulated {
    fn inventory(&self) -> Inventory {
        self.0.clone()
    }
    fn running(&self) -> Vec<String> {
        Vec::new()
    }
    fn driver(&self) -> std::sync::Arc<dyn hypervisor::driver::Driver> {
        self.1.clone()
    }
}

/// The child: joins with every token on stdin, keeps every link up, and on `drop` on stdin
/// ends the first agent's link and prints when.
async fn agents() {
    agent::raise_fd_limit();
    let dir = std::env::temp_dir().join(format!("strata-bench-agents-{}", std::process::id()));
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut tokens = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == "go" {
            break;
        }
        tokens.push(JoinToken::decode(&line).unwrap());
    }
    let started = Instant::now();
    let mut joins = tokio::task::JoinSet::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let data = dir.join(format!("a{i}"));
        joins.spawn(async move { (i, agent::join::join(&token, &data).await.unwrap()) });
        // At most 32 handshakes in flight, as agents of a fleet starting together would not be.
        while joins.len() >= 32 {
            let _ = joins.join_next().await;
        }
    }
    while joins.join_next().await.is_some() {}
    println!("joined {:.1}", started.elapsed().as_secs_f64());
    let mut links = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = entry.unwrap().path();
        let identity = agent::identity::Identity::load(&data).unwrap().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let vms =
                std::sync::Arc::new(hypervisor::qemu_driver::QemuDriver::new(data.join("vms")));
            let host = Simulated(
                Inventory {
                    cpus: 8,
                    memory_mb: 32768,
                    disk_free_gb: 500,
                    accel: "kvm".into(),
                    qemu_version: Some("simulated".into()),
                    region: "bench".into(),
                    labels: Default::default(),
                    agent_version: "bench".into(),
                },
                vms,
            );
            let _ = agent::link::run(&identity, &host, async {
                let _ = stopped.await;
            })
            .await;
        });
        links.push((stop, handle));
    }
    std::io::stdout().flush().unwrap();
    for line in lines {
        if line.unwrap() == "drop" {
            if let Some((stop, handle)) = links.pop() {
                let _ = stop.send(());
                let _ = handle.await;
                println!("dropped");
                std::io::stdout().flush().unwrap();
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::main]
async fn main() {
    if std::env::var_os("STRATA_BENCH_AGENTS").is_some() {
        return agents().await;
    }
    agent::raise_fd_limit();
    let n: usize = std::env::var("STRATA_BENCH_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let db = TestDb::new().await;
    let c = db.control().await;
    let admin = caller(&c, "root", true).await;
    let listener = server::agents::bind(&c, "127.0.0.1:0".parse().unwrap(), None, "localhost")
        .await
        .unwrap()
        .join_limit(0);
    tokio::spawn(server::agents::serve(c.clone(), listener));
    c.spawn_node_watch();

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("STRATA_BENCH_AGENTS", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_child = child.stdin.take().unwrap();
    let mut from_child = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for i in 0..n {
        let ticket = c
            .add_node(&admin, &format!("sim-{i}"), Utc::now())
            .await
            .unwrap();
        writeln!(to_child, "{}", ticket.token).unwrap();
    }
    writeln!(to_child, "go").unwrap();
    let joined = tokio::task::spawn_blocking(move || {
        let line = from_child.next().unwrap().unwrap();
        (line, from_child)
    })
    .await
    .unwrap();
    let (line, mut from_child) = joined;
    println!(
        "{n} agents joined in {} s",
        line.trim_start_matches("joined ")
    );

    // Every node linked (its hello recorded), then a steady minute of heartbeats.
    let linked = Instant::now();
    loop {
        let nodes = c.list_nodes(&admin, Utc::now()).await.unwrap();
        let up = nodes
            .iter()
            .filter(|v| !v.is_local && v.status == NodeStatus::Cordoned)
            .count();
        if up == n {
            break;
        }
        assert!(
            linked.elapsed() < Duration::from_secs(120),
            "only {up} of {n} linked"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "all {n} linked {:.1} s after the last join",
        linked.elapsed().as_secs_f64()
    );
    println!("open links: {}", c.agent_links().count());
    let (cpu0, rss0) = cpu_and_rss();
    tokio::time::sleep(STEADY).await;
    let (cpu1, rss1) = cpu_and_rss();
    println!(
        "steady {} s: control plane CPU {:.1}% of one core ({:.2} ms per heartbeat), RSS {:.0} MiB -> {:.0} MiB",
        STEADY.as_secs(),
        (cpu1 - cpu0) / STEADY.as_secs_f64() * 100.0,
        (cpu1 - cpu0) * 1000.0 / (n as f64 * STEADY.as_secs_f64() / 5.0),
        rss0,
        rss1
    );

    // One agent vanishes (its link closes, as when its host dies and the kernel resets the
    // connection): how long until the control plane calls its node unreachable.
    writeln!(to_child, "drop").unwrap();
    let (line, _from_child) = tokio::task::spawn_blocking(move || {
        let line = from_child.next().unwrap().unwrap();
        (line, from_child)
    })
    .await
    .unwrap();
    assert_eq!(line, "dropped");
    let gone = Instant::now();
    loop {
        let nodes = c.list_nodes(&admin, Utc::now()).await.unwrap();
        if nodes.iter().any(|v| v.status == NodeStatus::Unreachable) {
            break;
        }
        assert!(
            gone.elapsed() < Duration::from_secs(60),
            "no node went unreachable"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "one agent gone: its node unreachable after {:.1} s (heartbeats every 5 s, unreachable at 15 s)",
        gone.elapsed().as_secs_f64()
    );
    let _ = child.kill();
    let _ = child.wait();
}
