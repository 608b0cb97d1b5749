//! Test support shared by this crate's tests and the control plane's: the test guest.
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
