//! The control plane killed with SIGKILL in the middle of creating, starting and stopping VMs:
//! after a restart every operation ends exactly once, every VM reaches what was asked of it,
//! and each running VM has exactly one QEMU process (adopted, never launched twice).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use control::auth::Caller;
use control::testing::{caller, guest, TestDb};
use control::Control;
use model::operations::OperationState;
use model::vms::{NewVm, VmAction, VmState};

use crate::common::{free_port, until};

fn serve(db: &TestDb, data: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--database-url", &db.url, "--log", "warn"])
        .args(["--agent-listen", "127.0.0.1:0"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--data-dir")
        .arg(data)
        .arg("--ready-image")
        .arg(guest())
        .stdout(Stdio::null())
        .spawn()
        .expect("run strata")
}

/// How many QEMU processes run the VM `id`.
fn qemu_count(id: &str) -> usize {
    let needle = format!("guest={id},");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains(&needle))
        .count()
}

async fn booting(c: &Control, who: &Caller) -> bool {
    c.list_operations(who, None).await.unwrap().iter().any(|o| {
        o.state == OperationState::Running
            && o.steps.last().is_some_and(|s| {
                s.step.contains("Waiting for the guest") || s.step.contains("Pressing")
            })
    })
}

async fn all_finished(c: &Control, who: &Caller) -> bool {
    c.list_operations(who, None)
        .await
        .unwrap()
        .iter()
        .all(|o| o.state.is_finished())
}

fn kill(child: &mut Child) {
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        control::testing::kill_vms_under(&self.0.join("vms"));
        hypervisor::testing::remove_node_networks(&self.0.join("networks"));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_control_plane_resumes_operations_and_adopts_running_vms() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let data = std::env::temp_dir().join(format!(
        "stc-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    ));
    let _cleanup = Cleanup(data.clone());
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let mut ids = Vec::new();
    for (name, start) in [("a", true), ("b", true), ("c", false)] {
        let mut new = NewVm::named(&org.id, name);
        new.start = start;
        ids.push(c.create_vm(&ann, &new, now).await.unwrap().id);
    }

    // 1. Killed while the creations boot their guests.
    let mut server = serve(&db, &data);
    until(Duration::from_secs(60), "a guest is booting", || {
        booting(&c, &ann)
    })
    .await;
    kill(&mut server);

    // 2. Restarted: the creations resume; killed again while a stop and a start are under way.
    let mut server = serve(&db, &data);
    until(Duration::from_secs(120), "the creations finish", || {
        all_finished(&c, &ann)
    })
    .await;
    c.vm_action(&ann, &ids[0], VmAction::Stop, Utc::now())
        .await
        .unwrap();
    c.vm_action(&ann, &ids[2], VmAction::Start, Utc::now())
        .await
        .unwrap();
    until(
        Duration::from_secs(60),
        "a stop or a boot is under way",
        || booting(&c, &ann),
    )
    .await;
    kill(&mut server);

    // 3. Restarted once more: everything converges.
    let mut server = serve(&db, &data);
    until(Duration::from_secs(120), "every operation ends", || {
        all_finished(&c, &ann)
    })
    .await;

    let want = [VmState::Stopped, VmState::Running, VmState::Running];
    for (id, want) in ids.iter().zip(want) {
        let d = c.vm(&ann, id).await.unwrap();
        assert_eq!(
            d.vm.state, want,
            "{} ended {:?}: {:?}",
            d.vm.name, d.vm.state, d.vm.state_reason
        );
        let expected = usize::from(want == VmState::Running);
        assert_eq!(qemu_count(id), expected, "QEMU processes of {}", d.vm.name);
    }
    let ops = c.list_operations(&ann, None).await.unwrap();
    assert_eq!(ops.len(), 5, "three creations, a stop and a start: {ops:?}");
    for op in &ops {
        assert_eq!(op.state, OperationState::Succeeded, "{op:?}");
        assert!(op.attempt <= op.max_attempts);
    }
    assert!(
        ops.iter().any(|o| o.attempt > 1),
        "at least one operation was resumed after a kill"
    );
    kill(&mut server);
}
