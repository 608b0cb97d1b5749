//! Test support shared by this crate's tests and the control plane's: the test guest, and
//! stopping whatever QEMU a test left running.
//!
//! Compiled always (like `control::testing`) so the tests of every crate above use this one
//! copy; nothing outside tests calls it.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

/// Builds the test guest if needed (`scripts/build-test-guest.sh`: idempotent, a few seconds)
/// and returns its absolute directory; once per test binary, since the tests run in parallel.
/// Fails clearly when QEMU is missing.
pub fn guest() -> PathBuf {
    static GUEST: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    GUEST.get_or_init(build_guest).clone()
}

fn build_guest() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = root.join("target/guest");
    let status = Command::new("sh")
        .arg(root.join("scripts/build-test-guest.sh"))
        .arg(&out)
        .status()
        .expect("run scripts/build-test-guest.sh");
    assert!(status.success(), "building the test guest failed");
    for tool in ["qemu-system-x86_64", "qemu-img"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok(),
            "{tool} is required for these tests; `cargo xtask setup` installs it"
        );
    }
    std::path::absolute(out).expect("an absolute guest path")
}

/// Kills (SIGKILL) every QEMU whose command line names a path under `dir`: what a test left
/// running, pid file or not. The one copy for every crate's tests (xtask, which builds from the
/// standard library alone, keeps a pid-file version of its own).
pub fn kill_vms_under(dir: &std::path::Path) {
    kill_programs_under("qemu-system", dir);
}

/// Kills (SIGKILL) every process of `program` whose command line names a path under `dir`.
fn kill_programs_under(program: &str, dir: &std::path::Path) {
    let root = dir.display().to_string();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.starts_with(program) && cmdline.contains(&root) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// Removes what a test's [`crate::NetPlane`] keeping its files in `dir` made, whatever state
/// it was left in: kills every dnsmasq whose command line names a path under `dir`, and deletes
/// every network namespace named for the node's tag (its networks' and its own, `<tag>-node`).
pub fn remove_node_networks(dir: &std::path::Path) {
    let tag = std::fs::read_to_string(dir.join("tag"))
        .map(|t| t.trim().to_owned())
        .unwrap_or_else(|_| crate::net::tag_for(dir));
    kill_programs_under("dnsmasq", dir);
    let prefix = format!("{tag}-");
    for entry in std::fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) {
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        }
    }
}
