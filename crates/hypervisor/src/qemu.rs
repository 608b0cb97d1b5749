//! One VM = one detached `qemu-system-x86_64` process with a pid file, two QMP sockets, a
//! serial console socket and its log, all in the VM's own directory. Detached (`-daemonize`)
//! so it survives a restart of the control plane, which finds it again with [`Vm::adopt`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::accel::Accel;
use crate::console::{self, WaitError};
use crate::procfs;
use crate::qmp::{Qmp, QmpError};

/// A kernel booted directly, without firmware looking for a boot disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kernel {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// Extra kernel command line after `console=ttyS0`.
    pub cmdline: String,
}

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmSpec {
    pub id: String,
    pub cpus: u32,
    pub memory_mb: u32,
    /// Boot this kernel; without one the firmware boots from `disk`.
    pub kernel: Option<Kernel>,
    /// A qcow2 image attached as the virtio disk `disk0`.
    pub disk: Option<PathBuf>,
    /// A file passed to the guest as fw_cfg `opt/strata/config`.
    pub config: Option<PathBuf>,
    /// Network cards (virtio-net) on taps that exist already.
    pub nics: Vec<TapNic>,
    /// The network namespace QEMU runs in, where its taps are; None for this process's own.
    pub netns: Option<String>,
}

/// A network card on a tap device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapNic {
    pub tap: String,
    pub mac: String,
}

/// Why a VM could not be launched or controlled.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    #[error("cannot prepare {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "cannot run qemu-system-x86_64 (is QEMU installed? `cargo xtask setup` installs it): {0}"
    )]
    Spawn(std::io::Error),
    #[error("QEMU did not start: {0}")]
    Failed(String),
    #[error("QEMU started but wrote no pid file")]
    NoPid,
    #[error(transparent)]
    Qmp(#[from] QmpError),
    #[error("the guest did not print {marker:?} within {waited:?}")]
    NoMarker { marker: String, waited: Duration },
}

/// How a stop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// The guest powered off on the ACPI button.
    Graceful,
    /// The guest ignored the button; QEMU was told to quit.
    Quit,
    /// QEMU did not quit either; the process was killed.
    Killed,
    /// It was not running.
    NotRunning,
}

/// A launched (or adopted) VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vm {
    pub id: String,
    pub dir: PathBuf,
    pub pid: u32,
}

/// The QMP socket for commands that change the VM (stop, pause, ...).
pub fn qmp_path(dir: &Path) -> PathBuf {
    dir.join("qmp.sock")
}

/// A second QMP socket for queries, so a status is answered while a long stop holds the
/// first one (a QMP socket serves one client at a time).
pub fn query_path(dir: &Path) -> PathBuf {
    dir.join("qmp-query.sock")
}

pub fn pid_path(dir: &Path) -> PathBuf {
    dir.join("qemu.pid")
}

/// The serial console's input and output: a unix socket, one client at a time.
pub fn console_path(dir: &Path) -> PathBuf {
    dir.join("console.sock")
}

/// Everything the guest printed on its serial console since it was launched.
pub fn serial_log_path(dir: &Path) -> PathBuf {
    dir.join("serial.log")
}

/// A path as a value in QEMU's `key=value,...` options, where a comma is written twice.
fn opt(path: &Path) -> String {
    path.display().to_string().replace(',', ",,")
}

/// The command line for a spec (without the program name).
pub fn args(spec: &VmSpec, dir: &Path, accel: Accel) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "-name".into(),
        format!("guest={},process=strata-{}", spec.id, spec.id),
        "-accel".into(),
        accel.as_arg().into(),
        "-m".into(),
        spec.memory_mb.to_string(),
        "-smp".into(),
        spec.cpus.to_string(),
    ];
    if let Some(k) = &spec.kernel {
        a.extend([
            "-kernel".into(),
            k.kernel.display().to_string(),
            "-initrd".into(),
            k.initrd.display().to_string(),
            "-append".into(),
            format!("console=ttyS0 quiet panic=-1 {}", k.cmdline)
                .trim()
                .to_owned(),
        ]);
    }
    a.extend([
        "-nodefaults".into(),
        "-display".into(),
        "none".into(),
        "-no-reboot".into(),
        // The console is a socket (input, and output while a client is connected) and its
        // log receives all output whether or not anyone is connected; QEMU truncates the log
        // when it starts, so the log is that of the current boot.
        "-chardev".into(),
        format!(
            "socket,id=serial0,path={},server=on,wait=off,logfile={}",
            opt(&console_path(dir)),
            opt(&serial_log_path(dir))
        ),
        "-serial".into(),
        "chardev:serial0".into(),
        "-qmp".into(),
        format!("unix:{},server=on,wait=off", opt(&qmp_path(dir))),
        "-qmp".into(),
        format!("unix:{},server=on,wait=off", opt(&query_path(dir))),
        "-pidfile".into(),
        pid_path(dir).display().to_string(),
        "-daemonize".into(),
    ]);
    if let Some(disk) = &spec.disk {
        a.push("-blockdev".into());
        a.push(format!(
            "driver=qcow2,node-name=disk0,file.driver=file,file.filename={}",
            opt(disk)
        ));
        a.push("-device".into());
        a.push(if spec.kernel.is_some() {
            "virtio-blk-pci,drive=disk0".into()
        } else {
            "virtio-blk-pci,drive=disk0,bootindex=1".into()
        });
    }
    for (i, nic) in spec.nics.iter().enumerate() {
        a.push("-netdev".into());
        a.push(format!(
            "tap,id=net{i},ifname={},script=no,downscript=no",
            nic.tap
        ));
        a.push("-device".into());
        a.push(format!("virtio-net-pci,netdev=net{i},mac={}", nic.mac));
    }
    if let Some(config) = &spec.config {
        a.push("-fw_cfg".into());
        a.push(format!("name=opt/strata/config,file={}", opt(config)));
    }
    a
}

/// Launches the VM detached; returns once QEMU is up (its sockets exist). The serial log
/// starts empty.
pub async fn launch(spec: &VmSpec, dir: &Path, accel: Accel) -> Result<Vm, QemuError> {
    // QEMU changes to `/` when it daemonizes: every path it is given must be absolute.
    let dir = std::path::absolute(dir).map_err(|source| QemuError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    std::fs::create_dir_all(&dir).map_err(|source| QemuError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    for stale in [
        qmp_path(&dir),
        query_path(&dir),
        console_path(&dir),
        pid_path(&dir),
        serial_log_path(&dir),
    ] {
        let _ = std::fs::remove_file(stale);
    }
    // In a namespace, `ip netns exec` executes QEMU itself: the pid file holds QEMU's pid.
    let out = crate::net::run::command(spec.netns.as_deref(), "qemu-system-x86_64", &[])
        .args(args(spec, &dir, accel))
        .output()
        .await
        .map_err(QemuError::Spawn)?;
    if !out.status.success() {
        return Err(QemuError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    let pid = read_pid(&dir).ok_or(QemuError::NoPid)?;
    Ok(Vm {
        id: spec.id.clone(),
        dir,
        pid,
    })
}

fn read_pid(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_path(dir))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether process `pid` exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    procfs::alive(pid)
}

impl Vm {
    /// Finds a VM still running from an earlier control plane: its pid file names a live
    /// QEMU. None when there is none.
    pub fn adopt(id: &str, dir: &Path) -> Option<Vm> {
        let pid = read_pid(dir)?;
        let ours = procfs::cmdline(pid)?
            .iter()
            .any(|arg| arg.starts_with(&format!("guest={id},")));
        (ours && process_alive(pid)).then(|| Vm {
            id: id.to_owned(),
            dir: dir.to_owned(),
            pid,
        })
    }

    pub fn alive(&self) -> bool {
        process_alive(self.pid)
    }

    /// A session on the QMP socket for commands that change the VM.
    pub async fn qmp(&self) -> Result<Qmp, QemuError> {
        Ok(Qmp::connect(&qmp_path(&self.dir), Duration::from_secs(5)).await?)
    }

    /// A session on the QMP socket for queries (free while a stop holds the other one).
    pub async fn query_qmp(&self) -> Result<Qmp, QemuError> {
        Ok(Qmp::connect(&query_path(&self.dir), Duration::from_secs(5)).await?)
    }

    /// Everything the guest has printed on its serial console since it was launched.
    pub fn serial(&self) -> String {
        std::fs::read_to_string(serial_log_path(&self.dir)).unwrap_or_default()
    }

    /// Waits until the serial console shows `marker`.
    pub async fn wait_for_serial(
        &self,
        marker: &str,
        timeout: Duration,
    ) -> Result<Duration, QemuError> {
        console::wait_for(&serial_log_path(&self.dir), marker, timeout, || {
            self.alive()
        })
        .await
        .map_err(|e| match e {
            WaitError::Timeout(waited) | WaitError::Exited(waited) => QemuError::NoMarker {
                marker: marker.to_owned(),
                waited,
            },
        })
    }

    async fn gone_within(&self, timeout: Duration) -> bool {
        let started = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            if !self.alive() {
                return true;
            }
            if started.elapsed() >= timeout {
                return false;
            }
        }
    }

    /// Presses the power button and waits `grace`; then asks QEMU to quit; then kills it.
    pub async fn stop(&self, grace: Duration) -> Result<Stopped, QemuError> {
        if !self.alive() {
            return Ok(Stopped::NotRunning);
        }
        if let Ok(mut qmp) = self.qmp().await {
            // A press the guest was not ready for is lost, so press again now and then
            // until the grace period is over.
            let started = tokio::time::Instant::now();
            loop {
                let _ = qmp.execute("system_powerdown", None).await;
                let left = grace.saturating_sub(started.elapsed());
                if self.gone_within(left.min(Duration::from_secs(5))).await {
                    return Ok(Stopped::Graceful);
                }
                if started.elapsed() >= grace {
                    break;
                }
            }
            let _ = qmp.execute("quit", None).await;
            if self.gone_within(Duration::from_secs(5)).await {
                return Ok(Stopped::Quit);
            }
        }
        let _ = tokio::process::Command::new("kill")
            .args(["-9", &self.pid.to_string()])
            .status()
            .await;
        if self.gone_within(Duration::from_secs(5)).await {
            Ok(Stopped::Killed)
        } else {
            Err(QemuError::Failed(format!(
                "process {} would not die",
                self.pid
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_in_paths_are_doubled_and_the_disk_boots_only_without_a_kernel() {
        let spec = VmSpec {
            id: "x".into(),
            cpus: 1,
            memory_mb: 128,
            kernel: None,
            disk: Some("/v/a,b/disk.qcow2".into()),
            config: None,
            nics: vec![TapNic {
                tap: "st0".into(),
                mac: "52:54:00:00:00:01".into(),
            }],
            netns: None,
        };
        let a = args(&spec, Path::new("/v/a,b"), Accel::Tcg);
        assert!(a.contains(&"tap,id=net0,ifname=st0,script=no,downscript=no".to_owned()));
        assert!(a.contains(&"virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01".to_owned()));
        assert!(a.contains(
            &"driver=qcow2,node-name=disk0,file.driver=file,file.filename=/v/a,,b/disk.qcow2"
                .to_owned()
        ));
        assert!(a.contains(&"virtio-blk-pci,drive=disk0,bootindex=1".to_owned()));
        assert!(
            a.contains(&"/v/a,b/qemu.pid".to_owned()),
            "-pidfile is not an option list"
        );
        assert!(!a.contains(&"-kernel".to_owned()));
    }
}
