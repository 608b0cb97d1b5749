//! What the QEMU tests share: the test guest, built once per test binary, and cleanup.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

pub use hypervisor::testing::guest;

/// Kills every QEMU whose command line names a path under this directory and removes the
/// directory when dropped, so a failing test leaves no VM running.
pub struct Reap(pub PathBuf);

impl Drop for Reap {
    fn drop(&mut self) {
        hypervisor::testing::kill_vms_under(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
