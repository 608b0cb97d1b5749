//! [`Driver`] for QEMU on this machine: each VM lives in `<root>/<id>` (disk, config, pid
//! file, sockets, console log) and runs as a detached QEMU, found again after a restart of
//! the control plane by its pid file or, failing that, by its command line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::accel::{self, Accel};
use crate::console::{self, WaitError};
use crate::disk::{self, Source};
use crate::driver::{
    check_id, Boot, Driver, DriverError, MachineSpec, PowerState, Usage, FENCED_MARKER,
};
use crate::net::{NetError, NetPlane};
use crate::procfs;
use crate::qemu::{self, Kernel, QemuError, Stopped, TapNic, Vm, VmSpec};

/// How long typing on the console may wait for QEMU to take the bytes.
const CONSOLE_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct QemuDriver {
    root: PathBuf,
    accel: Accel,
    /// The node's VM networks; without it, a VM with network cards is refused.
    net: Option<Arc<NetPlane>>,
    /// One lock per VM id, held by every operation that changes the VM, so that two
    /// concurrent starts cannot both launch. Entries are never removed (a removed entry could
    /// be replaced while still held); one small entry per VM ever seen.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl QemuDriver {
    /// VMs under `root`, with the accelerator [`accel::detect`] chooses.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::with_accel(root, accel::detect())
    }

    pub fn with_accel(root: impl Into<PathBuf>, accel: Accel) -> Self {
        let root = root.into();
        // QEMU runs in `/` once daemonized, so its paths must be absolute.
        let root = std::path::absolute(&root).unwrap_or(root);
        Self {
            root,
            accel,
            net: None,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// This driver with the node's VM networks.
    pub fn with_network(mut self, net: Arc<NetPlane>) -> Self {
        self.net = Some(net);
        self
    }

    /// The node's VM networks, when it has them.
    pub fn network(&self) -> Option<&Arc<NetPlane>> {
        self.net.as_ref()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(id.to_owned()).or_default().clone()
    }

    /// The VM's live QEMU: the one its pid file names, else one whose command line names the
    /// pid file (the file lost or overwritten).
    fn live(&self, id: &str) -> Option<Vm> {
        let dir = self.vm_dir(id);
        Vm::adopt(id, &dir).or_else(|| {
            let wanted = qemu::pid_path(&dir).display().to_string();
            procfs::pidfiles()
                .into_iter()
                .find(|(_, file)| *file == wanted)
                .map(|(pid, _)| Vm {
                    id: id.to_owned(),
                    dir,
                    pid,
                })
        })
    }

    fn disk_path(&self, id: &str) -> PathBuf {
        self.vm_dir(id).join("disk.qcow2")
    }

    fn config_path(&self, id: &str) -> PathBuf {
        self.vm_dir(id).join("config.json")
    }

    /// Refuses what QEMU would refuse later, less clearly, and checks the files it needs.
    fn check(&self, spec: &MachineSpec) -> Result<(), DriverError> {
        check_id(&spec.id)?;
        let invalid = |reason: &str| {
            Err(DriverError::InvalidSpec {
                id: spec.id.clone(),
                reason: reason.to_owned(),
            })
        };
        if spec.cpus == 0 {
            return invalid("it needs at least one CPU");
        }
        if spec.memory_mb < 16 {
            return invalid("it needs at least 16 MB of memory");
        }
        if spec.disk_gb == 0 {
            return invalid("its disk needs at least 1 GB");
        }
        if let Some(config) = &spec.config {
            if serde_json::from_str::<serde_json::Value>(config).is_err() {
                return invalid("its configuration is not valid JSON");
            }
        }
        if !spec.nics.is_empty() && self.net.is_none() {
            return invalid("this node has no VM networks");
        }
        if spec.nics.len() > crate::net::MAX_NICS {
            return invalid("it has more network cards than a VM may have");
        }
        if let Some(Err(reason)) = spec.router.as_ref().map(crate::net::RouterSpec::check) {
            return invalid(&format!("its router: {reason}"));
        }
        for (i, nic) in spec.nics.iter().enumerate() {
            if let Err(reason) = nic.check() {
                return invalid(&format!("network card {i}: {reason}"));
            }
            if spec.nics[..i].iter().any(|other| other.mac == nic.mac) {
                return invalid(&format!("network card {i} repeats a MAC address"));
            }
        }
        let files: Vec<(&'static str, &Path)> = match &spec.boot {
            Boot::Kernel { kernel, initrd, .. } => vec![("kernel", kernel), ("initrd", initrd)],
            Boot::Disk { base } => vec![("base image", base)],
        };
        for (what, path) in files {
            if !path.is_file() {
                return Err(DriverError::MissingFile {
                    what,
                    path: path.to_owned(),
                });
            }
        }
        Ok(())
    }

    async fn create_locked(&self, spec: &MachineSpec) -> Result<(), DriverError> {
        let dir = self.vm_dir(&spec.id);
        std::fs::create_dir_all(&dir).map_err(|source| DriverError::Io {
            path: dir.clone(),
            source,
        })?;
        let source = match &spec.boot {
            Boot::Kernel { .. } => Source::Blank,
            Boot::Disk { base } => Source::Base(base),
        };
        disk::ensure(&self.disk_path(&spec.id), source, spec.disk_gb).await?;
        let config = self.config_path(&spec.id);
        let written = match &spec.config {
            Some(text) => std::fs::write(&config, text),
            None => std::fs::remove_file(&config).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            }),
        };
        written.map_err(|source| DriverError::Io {
            path: config,
            source,
        })?;
        let marker = self.vm_dir(&spec.id).join(FENCED_MARKER);
        let marked = if spec.fenced {
            std::fs::write(&marker, b"")
        } else {
            std::fs::remove_file(&marker).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
        };
        marked.map_err(|source| DriverError::Io {
            path: marker,
            source,
        })
    }

    async fn start_locked(&self, spec: &MachineSpec) -> Result<(), DriverError> {
        if self.live(&spec.id).is_some() {
            return Ok(());
        }
        self.create_locked(spec).await?;
        let kernel = match &spec.boot {
            Boot::Kernel {
                kernel,
                initrd,
                cmdline,
            } => Some(Kernel {
                kernel: kernel.clone(),
                initrd: initrd.clone(),
                cmdline: cmdline.clone(),
            }),
            Boot::Disk { .. } => None,
        };
        let mut nics = Vec::with_capacity(spec.nics.len());
        if let Some(net) = &self.net {
            for (i, nic) in spec.nics.iter().enumerate() {
                let tap = net
                    .attach(&spec.id, i, nic)
                    .await
                    .map_err(|e| net_error(&spec.id, e))?;
                nics.push(TapNic {
                    tap,
                    mac: nic.mac.clone(),
                });
            }
            if let Some(router) = &spec.router {
                net.apply_router(router)
                    .await
                    .map_err(|e| net_error(&spec.id, e))?;
            }
        }
        let vm = VmSpec {
            id: spec.id.clone(),
            cpus: spec.cpus,
            memory_mb: spec.memory_mb,
            kernel,
            disk: Some(self.disk_path(&spec.id)),
            config: spec.config.as_ref().map(|_| self.config_path(&spec.id)),
            netns: self.net.as_ref().and_then(|n| n.netns().map(str::to_owned)),
            nics,
        };
        qemu::launch(&vm, &self.vm_dir(&spec.id), self.accel)
            .await
            .map(|_| ())
            .map_err(|e| qemu_error(&spec.id, e))
    }

    async fn stop_locked(&self, id: &str, grace: Duration) -> Result<Stopped, DriverError> {
        let Some(vm) = self.live(id) else {
            return Ok(Stopped::NotRunning);
        };
        if !grace.is_zero() {
            resume_if_paused(&vm).await;
        }
        vm.stop(grace).await.map_err(|e| match e {
            QemuError::Failed(_) => DriverError::Stuck {
                id: id.to_owned(),
                pid: vm.pid,
            },
            other => qemu_error(id, other),
        })
    }

    /// Runs a QMP command that changes a running VM.
    async fn command(&self, id: &str, command: &str) -> Result<(), DriverError> {
        check_id(id)?;
        let lock = self.lock(id);
        let _held = lock.lock().await;
        let vm = self.running(id)?;
        let mut qmp = vm.qmp().await.map_err(|e| qemu_error(id, e))?;
        qmp.execute(command, None)
            .await
            .map(|_| ())
            .map_err(|source| DriverError::Qmp {
                id: id.to_owned(),
                source,
            })
    }

    /// The live VM, or why there is none.
    fn running(&self, id: &str) -> Result<Vm, DriverError> {
        self.live(id).ok_or_else(|| {
            if self.vm_dir(id).exists() {
                DriverError::NotRunning(id.to_owned())
            } else {
                DriverError::NotFound(id.to_owned())
            }
        })
    }

    /// The VM's directory, which must exist.
    fn existing_dir(&self, id: &str) -> Result<PathBuf, DriverError> {
        check_id(id)?;
        let dir = self.vm_dir(id);
        if dir.is_dir() {
            Ok(dir)
        } else {
            Err(DriverError::NotFound(id.to_owned()))
        }
    }
}

/// A paused guest cannot answer the power button, so one paused by an operator runs again
/// first. One stopped by QEMU itself (an I/O error, say) stays so and is forced off.
async fn resume_if_paused(vm: &Vm) {
    if let Ok(mut qmp) = vm.qmp().await {
        if let Ok(status) = qmp.execute("query-status", None).await {
            if status["status"] == "paused" {
                let _ = qmp.execute("cont", None).await;
            }
        }
    }
}

fn net_error(id: &str, e: NetError) -> DriverError {
    DriverError::Network {
        id: id.to_owned(),
        message: e.to_string(),
    }
}

fn qemu_error(id: &str, e: QemuError) -> DriverError {
    let id = id.to_owned();
    match e {
        QemuError::Dir { path, source } => DriverError::Io {
            path: path.into(),
            source,
        },
        QemuError::Spawn(source) => DriverError::Tool {
            program: "qemu-system-x86_64",
            source,
        },
        QemuError::Failed(message) => DriverError::Launch { id, message },
        QemuError::NoPid => DriverError::Launch {
            id,
            message: "QEMU started but wrote no pid file".into(),
        },
        QemuError::Qmp(source) => DriverError::Qmp { id, source },
        QemuError::NoMarker { marker, waited } => {
            DriverError::ConsoleTimeout { id, marker, waited }
        }
    }
}

/// QEMU's `query-status` run states as a power state.
fn power_state(status: &str) -> PowerState {
    match status {
        "running" => PowerState::Running,
        // The guest powered off or crashed: with -no-reboot, QEMU is about to exit.
        "shutdown" | "guest-panicked" => PowerState::Stopped,
        // paused, suspended, io-error, internal-error, watchdog, prelaunch, migration states:
        // the process is there and the guest's CPUs do not run.
        _ => PowerState::Paused,
    }
}

#[async_trait]
impl Driver for QemuDriver {
    async fn create(&self, spec: &MachineSpec) -> Result<(), DriverError> {
        self.check(spec)?;
        let lock = self.lock(&spec.id);
        let _held = lock.lock().await;
        self.create_locked(spec).await
    }

    async fn start(&self, spec: &MachineSpec) -> Result<(), DriverError> {
        self.check(spec)?;
        let lock = self.lock(&spec.id);
        let _held = lock.lock().await;
        self.start_locked(spec).await
    }

    async fn stop(&self, id: &str, grace: Duration) -> Result<Stopped, DriverError> {
        check_id(id)?;
        let lock = self.lock(id);
        let _held = lock.lock().await;
        self.stop_locked(id, grace).await
    }

    async fn restart(&self, spec: &MachineSpec, grace: Duration) -> Result<(), DriverError> {
        self.check(spec)?;
        let lock = self.lock(&spec.id);
        let _held = lock.lock().await;
        self.stop_locked(&spec.id, grace).await?;
        self.start_locked(spec).await
    }

    async fn pause(&self, id: &str) -> Result<(), DriverError> {
        self.command(id, "stop").await
    }

    async fn resume(&self, id: &str) -> Result<(), DriverError> {
        self.command(id, "cont").await
    }

    async fn apply_router(&self, spec: &crate::net::RouterSpec) -> Result<(), DriverError> {
        let Some(net) = &self.net else {
            return Err(DriverError::InvalidSpec {
                id: spec.id.clone(),
                reason: "this node has no VM networks".into(),
            });
        };
        net.apply_router(spec)
            .await
            .map_err(|e| net_error(&format!("router {}", spec.id), e))
    }

    async fn delete(&self, id: &str) -> Result<(), DriverError> {
        check_id(id)?;
        let lock = self.lock(id);
        let _held = lock.lock().await;
        // No grace: the button once, then quit, then kill.
        self.stop_locked(id, Duration::ZERO).await?;
        if let Some(net) = &self.net {
            net.detach_vm(id).await.map_err(|e| net_error(id, e))?;
        }
        let dir = self.vm_dir(id);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DriverError::Io {
                path: dir,
                source: e,
            }),
            _ => Ok(()),
        }
    }

    async fn status(&self, id: &str) -> Result<PowerState, DriverError> {
        check_id(id)?;
        if !self.vm_dir(id).is_dir() {
            return Ok(PowerState::Absent);
        }
        let Some(vm) = self.live(id) else {
            return Ok(PowerState::Stopped);
        };
        let asked = async {
            let mut qmp = vm.query_qmp().await?;
            Ok::<_, QemuError>(qmp.execute("query-status", None).await?)
        };
        match asked.await {
            Ok(status) => Ok(power_state(status["status"].as_str().unwrap_or(""))),
            Err(e) => {
                // It exited while being asked: a killed QEMU resets its sockets while the
                // kernel is still tearing the process down, so give it a moment to be gone.
                for _ in 0..20 {
                    if !vm.alive() {
                        return Ok(PowerState::Stopped);
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(qemu_error(id, e))
            }
        }
    }

    async fn usage(&self, id: &str) -> Result<Option<Usage>, DriverError> {
        check_id(id)?;
        Ok(self.live(id).and_then(|vm| procfs::usage(vm.pid)))
    }

    async fn console_read(
        &self,
        id: &str,
        offset: u64,
        max: usize,
    ) -> Result<(Vec<u8>, u64), DriverError> {
        let log = qemu::serial_log_path(&self.existing_dir(id)?);
        console::read(&log, offset, max).map_err(|source| DriverError::Io { path: log, source })
    }

    async fn console_write(&self, id: &str, bytes: &[u8]) -> Result<(), DriverError> {
        check_id(id)?;
        let vm = self.running(id)?;
        let socket = qemu::console_path(&vm.dir);
        console::write(&socket, bytes, CONSOLE_WRITE_TIMEOUT)
            .await
            .map_err(|source| DriverError::Io {
                path: socket,
                source,
            })
    }

    async fn wait_for_console(
        &self,
        id: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<Duration, DriverError> {
        let log = qemu::serial_log_path(&self.existing_dir(id)?);
        let vm = self.live(id);
        let alive = || vm.as_ref().is_some_and(Vm::alive);
        console::wait_for(&log, marker, timeout, alive)
            .await
            .map_err(|e| match e {
                WaitError::Timeout(waited) => DriverError::ConsoleTimeout {
                    id: id.to_owned(),
                    marker: marker.to_owned(),
                    waited,
                },
                WaitError::Exited(_) => DriverError::Exited {
                    id: id.to_owned(),
                    marker: marker.to_owned(),
                },
            })
    }

    /// `<root>/<id>`; for an invalid id, a path in the root that no VM can have.
    fn vm_dir(&self, id: &str) -> PathBuf {
        match check_id(id) {
            Ok(()) => self.root.join(id),
            Err(_) => self.root.join("!invalid-id"),
        }
    }

    fn running_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = procfs::pidfiles()
            .into_iter()
            .filter_map(|(_, file)| {
                let file = Path::new(&file);
                let dir = file.parent()?;
                let id = dir.file_name()?.to_str()?;
                let ours = file.file_name()? == "qemu.pid"
                    && dir.parent()? == self.root
                    && check_id(id).is_ok();
                ours.then(|| id.to_owned())
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_states_map_to_power_states() {
        assert_eq!(power_state("running"), PowerState::Running);
        assert_eq!(power_state("paused"), PowerState::Paused);
        assert_eq!(power_state("io-error"), PowerState::Paused);
        assert_eq!(power_state("shutdown"), PowerState::Stopped);
    }

    #[test]
    fn an_invalid_id_never_becomes_a_path_outside_the_root() {
        let d = QemuDriver::with_accel("/srv/vms", Accel::Tcg);
        assert_eq!(d.vm_dir("abc-1"), Path::new("/srv/vms/abc-1"));
        assert_eq!(d.vm_dir("../etc"), Path::new("/srv/vms/!invalid-id"));
    }
}
