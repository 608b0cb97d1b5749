//! Latency from a committed change to its event arriving at WebSocket clients: 1, 100 and
//! 1,000 connected subscribers, in-process and through Redis. The subscribers are one person's
//! tabs, or (the last rows) 1,000 different people, each of whom the permission engine checks.
//!
//! Each round commits a real change (a VM's generation goes up, in a transaction), then
//! publishes the VM's event the way the use cases do; every client notes when the event with
//! that generation arrives. One server and all clients share this machine's 2 cores, so the
//! clients' own work is in the numbers. `cargo bench -p server --bench live` (Redis at
//! `STRATA_TEST_REDIS_URL`, default redis://127.0.0.1:6379/). docs/live.md keeps the results.
// Allowed here: a benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use chrono::Utc;
use control::entities::vm;
use control::testing::{caller, session_for, user_with_session, TestDb};
use futures_util::StreamExt;
use model::events::LiveEvent;
use model::orgs::OrgRole;
use model::vms::NewVm;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use server::{router, serve::leptos_options, AppState};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const ROUNDS: i64 = 40;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn run(redis: Option<&str>, subscribers: usize, people: usize) -> (Duration, Duration) {
    let db = TestDb::new().await;
    let c = match redis {
        Some(url) => db.control_with_redis(url).await,
        None => db.control().await,
    };
    let ann = caller(&c, "ann", false).await;
    let token = session_for(&c, ann.user_id).await;
    let org = c
        .create_organization(&ann, "bench", Utc::now())
        .await
        .unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), Utc::now())
        .await
        .unwrap();
    let id: sea_orm::prelude::Uuid = vm.id.parse().unwrap();
    // Everyone but ann joins the organization, so they may read the VM.
    let mut tokens = vec![token];
    for i in 1..people {
        let name = format!("p{i}");
        let (_, t) = user_with_session(&c, &name, false).await;
        c.add_member(&ann, &org.id, &name, OrgRole::Member, Utc::now())
            .await
            .unwrap();
        tokens.push(t);
    }
    let site = std::env::temp_dir().join(format!("strata-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&site).unwrap();
    let app = router::build(AppState {
        leptos_options: leptos_options(&site),
        control: c.clone(),
        auth_limiter: server::ratelimit::RateLimiter::per_minute(100_000),
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

    // Every client reports (generation, arrival) for the VM's events.
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, Instant)>();
    let mut ready = Vec::new();
    for n in 0..subscribers {
        let token = &tokens[n % tokens.len()];
        let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
        req.headers_mut()
            .insert("origin", "http://localhost:3000".parse().unwrap());
        req.headers_mut()
            .insert("cookie", format!("strata_session={token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect (raise `ulimit -n` for many subscribers)");
        // Wait for the greeting so every client is subscribed before the first round.
        while let Some(Ok(msg)) = ws.next().await {
            if matches!(msg, Message::Text(_)) {
                break;
            }
        }
        let tx = tx.clone();
        ready.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(text) = msg {
                    if let Ok(LiveEvent::VmUpdate { generation, .. }) = serde_json::from_str(&text)
                    {
                        let _ = tx.send((generation, Instant::now()));
                    }
                }
            }
        }));
    }
    let mut latencies = Vec::with_capacity(subscribers * ROUNDS as usize);
    let base = vm.generation;
    for round in 1..=ROUNDS {
        let txn = control::testing::db(&c).begin().await.unwrap();
        vm::Entity::update_many()
            .col_expr(vm::Column::Generation, Expr::value(base + round))
            .filter(vm::Column::Id.eq(id))
            .exec(&txn)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let committed = Instant::now();
        c.publish_vm(id).await;
        let mut got = 0;
        while got < subscribers {
            let (generation, at) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("every subscriber gets the event")
                .unwrap();
            if generation == base + round {
                latencies.push(at - committed);
                got += 1;
            }
        }
    }
    for task in ready {
        task.abort();
    }
    latencies.sort();
    (percentile(&latencies, 0.5), percentile(&latencies, 0.99))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let redis = std::env::var("STRATA_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    println!("committed change -> event at every WebSocket client ({ROUNDS} rounds each)");
    println!(
        "{:<12} {:>12} {:>8} {:>10} {:>10}",
        "transport", "subscribers", "people", "p50 ms", "p99 ms"
    );
    // `STRATA_BENCH_ONLY=redis` (or `in-process`) runs one transport.
    let only = std::env::var("STRATA_BENCH_ONLY").unwrap_or_default();
    for (name, transport) in [("in-process", None), ("redis", Some(redis.as_str()))] {
        if !only.is_empty() && only != name {
            continue;
        }
        for (n, people) in [(1usize, 1usize), (100, 1), (1000, 1), (1000, 1000)] {
            let (p50, p99) = run(transport, n, people).await;
            println!(
                "{name:<12} {n:>12} {people:>8} {:>10.2} {:>10.2}",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
    }
}
