//! Permission engine speed on a graph of 10,000 users, 1,000 organizations and 100,000 VMs
//! (about a million tuples): `check` and `lookup_resources`, from memory, through the
//! revision-keyed cache over the database (warm), and on the database without a cache.
//!
//! `cargo bench -p control --bench authz` (SQLite; `STRATA_TEST_DATABASE=postgres` for
//! PostgreSQL). Prints one line per measurement; docs/permissions.md keeps the results.
// Allowed here: a benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use authz::{MemoryStore, Object, Subject, Tuple, TupleCache};
use chrono::Utc;
use control::access::store::DbStore;
use control::access::tuples;
use control::testing::TestDb;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const USERS: usize = 10_000;
const ORGS: usize = 1_000;
const VMS_PER_ORG: usize = 100;
const MEMBERS_PER_ORG: usize = 10;
const VIEWERS_PER_VM: usize = 8;
/// The user who can see 10,000 VMs: a member of 100 organizations.
const HEAVY: &str = "heavy";

fn graph() -> Vec<Tuple> {
    let mut rng = StdRng::seed_from_u64(1);
    let mut out = Vec::with_capacity(1_100_000);
    let t = |text: String| text.parse::<Tuple>().unwrap();
    for u in 0..USERS {
        out.push(t(format!("platform:strata#member@user:u{u}")));
    }
    out.push(t(format!("platform:strata#member@user:{HEAVY}")));
    out.push(t("platform:strata#admin@user:u0".into()));
    for o in 0..ORGS {
        out.push(t(format!("organization:o{o}#platform@platform:strata")));
        out.push(t(format!(
            "organization:o{o}#owner@user:u{}",
            rng.gen_range(0..USERS)
        )));
        for _ in 0..MEMBERS_PER_ORG {
            out.push(t(format!(
                "organization:o{o}#member@user:u{}",
                rng.gen_range(0..USERS)
            )));
        }
        if o < 100 {
            out.push(t(format!("organization:o{o}#member@user:{HEAVY}")));
        }
        for v in 0..VMS_PER_ORG {
            let vm = format!("vm:o{o}v{v}");
            out.push(t(format!("{vm}#organization@organization:o{o}")));
            out.push(t(format!("{vm}#owner@user:u{}", rng.gen_range(0..USERS))));
            for _ in 0..VIEWERS_PER_VM {
                out.push(t(format!("{vm}#viewer@user:u{}", rng.gen_range(0..USERS))));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn report(what: &str, samples: &mut [Duration]) {
    let p50 = percentile(samples, 0.50);
    let p99 = percentile(samples, 0.99);
    println!(
        "{what:<58} n={:<6} p50={:>10.1?} p99={:>10.1?}",
        samples.len(),
        p50,
        p99
    );
}

fn questions(n: usize) -> Vec<(Subject, Object)> {
    let mut rng = StdRng::seed_from_u64(2);
    (0..n)
        .map(|_| {
            (
                Subject::new("user", format!("u{}", rng.gen_range(0..USERS))),
                Object::new(
                    "vm",
                    format!(
                        "o{}v{}",
                        rng.gen_range(0..ORGS),
                        rng.gen_range(0..VMS_PER_ORG)
                    ),
                ),
            )
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let db = TestDb::new().await;
    let control = db.control().await;
    let engine = control.access().engine();
    let tuples_all = graph();
    println!(
        "graph: {} tuples on {}",
        tuples_all.len(),
        control::testing::backend()
    );

    let started = Instant::now();
    let memory = MemoryStore::from_tuples(tuples_all.iter().cloned());
    println!("memory store built in {:.1?}", started.elapsed());
    let started = Instant::now();
    let txn = sea_orm::TransactionTrait::begin(control::testing::db(&control))
        .await
        .unwrap();
    for chunk in tuples_all.chunks(2_000) {
        tuples::write(&txn, &control::testing::proof(), chunk, Utc::now())
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    println!("database loaded in {:.1?}", started.elapsed());

    let heavy = Subject::new("user", HEAVY);
    let visible = engine
        .lookup_resources(&memory, &heavy, "read", "vm")
        .await
        .unwrap();
    assert_eq!(
        visible.len(),
        100 * VMS_PER_ORG,
        "the heavy user sees 10,000 VMs"
    );

    // check, from memory.
    let qs = questions(20_000);
    let mut granted = 0usize;
    let mut samples = Vec::with_capacity(qs.len());
    for (s, o) in &qs {
        let t = Instant::now();
        granted += engine.check(&memory, s, "read", o).await.unwrap() as usize;
        samples.push(t.elapsed());
    }
    report("check vm.read, memory store", &mut samples);
    println!("  ({granted} of {} granted)", qs.len());

    // check through the cache over the database: a cold pass, then warm.
    let store = DbStore::new(control::testing::db(&control));
    let revision = tuples::revision(control::testing::db(&control))
        .await
        .unwrap();
    let cache = TupleCache::new(2_000_000);
    let cached = cache.at(revision, &store);
    let qs = questions(5_000);
    let mut cold = Vec::new();
    for (s, o) in &qs {
        let t = Instant::now();
        engine.check(&cached, s, "read", o).await.unwrap();
        cold.push(t.elapsed());
    }
    report("check vm.read, database, cache cold", &mut cold);
    let mut warm = Vec::new();
    for (s, o) in &qs {
        let t = Instant::now();
        engine.check(&cached, s, "read", o).await.unwrap();
        warm.push(t.elapsed());
    }
    report("check vm.read, database, cache warm", &mut warm);
    let mut rev = Vec::new();
    for _ in 0..2_000 {
        let t = Instant::now();
        tuples::revision(control::testing::db(&control))
            .await
            .unwrap();
        rev.push(t.elapsed());
    }
    report("revision read (once per request)", &mut rev);

    // check on the database without a cache.
    let mut uncached = Vec::new();
    for (s, o) in qs.iter().take(2_000) {
        let t = Instant::now();
        engine.check(&store, s, "read", o).await.unwrap();
        uncached.push(t.elapsed());
    }
    report("check vm.read, database, no cache", &mut uncached);

    // lookup_resources for the user who can see 10,000 VMs.
    let runs = |label: &'static str| (label, Vec::<Duration>::new());
    let (label, mut s) = runs("lookup_resources vm.read (10,000 VMs), memory store");
    for _ in 0..30 {
        let t = Instant::now();
        let n = engine
            .lookup_resources(&memory, &heavy, "read", "vm")
            .await
            .unwrap()
            .len();
        s.push(t.elapsed());
        assert_eq!(n, 10_000);
    }
    report(label, &mut s);
    let (label, mut s) = runs("lookup_resources vm.read (10,000 VMs), cache warm");
    engine
        .lookup_resources(&cached, &heavy, "read", "vm")
        .await
        .unwrap();
    for _ in 0..30 {
        let t = Instant::now();
        let n = engine
            .lookup_resources(&cached, &heavy, "read", "vm")
            .await
            .unwrap()
            .len();
        s.push(t.elapsed());
        assert_eq!(n, 10_000);
    }
    report(label, &mut s);
    let (label, mut s) = runs("lookup_resources vm.read (10,000 VMs), database, no cache");
    for _ in 0..10 {
        let t = Instant::now();
        let n = engine
            .lookup_resources(&store, &heavy, "read", "vm")
            .await
            .unwrap()
            .len();
        s.push(t.elapsed());
        assert_eq!(n, 10_000);
    }
    report(label, &mut s);
}
