//! One VM = one detached `qemu-system-x86_64` process with a pid file, a QMP socket and a
//! serial log in the VM's own directory. Detached (`-daemonize`) so it survives a restart of
//! the control plane, which finds it again with [`Vm::adopt`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::accel::Accel;
use crate::qmp::{Qmp, QmpError};

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmSpec {
    pub id: String,
    pub cpus: u32,
    pub memory_mb: u32,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// Extra kernel command line after `console=ttyS0`.
    pub cmdline: String,
    /// A file passed to the guest as fw_cfg `opt/strata/config`.
    pub config: Option<PathBuf>,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

fn qmp_path(dir: &Path) -> PathBuf {
    dir.join("qmp.sock")
}

fn pid_path(dir: &Path) -> PathBuf {
    dir.join("qemu.pid")
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
        "-kernel".into(),
        spec.kernel.display().to_string(),
        "-initrd".into(),
        spec.initrd.display().to_string(),
        "-append".into(),
        format!("console=ttyS0 quiet panic=-1 {}", spec.cmdline)
            .trim()
            .to_owned(),
        "-nodefaults".into(),
        "-display".into(),
        "none".into(),
        "-no-reboot".into(),
        "-serial".into(),
        format!("file:{}", dir.join("serial.log").display()),
        "-qmp".into(),
        format!("unix:{},server=on,wait=off", qmp_path(dir).display()),
        "-pidfile".into(),
        pid_path(dir).display().to_string(),
        "-daemonize".into(),
    ];
    if let Some(config) = &spec.config {
        a.push("-fw_cfg".into());
        a.push(format!("name=opt/strata/config,file={}", config.display()));
    }
    a
}

/// Launches the VM detached; returns once QEMU is up (its QMP socket exists).
pub async fn launch(spec: &VmSpec, dir: &Path, accel: Accel) -> Result<Vm, QemuError> {
    std::fs::create_dir_all(dir).map_err(|source| QemuError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    for stale in [qmp_path(dir), pid_path(dir), dir.join("serial.log")] {
        let _ = std::fs::remove_file(stale);
    }
    let out = tokio::process::Command::new("qemu-system-x86_64")
        .args(args(spec, dir, accel))
        .output()
        .await
        .map_err(QemuError::Spawn)?;
    if !out.status.success() {
        return Err(QemuError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    let pid = read_pid(dir).ok_or(QemuError::NoPid)?;
    Ok(Vm {
        id: spec.id.clone(),
        dir: dir.to_owned(),
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
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

impl Vm {
    /// Finds a VM still running from an earlier control plane: its pid file names a live
    /// QEMU. None when there is none.
    pub fn adopt(id: &str, dir: &Path) -> Option<Vm> {
        let pid = read_pid(dir)?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let ours = String::from_utf8_lossy(&cmdline).contains(&format!("guest={id},"));
        (ours && process_alive(pid)).then(|| Vm {
            id: id.to_owned(),
            dir: dir.to_owned(),
            pid,
        })
    }

    pub fn alive(&self) -> bool {
        process_alive(self.pid)
    }

    pub async fn qmp(&self) -> Result<Qmp, QemuError> {
        Ok(Qmp::connect(&qmp_path(&self.dir), Duration::from_secs(5)).await?)
    }

    /// Everything the guest has printed on its serial console.
    pub fn serial(&self) -> String {
        std::fs::read_to_string(self.dir.join("serial.log")).unwrap_or_default()
    }

    /// Waits until the serial console shows `marker`.
    pub async fn wait_for_serial(
        &self,
        marker: &str,
        timeout: Duration,
    ) -> Result<Duration, QemuError> {
        let started = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            if self.serial().contains(marker) {
                return Ok(started.elapsed());
            }
            if started.elapsed() >= timeout || !self.alive() {
                return Err(QemuError::NoMarker {
                    marker: marker.to_owned(),
                    waited: started.elapsed(),
                });
            }
        }
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
