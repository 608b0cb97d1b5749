//! From a create request to the guest's boot marker, through Strata (use case, operation,
//! runner, driver, QEMU), beside the same guest launched with a bare `qemu-system-x86_64`
//! command, alternating, 10 of each in one run. Prints medians, the ratio, and memory per VM.
//!
//! `cargo bench -p control --bench vm_boot`. docs/compute.md keeps the results.
// Allowed here: a benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use control::testing::{caller, guest, TestDb};
use model::vms::{NewVm, VmState};

const RUNS: usize = 10;
const MARKER: &str = "STRATA-GUEST-READY";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The guest with the flags Strata uses (TCG, 1 vCPU, 128 MiB, serial to a file), waited for
/// by polling its serial log as often as Strata's driver does.
fn bare(dir: &Path) -> Duration {
    std::fs::create_dir_all(dir).unwrap();
    let g = guest();
    let log = dir.join("serial.log");
    let started = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-accel",
            "tcg",
            "-m",
            "128",
            "-smp",
            "1",
            "-nodefaults",
            "-display",
            "none",
        ])
        .args(["-no-reboot", "-kernel"])
        .arg(g.join("vmlinuz"))
        .arg("-initrd")
        .arg(g.join("initrd.img"))
        .args(["-append", "console=ttyS0 quiet panic=-1", "-serial"])
        .arg(format!("file:{}", log.display()))
        .spawn()
        .expect("run qemu-system-x86_64");
    loop {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(MARKER)
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "bare guest did not boot"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let ann = caller(&c, "bench", false).await;
    let org = c
        .create_organization(&ann, "bench", Utc::now())
        .await
        .unwrap();
    let mut strata = Vec::new();
    let mut plain = Vec::new();
    let mut rss = Vec::new();
    for i in 0..RUNS {
        let dir = db.vm_dir.join(format!("bare-{i}"));
        plain.push(
            tokio::task::spawn_blocking(move || bare(&dir))
                .await
                .unwrap(),
        );

        let mut new = NewVm::named(&org.id, &format!("boot-{i}"));
        new.start = true;
        let started = Instant::now();
        let vm = c.create_vm(&ann, &new, Utc::now()).await.unwrap();
        // The runner's operation ends once the marker is on the console.
        c.run_due_operations().await.unwrap();
        strata.push(started.elapsed());
        assert_eq!(c.vm(&ann, &vm.id).await.unwrap().vm.state, VmState::Running);
        if let Ok(Some(u)) = control::testing::driver(&c).usage(&vm.id).await {
            rss.push(u.rss_bytes);
        }
        control::testing::driver(&c).delete(&vm.id).await.unwrap();
    }
    let (s, p) = (median(strata.clone()), median(plain.clone()));
    println!("create request -> boot marker, median of {RUNS} (TCG, 1 vCPU, 128 MiB):");
    println!(
        "  through Strata:       {:>7.0} ms  (all: {:?})",
        s.as_secs_f64() * 1e3,
        strata.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    println!(
        "  bare qemu-system:     {:>7.0} ms  (all: {:?})",
        p.as_secs_f64() * 1e3,
        plain.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    println!(
        "  Strata / bare:        {:>7.3}",
        s.as_secs_f64() / p.as_secs_f64()
    );
    rss.sort();
    if let Some(m) = rss.get(rss.len() / 2) {
        println!(
            "  QEMU RSS per VM after boot, median: {:.0} MiB",
            *m as f64 / 1_048_576.0
        );
    }
}
