//! The contract between the control plane and one node: what a VM should be
//! ([`MachineSpec`]), the operations that make it so ([`Driver`]), and their errors, each of
//! which says whether trying again later can help.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::net::{NicSpec, RouterSpec};
pub use crate::qemu::Stopped;
use crate::qmp::QmpError;

/// How a VM boots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Boot {
    /// A kernel and initrd booted directly; the VM gets a blank data disk.
    Kernel {
        kernel: PathBuf,
        initrd: PathBuf,
        /// Extra kernel command line after `console=ttyS0`.
        cmdline: String,
    },
    /// From a disk that is a copy-on-write overlay on this qcow2 or raw image.
    Disk { base: PathBuf },
}

/// What a VM should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineSpec {
    /// A UUID: `[a-z0-9-]{1,64}`.
    pub id: String,
    pub cpus: u32,
    pub memory_mb: u32,
    /// The disk's virtual size in GiB (at least the base image's size when booting from disk).
    pub disk_gb: u32,
    pub boot: Boot,
    /// JSON text, written to `<dir>/config.json` and passed as fw_cfg `opt/strata/config`.
    pub config: Option<String>,
    /// A service replica, which another node may run a replacement of: its node stops it when
    /// it loses the control plane for long enough (fencing). Marked by a [`FENCED_MARKER`] file
    /// in its directory, so an agent restarted cut off still knows.
    #[serde(default)]
    pub fenced: bool,
    /// Its network cards, in order (the guest's eth0, eth1, ...).
    #[serde(default)]
    pub nics: Vec<NicSpec>,
    /// Its organization's router on the node (gateways and firewall of its networks), made or
    /// brought up to date before the VM starts.
    #[serde(default)]
    pub router: Option<RouterSpec>,
}

/// The file in a VM's directory that marks it as fenced (see [`MachineSpec::fenced`]).
pub const FENCED_MARKER: &str = "fenced";

/// Whether a VM runs, as far as the node can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    Running,
    /// QEMU lives but the guest's CPUs do not run (paused, or stopped by an I/O error).
    Paused,
    /// The VM's directory exists, no QEMU runs for it.
    Stopped,
    /// Nothing of the VM is on this node.
    Absent,
}

/// What a running VM's QEMU process has used, from `/proc`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// User and system CPU time of all its threads.
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
    /// Since the process started.
    pub uptime_seconds: f64,
}

/// Why an operation on a VM failed, in words for an operator.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("{0:?} is not a valid VM id: use 1 to 64 characters from a-z, 0-9 and -")]
    InvalidId(String),
    #[error("VM {id} cannot be run as asked: {reason}")]
    InvalidSpec { id: String, reason: String },
    #[error("VM {0} does not exist on this node")]
    NotFound(String),
    #[error("VM {0} is not running")]
    NotRunning(String),
    #[error("the {what} {path} does not exist")]
    MissingFile { what: &'static str, path: PathBuf },
    #[error("cannot run {program} (is QEMU installed? `cargo xtask setup` installs it): {source}")]
    Tool {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("disk {path}: {message}")]
    Disk { path: PathBuf, message: String },
    #[error("the network of VM {id}: {message}")]
    Network { id: String, message: String },
    #[error("QEMU would not start VM {id}: {message}")]
    Launch { id: String, message: String },
    #[error("QEMU of VM {id}: {source}")]
    Qmp { id: String, source: QmpError },
    #[error("VM {id} did not print {marker:?} on its console within {waited:?}")]
    ConsoleTimeout {
        id: String,
        marker: String,
        waited: Duration,
    },
    #[error("VM {id} stopped before it printed {marker:?} on its console")]
    Exited { id: String, marker: String },
    #[error("QEMU of VM {id} (process {pid}) would not die, even killed")]
    Stuck { id: String, pid: u32 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An error on another node, as its agent reported it (or the link that could not carry
    /// the call): what people may read, whether a retry can help, and the whole detail.
    #[error("{detail}")]
    Remote {
        public: String,
        transient: bool,
        detail: String,
    },
}

impl DriverError {
    /// Whether the same call may succeed later without anyone changing anything: QEMU slow to
    /// answer, a guest slow to boot, a process slow to die, a full disk. Not for a bad id or
    /// spec, a missing file or program, or QEMU refusing a command or a command line.
    pub fn is_transient(&self) -> bool {
        use std::io::ErrorKind;
        match self {
            DriverError::Qmp { source, .. } => !matches!(source, QmpError::Command { .. }),
            DriverError::ConsoleTimeout { .. } | DriverError::Stuck { .. } => true,
            DriverError::Io { source, .. } => !matches!(
                source.kind(),
                ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::InvalidInput
            ),
            DriverError::Remote { transient, .. } => *transient,
            DriverError::InvalidId(_)
            | DriverError::InvalidSpec { .. }
            | DriverError::NotFound(_)
            | DriverError::NotRunning(_)
            | DriverError::MissingFile { .. }
            | DriverError::Tool { .. }
            | DriverError::Disk { .. }
            | DriverError::Launch { .. }
            | DriverError::Network { .. }
            | DriverError::Exited { .. } => false,
        }
    }

    /// What people may read about the failure: never its paths, QEMU's words or the VM's
    /// directory (the whole message is for the log).
    pub fn public(&self) -> String {
        match self {
            DriverError::InvalidId(_) => "the node cannot use this VM's id".into(),
            DriverError::InvalidSpec { .. } => "the node cannot run this VM as configured".into(),
            DriverError::NotFound(_) => "the VM's files are missing on the node".into(),
            DriverError::NotRunning(_) => "the VM is not running".into(),
            DriverError::MissingFile { what, .. } => {
                format!("a file the image needs ({what}) is missing on the node")
            }
            DriverError::Tool { .. } => "the node cannot run QEMU".into(),
            DriverError::Disk { .. } => "the VM's disk could not be prepared".into(),
            DriverError::Launch { .. } => "QEMU would not start the VM".into(),
            DriverError::Network { .. } => {
                "the node could not connect the VM to its network".into()
            }
            DriverError::Qmp { .. } => "QEMU did not answer in time".into(),
            DriverError::ConsoleTimeout { waited, .. } => format!(
                "the guest did not finish booting within {} s",
                waited.as_secs()
            ),
            DriverError::Exited { .. } => "the guest stopped before it finished booting".into(),
            DriverError::Stuck { .. } => "QEMU would not stop, even when killed".into(),
            DriverError::Io { .. } => "a file on the node could not be read or written".into(),
            DriverError::Remote { public, .. } => public.clone(),
        }
    }
}

/// Refuses an id that is not `[a-z0-9-]{1,64}`: ids become directory names and QEMU options.
pub fn check_id(id: &str) -> Result<(), DriverError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DriverError::InvalidId(id.to_owned()))
    }
}

/// Runs the VMs of one node. Every method refuses an invalid id with
/// [`DriverError::InvalidId`] before touching anything.
#[async_trait]
pub trait Driver: Send + Sync {
    /// Makes the VM's directory, disk and config file; an existing disk is kept.
    async fn create(&self, spec: &MachineSpec) -> Result<(), DriverError>;
    /// Creates the VM if needed and boots it. Ok without a second launch when its QEMU
    /// already runs (also one left by an earlier control plane).
    async fn start(&self, spec: &MachineSpec) -> Result<(), DriverError>;
    /// Asks the guest to power off and waits up to `grace`, then forces it.
    /// [`Stopped::NotRunning`] when it was not running.
    async fn stop(&self, id: &str, grace: Duration) -> Result<Stopped, DriverError>;
    /// Stops (as [`Driver::stop`]) and starts again.
    async fn restart(&self, spec: &MachineSpec, grace: Duration) -> Result<(), DriverError>;
    /// Freezes the guest's CPUs. [`DriverError::NotRunning`] when there is no QEMU.
    async fn pause(&self, id: &str) -> Result<(), DriverError>;
    /// Lets a paused guest's CPUs run again.
    async fn resume(&self, id: &str) -> Result<(), DriverError>;
    /// Forces a running VM off and removes its directory: disk, sockets, logs. Ok when
    /// there is nothing to delete.
    async fn delete(&self, id: &str) -> Result<(), DriverError>;
    async fn status(&self, id: &str) -> Result<PowerState, DriverError>;
    /// None when the VM does not run.
    async fn usage(&self, id: &str) -> Result<Option<Usage>, DriverError>;
    /// Up to `max` bytes (at most 1 MiB) of the console output of the current boot from
    /// `offset`, and the offset to read from next. Each launch starts the log afresh; an
    /// offset past its end therefore reads from the start of the new boot.
    async fn console_read(
        &self,
        id: &str,
        offset: u64,
        max: usize,
    ) -> Result<(Vec<u8>, u64), DriverError>;
    /// Types `bytes` on the VM's serial console.
    async fn console_write(&self, id: &str, bytes: &[u8]) -> Result<(), DriverError>;
    /// Waits until the console output of the current boot holds `marker`; returns how long
    /// that took.
    async fn wait_for_console(
        &self,
        id: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<Duration, DriverError>;
    /// Makes an organization's router on this node as `spec` says, or brings it up to date
    /// (its rules changed).
    async fn apply_router(&self, spec: &RouterSpec) -> Result<(), DriverError>;
    /// Where the VM's files are (whether or not they exist).
    fn vm_dir(&self, id: &str) -> PathBuf;
    /// The id of every VM with a live QEMU under this driver, including ones this process
    /// did not start (left by a crash or an earlier control plane).
    fn running_ids(&self) -> Vec<String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_accepted() {
        assert!(check_id("4f1c2b7e-0d3a-4c55-9a9e-2f6d8b1c0e7a").is_ok());
        assert!(check_id(&"a".repeat(64)).is_ok());
        for bad in ["", "../etc", "A", "a b", "a,b", "a/b", ".", &"a".repeat(65)] {
            let err = check_id(bad).unwrap_err();
            assert!(matches!(err, DriverError::InvalidId(_)), "{bad}");
            assert!(!err.is_transient());
        }
    }

    #[test]
    fn timeouts_are_transient_and_refusals_are_not() {
        let qmp = |source| DriverError::Qmp {
            id: "a".into(),
            source,
        };
        assert!(qmp(QmpError::Timeout(Duration::from_secs(5))).is_transient());
        assert!(qmp(QmpError::Closed).is_transient());
        assert!(!qmp(QmpError::Command {
            command: "cont".into(),
            class: "GenericError".into(),
            desc: "no".into()
        })
        .is_transient());
        let missing = DriverError::MissingFile {
            what: "kernel",
            path: "/nope".into(),
        };
        assert!(!missing.is_transient());
        assert_eq!(missing.to_string(), "the kernel /nope does not exist");
    }
}
