//! The `Driver` trait on real QEMU with the test guest: a VM's whole life (boot, console out
//! and in, its disk seen by the guest, pause, usage, restart, stop, delete), a forced stop of
//! a guest that ignores the button, concurrent starts that launch one QEMU, adoption by a new
//! driver, and disks made by `qemu-img`.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{guest, Reap};
use hypervisor::{Boot, Driver, DriverError, MachineSpec, PowerState, QemuDriver, Stopped};

const BOOT: Duration = Duration::from_secs(90);
const GRACE: Duration = Duration::from_secs(30);
const READY: &str = "STRATA-GUEST-READY";
const PROMPT: &str = "strata-guest# ";
/// Typed into the guest's shell: prints `VDA-<sectors>` once the data disk is there. The guest
/// waits for the disk as long as the test waits for the answer (90 s): under TCG on a loaded
/// 2-core machine probing it once took longer than the 10 s this loop allowed before.
const DISK_SIZE: &str = "for m in virtio_ring virtio virtio_pci_modern_dev \
virtio_pci_legacy_dev virtio_pci virtio_blk; do insmod /lib/modules/$m.ko 2>/dev/null; done; \
n=0; until [ -e /sys/block/vda/size ] || [ $n -ge 900 ]; do usleep 100000; n=$((n+1)); done; \
echo VDA-$(cat /sys/block/vda/size)\n";

fn root(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("strata-driver-{}-{name}", std::process::id()))
}

/// An id unique to this run, so a QEMU left by another run is never mistaken for ours.
fn id(name: &str) -> String {
    format!("{}-{name}", std::process::id())
}

fn kernel_spec(id: &str, cmdline: &str, config: Option<&str>) -> MachineSpec {
    let g = guest();
    MachineSpec {
        id: id.to_owned(),
        cpus: 1,
        memory_mb: 128,
        disk_gb: 1,
        boot: Boot::Kernel {
            kernel: g.join("vmlinuz"),
            initrd: g.join("initrd.img"),
            cmdline: cmdline.to_owned(),
        },
        config: config.map(str::to_owned),
        fenced: false,
        nics: Vec::new(),
        router: None,
    }
}

/// All the console output of the current boot, read in small pieces by offset.
async fn console(d: &dyn Driver, id: &str) -> String {
    let (mut all, mut offset) = (Vec::new(), 0);
    loop {
        let (bytes, next) = d.console_read(id, offset, 4096).await.unwrap();
        if bytes.is_empty() {
            return String::from_utf8_lossy(&all).into_owned();
        }
        assert_eq!(next, offset + bytes.len() as u64);
        all.extend(bytes);
        offset = next;
    }
}

/// Polls the console through `console_read` until it shows `marker`.
async fn wait_console(d: &dyn Driver, id: &str, marker: &str) -> String {
    let deadline = tokio::time::Instant::now() + BOOT;
    loop {
        let text = console(d, id).await;
        if text.contains(marker) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {marker:?} on the console within {BOOT:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many processes run with `guest=<id>,` on their command line.
fn qemus(id: &str) -> usize {
    let wanted = format!("guest={id},");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains(&wanted))
        .count()
}

fn image(path: &Path) -> serde_json::Value {
    let out = Command::new("qemu-img")
        .args(["info", "-U", "--output=json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_vm_lives_its_whole_life_through_the_driver() {
    let r = root("life");
    let _reap = Reap(r.clone());
    let d: Arc<dyn Driver> = Arc::new(QemuDriver::new(&r));
    let id = id("life");
    let spec = kernel_spec(&id, "", Some(r#"{"greeting":"hello from strata"}"#));
    assert_eq!(d.status(&id).await.unwrap(), PowerState::Absent);

    d.start(&spec).await.unwrap();
    let text = wait_console(&*d, &id, READY).await;
    assert!(
        text.contains(r#"STRATA-CONFIG: {"greeting":"hello from strata"}"#),
        "{text}"
    );
    assert_eq!(d.status(&id).await.unwrap(), PowerState::Running);
    assert_eq!(d.running_ids(), vec![id.clone()]);

    let usage = d.usage(&id).await.unwrap().expect("a running VM has usage");
    assert!(usage.rss_bytes > 1 << 20, "{usage:?}");
    assert!(usage.cpu_seconds > 0.0, "{usage:?}");
    assert!(usage.uptime_seconds > 0.0, "{usage:?}");

    // Typing reaches the guest's shell, which answers, here with the size of its data disk in
    // 512-byte sectors (1 GiB). The virtio modules are loaded here in dependency order
    // (virtio_ring before virtio), which the guest's /init does not do yet; loading one
    // again fails harmlessly.
    d.wait_for_console(&id, PROMPT, BOOT).await.unwrap();
    d.console_write(&id, DISK_SIZE.as_bytes()).await.unwrap();
    d.wait_for_console(&id, "VDA-2097152", BOOT).await.unwrap();

    d.pause(&id).await.unwrap();
    assert_eq!(d.status(&id).await.unwrap(), PowerState::Paused);
    d.resume(&id).await.unwrap();
    assert_eq!(d.status(&id).await.unwrap(), PowerState::Running);

    // A restart boots again with a fresh console log.
    d.restart(&spec, GRACE).await.unwrap();
    let took = d.wait_for_console(&id, READY, BOOT).await.unwrap();
    println!("booted again in {took:?}");
    let text = console(&*d, &id).await;
    assert!(!text.contains("VDA-"), "{text}");

    // A paused guest is let run to answer the power button.
    d.pause(&id).await.unwrap();
    assert_eq!(d.stop(&id, GRACE).await.unwrap(), Stopped::Graceful);
    assert_eq!(d.status(&id).await.unwrap(), PowerState::Stopped);
    assert_eq!(d.stop(&id, GRACE).await.unwrap(), Stopped::NotRunning);
    assert!(d.usage(&id).await.unwrap().is_none());
    assert!(matches!(
        d.pause(&id).await,
        Err(DriverError::NotRunning(_))
    ));
    assert!(matches!(
        d.console_write(&id, b"x").await,
        Err(DriverError::NotRunning(_))
    ));
    assert!(d.running_ids().is_empty());

    d.delete(&id).await.unwrap();
    assert!(!d.vm_dir(&id).exists());
    assert_eq!(d.status(&id).await.unwrap(), PowerState::Absent);
    d.delete(&id).await.unwrap();
}

#[tokio::test]
async fn concurrent_starts_launch_one_qemu_and_a_stubborn_guest_is_forced_off() {
    let r = root("stubborn");
    let _reap = Reap(r.clone());
    let d = QemuDriver::new(&r);
    let id = id("stubborn");
    let spec = kernel_spec(&id, "strata.noacpi", None);

    let (a, b) = tokio::join!(d.start(&spec), d.start(&spec));
    a.unwrap();
    b.unwrap();
    assert_eq!(qemus(&id), 1);
    // As after a restart of the control plane: a new driver finds it and does not launch.
    let again = QemuDriver::new(&r);
    assert_eq!(again.running_ids(), vec![id.clone()]);
    again.start(&spec).await.unwrap();
    assert_eq!(qemus(&id), 1);

    d.wait_for_console(&id, READY, BOOT).await.unwrap();
    // The status is answered while the stop waits out its grace period.
    let (how, status) = tokio::join!(d.stop(&id, Duration::from_secs(3)), d.status(&id));
    assert_eq!(status.unwrap(), PowerState::Running);
    let how = how.unwrap();
    assert!(matches!(how, Stopped::Quit | Stopped::Killed), "{how:?}");
    assert_eq!(d.status(&id).await.unwrap(), PowerState::Stopped);
    assert_eq!(qemus(&id), 0);
    d.delete(&id).await.unwrap();
}

#[tokio::test]
async fn disks_are_made_once_at_the_size_asked_and_overlays_keep_their_base() {
    let r = root("disks");
    let _reap = Reap(r.clone());
    std::fs::create_dir_all(&r).unwrap();
    let d = QemuDriver::new(&r);

    // A kernel VM gets a blank disk; creating again keeps it.
    let blank = id("blank");
    let mut spec = kernel_spec(&blank, "", None);
    spec.disk_gb = 2;
    d.create(&spec).await.unwrap();
    let disk = d.vm_dir(&blank).join("disk.qcow2");
    let info = image(&disk);
    assert_eq!(info["format"], "qcow2");
    assert_eq!(info["virtual-size"], 2u64 << 30);
    let inode = std::fs::metadata(&disk).unwrap().ino();
    d.create(&spec).await.unwrap();
    assert_eq!(std::fs::metadata(&disk).unwrap().ino(), inode);
    assert_eq!(d.status(&blank).await.unwrap(), PowerState::Stopped);

    // A disk-boot VM gets an overlay on its base, raw or qcow2, at least as large as it.
    for (format, base_size, asked_gb, want) in
        [("raw", "64M", 1, 1u64 << 30), ("qcow2", "3G", 1, 3 << 30)]
    {
        let base = r.join(format!("base.{format}"));
        let made = Command::new("qemu-img")
            .args(["create", "-q", "-f", format])
            .arg(&base)
            .arg(base_size)
            .status()
            .unwrap();
        assert!(made.success());
        let vm = id(&format!("on-{format}"));
        let spec = MachineSpec {
            disk_gb: asked_gb,
            boot: Boot::Disk { base: base.clone() },
            ..kernel_spec(&vm, "", None)
        };
        d.create(&spec).await.unwrap();
        let info = image(&d.vm_dir(&vm).join("disk.qcow2"));
        assert_eq!(info["virtual-size"], want, "{info}");
        assert_eq!(info["backing-filename-format"], format, "{info}");
        assert_eq!(
            info["backing-filename"],
            base.canonicalize().unwrap().display().to_string()
        );
        if format == "qcow2" {
            // QEMU takes the overlay: the firmware runs (and finds nothing to boot).
            d.start(&spec).await.unwrap();
            assert_eq!(d.status(&vm).await.unwrap(), PowerState::Running);
        }
        d.delete(&vm).await.unwrap();
        assert_eq!(d.status(&vm).await.unwrap(), PowerState::Absent);
    }

    // What cannot work is refused up front, and says so.
    let err = d
        .create(&MachineSpec {
            boot: Boot::Disk {
                base: r.join("no-such-image.qcow2"),
            },
            ..kernel_spec(&id("missing"), "", None)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DriverError::MissingFile { .. }), "{err}");
    assert!(!err.is_transient());
    assert!(err.to_string().contains("no-such-image.qcow2"), "{err}");
    for bad in ["../../etc", "UPPER", ""] {
        let err = d.start(&kernel_spec(bad, "", None)).await.unwrap_err();
        assert!(matches!(err, DriverError::InvalidId(_)), "{err}");
        assert!(matches!(
            d.status(bad).await,
            Err(DriverError::InvalidId(_))
        ));
    }
    let err = d
        .create(&kernel_spec(&id("json"), "", Some("{not json")))
        .await
        .unwrap_err();
    assert!(matches!(err, DriverError::InvalidSpec { .. }), "{err}");
    assert!(matches!(
        d.console_read(&id("nothing"), 0, 10).await,
        Err(DriverError::NotFound(_))
    ));

    d.delete(&blank).await.unwrap();
}
