//! What the QEMU tests share: the test guest, built once per test binary, and cleanup.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub use hypervisor::testing::guest;

/// Kills every QEMU whose command line names a path under this directory and removes the
/// directory when dropped, so a failing test leaves no VM running.
pub struct Reap(pub PathBuf);

impl Drop for Reap {
    fn drop(&mut self) {
        let root = self.0.display().to_string();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.starts_with("qemu-system") && cmdline.contains(&root) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
