//! What a host offers: CPUs, memory, free disk where VMs live, the accelerator and QEMU it has,
//! and the region and labels its operator gave the agent.

use std::collections::BTreeMap;
use std::path::Path;

use crate::proto::Inventory;

/// Looks at this host. `vm_dir` is where VM disks go (its free space is reported; it need
/// not exist yet, its nearest existing parent is measured).
pub fn gather(vm_dir: &Path, region: &str, labels: BTreeMap<String, String>) -> Inventory {
    Inventory {
        cpus: cpus(),
        memory_mb: memory_mb(),
        disk_free_gb: free_gb(vm_dir),
        accel: hypervisor::accel::detect().as_arg().to_owned(),
        qemu_version: qemu_version(),
        region: region.to_owned(),
        labels,
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// This host's CPUs (at least 1).
pub fn cpus() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

/// This host's memory from /proc/meminfo; 0 where that file does not exist.
pub fn memory_mb() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_total_kib(&text))
        .map_or(0, |kib| kib / 1024)
}

fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn free_gb(dir: &Path) -> u64 {
    let existing = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    rustix::fs::statvfs(existing)
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize) / (1 << 30))
        .unwrap_or(0)
}

fn qemu_version() -> Option<String> {
    let out = std::process::Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|line| line.trim().to_owned())
        .filter(|line| !line.is_empty())
}

/// Reads `key=value` labels from flags; a label without `=` is refused by name.
pub fn parse_labels(items: &[String]) -> Result<BTreeMap<String, String>, String> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("label {item:?} is not key=value"))?;
            let key_ok = !k.is_empty()
                && k.len() <= 63
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
            if !key_ok || v.len() > 255 {
                return Err(format!(
                    "label {item:?}: keys are 1-63 of a-z, 0-9, - _ . /; values at most 255 bytes"
                ));
            }
            Ok((k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_host_is_measured() {
        let inv = gather(Path::new("/nonexistent/vms"), "eu", BTreeMap::new());
        assert!(inv.cpus >= 1);
        assert!(inv.memory_mb > 0);
        assert!(inv.accel == "kvm" || inv.accel == "tcg", "{}", inv.accel);
        assert_eq!(inv.region, "eu");
        assert_eq!(mem_total_kib("MemTotal:  2048 kB\n"), Some(2048));
        let text = "MemTotal:       24573468 kB\nMemFree:         1000 kB\n";
        assert_eq!(mem_total_kib(text), Some(24_573_468));
        assert_eq!(mem_total_kib("MemFree: 1 kB"), None);
    }

    #[test]
    fn labels_are_key_value() {
        let labels = parse_labels(&["rack=a1".into(), "ssd=".into()]).unwrap();
        assert_eq!(labels.get("rack").map(String::as_str), Some("a1"));
        assert_eq!(labels.get("ssd").map(String::as_str), Some(""));
        assert!(parse_labels(&["nope".into()])
            .unwrap_err()
            .contains("key=value"));
        assert!(parse_labels(&["a b=c".into()]).is_err());
    }
}
