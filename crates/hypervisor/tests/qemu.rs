//! Real VMs under QEMU with the test guest: boot to the marker, configuration through fw_cfg,
//! a graceful stop on the power button, a forced stop when the guest ignores it, adoption of a
//! running VM by a new handle, and two VMs at once.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::guest;
use hypervisor::accel;
use hypervisor::qemu::{launch, Kernel, Stopped, Vm, VmSpec};

const BOOT: Duration = Duration::from_secs(90);

fn spec(id: &str, cmdline: &str, config: Option<PathBuf>) -> VmSpec {
    let g = guest();
    VmSpec {
        id: id.to_owned(),
        cpus: 1,
        memory_mb: 128,
        kernel: Some(Kernel {
            kernel: g.join("vmlinuz"),
            initrd: g.join("initrd.img"),
            cmdline: cmdline.to_owned(),
        }),
        disk: None,
        config,
        nics: Vec::new(),
        netns: None,
    }
}

fn dir(id: &str) -> PathBuf {
    std::env::temp_dir().join(format!("strata-vm-{}-{id}", std::process::id()))
}

#[tokio::test]
async fn a_guest_boots_reads_its_config_and_powers_off_on_the_button() {
    let d = dir("boot");
    std::fs::create_dir_all(&d).unwrap();
    let config = d.join("config.json");
    std::fs::write(&config, r#"{"greeting":"hello from strata"}"#).unwrap();
    let vm = launch(&spec("boot", "", Some(config)), &d, accel::detect())
        .await
        .unwrap();
    assert!(vm.alive());
    let took = vm
        .wait_for_serial("STRATA-GUEST-READY", BOOT)
        .await
        .unwrap();
    println!("booted to the marker in {took:?}");
    assert!(
        vm.serial()
            .contains(r#"STRATA-CONFIG: {"greeting":"hello from strata"}"#),
        "{}",
        vm.serial()
    );
    let mut qmp = vm.qmp().await.unwrap();
    let status = qmp.execute("query-status", None).await.unwrap();
    assert_eq!(status["status"], "running");
    drop(qmp);
    assert_eq!(
        vm.stop(Duration::from_secs(30)).await.unwrap(),
        Stopped::Graceful
    );
    assert!(!vm.alive());
    assert_eq!(
        vm.stop(Duration::from_secs(1)).await.unwrap(),
        Stopped::NotRunning
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[tokio::test]
async fn a_guest_that_ignores_the_button_is_stopped_anyway() {
    let d = dir("stubborn");
    let vm = launch(
        &spec("stubborn", "strata.noacpi", None),
        &d,
        accel::detect(),
    )
    .await
    .unwrap();
    vm.wait_for_serial("STRATA-GUEST-READY", BOOT)
        .await
        .unwrap();
    assert_eq!(
        vm.stop(Duration::from_secs(2)).await.unwrap(),
        Stopped::Quit
    );
    assert!(!vm.alive());
    std::fs::remove_dir_all(d).unwrap();
}

#[tokio::test]
async fn a_running_vm_is_adopted_by_a_new_handle_and_two_run_at_once() {
    let (d1, d2) = (dir("one"), dir("two"));
    let (s1, s2) = (spec("one", "", None), spec("two", "", None));
    let (a, b) = tokio::join!(
        launch(&s1, &d1, accel::detect()),
        launch(&s2, &d2, accel::detect())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.pid, b.pid);
    let (ra, rb) = tokio::join!(
        a.wait_for_serial("STRATA-GUEST-READY", BOOT),
        b.wait_for_serial("STRATA-GUEST-READY", BOOT)
    );
    ra.unwrap();
    rb.unwrap();
    // As after a restart of the control plane: only the directory is known.
    let adopted = Vm::adopt("one", &d1).expect("the running VM is found");
    assert_eq!(adopted.pid, a.pid);
    assert!(
        Vm::adopt("two", &d1).is_none(),
        "a pid file is only adopted for its own VM"
    );
    assert_eq!(
        adopted.stop(Duration::from_secs(30)).await.unwrap(),
        Stopped::Graceful
    );
    assert!(
        Vm::adopt("one", &d1).is_none(),
        "a stopped VM is not adopted"
    );
    assert_eq!(
        b.stop(Duration::from_secs(30)).await.unwrap(),
        Stopped::Graceful
    );
    std::fs::remove_dir_all(d1).unwrap();
    std::fs::remove_dir_all(d2).unwrap();
}
