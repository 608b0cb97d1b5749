//! Real VMs through the control plane, on the test guest under QEMU: every request goes through
//! a durable operation run by the runner, and the VM's state follows what the node does.

use chrono::Utc;
use control::testing::{caller, TestDb};
use control::Control;
use hypervisor::driver::PowerState;
use model::operations::OperationState;
use model::vms::{NewVm, VmAction, VmState};

async fn state(c: &Control, who: &control::auth::Caller, id: &str) -> VmState {
    c.vm(who, id).await.unwrap().vm.state
}

async fn console(c: &Control, id: &str) -> String {
    let (bytes, _) = control::testing::driver(c)
        .console_read(id, 0, 1 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_boots_pauses_resumes_restarts_stops_and_is_deleted_with_its_files() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let mut new = NewVm::named(&org.id, "web");
    new.start = true;
    let vm = c.create_vm(&ann, &new, now).await.unwrap();
    assert_eq!(vm.state, VmState::Creating);
    assert_eq!(vm.image.as_deref(), Some("strata-test-guest"));

    c.run_due_operations().await.unwrap();
    assert_eq!(state(&c, &ann, &vm.id).await, VmState::Running);
    assert!(console(&c, &vm.id).await.contains("STRATA-GUEST-READY"));
    assert_eq!(
        control::testing::driver(&c).status(&vm.id).await.unwrap(),
        PowerState::Running
    );
    let disk = control::testing::driver(&c).vm_dir(&vm.id);
    assert!(disk.is_dir());

    let d = c.vm(&ann, &vm.id).await.unwrap();
    assert_eq!(
        d.actions,
        vec![VmAction::Stop, VmAction::Restart, VmAction::Pause]
    );
    assert!(c
        .vm_action(&ann, &vm.id, VmAction::Start, now)
        .await
        .is_err());

    c.vm_action(&ann, &vm.id, VmAction::Pause, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    assert_eq!(state(&c, &ann, &vm.id).await, VmState::Paused);
    assert_eq!(
        control::testing::driver(&c).status(&vm.id).await.unwrap(),
        PowerState::Paused
    );

    c.vm_action(&ann, &vm.id, VmAction::Resume, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    assert_eq!(state(&c, &ann, &vm.id).await, VmState::Running);

    c.vm_action(&ann, &vm.id, VmAction::Restart, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    assert_eq!(state(&c, &ann, &vm.id).await, VmState::Running);
    assert!(console(&c, &vm.id).await.contains("STRATA-GUEST-READY"));

    c.vm_action(&ann, &vm.id, VmAction::Stop, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    let d = c.vm(&ann, &vm.id).await.unwrap();
    assert_eq!(d.vm.state, VmState::Stopped);
    assert_eq!(
        d.vm.state_reason, None,
        "the guest powered off on the button"
    );
    assert_eq!(
        control::testing::driver(&c).status(&vm.id).await.unwrap(),
        PowerState::Stopped
    );
    let kinds: Vec<(String, OperationState)> = d
        .operations
        .iter()
        .map(|o| (o.kind.clone(), o.state))
        .collect();
    for kind in [
        "vm.create",
        "vm.pause",
        "vm.resume",
        "vm.restart",
        "vm.stop",
    ] {
        assert!(
            kinds.contains(&(kind.to_owned(), OperationState::Succeeded)),
            "{kind} succeeded: {kinds:?}"
        );
    }
    assert!(d
        .events
        .iter()
        .any(|e| e.message.contains("Stop requested by ann")));

    c.delete_vm(&ann, &vm.id, chrono::Utc::now()).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert!(matches!(
        c.vm(&ann, &vm.id).await,
        Err(model::AppError::NotFound(_))
    ));
    assert!(!disk.exists(), "the disk, sockets and logs are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_request_supersedes_an_older_one_still_queued() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    assert_eq!(state(&c, &ann, &vm.id).await, VmState::Stopped);

    c.vm_action(&ann, &vm.id, VmAction::Start, now)
        .await
        .unwrap();
    c.vm_action(&ann, &vm.id, VmAction::Stop, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    let d = c.vm(&ann, &vm.id).await.unwrap();
    assert_eq!(d.vm.state, VmState::Stopped);
    let start = d.operations.iter().find(|o| o.kind == "vm.start").unwrap();
    assert_eq!(start.state, OperationState::Cancelled);
    assert_eq!(
        start.error.as_deref(),
        Some("Superseded by a newer request")
    );
    let stop = d.operations.iter().find(|o| o.kind == "vm.stop").unwrap();
    assert_eq!(stop.state, OperationState::Succeeded);
    assert_eq!(
        control::testing::driver(&c).status(&vm.id).await.unwrap(),
        PowerState::Stopped
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_whose_qemu_dies_is_shown_stopped_with_the_reason() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let mut new = NewVm::named(&org.id, "web");
    new.start = true;
    let vm = c.create_vm(&ann, &new, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert_eq!(state(&c, &ann, &vm.id).await, VmState::Running);
    let pid = std::fs::read_to_string(control::testing::driver(&c).vm_dir(&vm.id).join("qemu.pid"))
        .unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The sweep notices once the process is gone.
    let mut tries = 0;
    while control::testing::driver(&c).status(&vm.id).await.unwrap() != PowerState::Stopped {
        tries += 1;
        assert!(tries < 100, "QEMU did not go away");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    c.sweep().await;
    let d = c.vm(&ann, &vm.id).await.unwrap();
    assert_eq!(d.vm.state, VmState::Stopped);
    assert!(
        d.vm.state_reason
            .as_deref()
            .unwrap_or("")
            .contains("QEMU exited"),
        "{:?}",
        d.vm.state_reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_cannot_boot_fails_the_operation_with_an_error_and_an_audit_row() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let admin = caller(&c, "root", true).await;
    // A "kernel" that is really an initramfs: QEMU refuses to load it.
    let broken = c
        .register_image(
            &admin,
            &control::compute::images::NewImage {
                name: "broken".into(),
                os: "none".into(),
                format: "kernel".into(),
                kernel_path: Some("strata-test-guest/initrd.img".into()),
                initrd_path: Some("strata-test-guest/initrd.img".into()),
                disk_path: None,
                cmdline: String::new(),
                boot_marker: Some("NEVER".into()),
            },
            now,
        )
        .await
        .unwrap();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let mut new = NewVm::named(&org.id, "bad");
    new.image_id = Some(broken.id.clone());
    new.start = true;
    let vm = c.create_vm(&ann, &new, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    let d = c.vm(&ann, &vm.id).await.unwrap();
    assert_eq!(d.vm.state, VmState::Error);
    assert!(d.vm.state_reason.is_some());
    let create = d.operations.iter().find(|o| o.kind == "vm.create").unwrap();
    assert_eq!(create.state, OperationState::Failed);
    let page = c
        .audit_page(
            &admin,
            &model::audit::AuditFilter {
                outcome: "failed".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        page.rows
            .iter()
            .any(|r| r.action == "vm.create" && r.resource_id == vm.id),
        "a failed row for the creation"
    );
}

#[tokio::test]
async fn create_checks_the_spec_with_clear_messages() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    type Change = fn(&mut NewVm);
    let cases: Vec<(Change, &str)> = vec![
        (|v| v.cpu_count = 0, "vCPUs"),
        (|v| v.cpu_count = 10_000, "vCPUs"),
        (|v| v.memory_mb = 64, "Memory"),
        (|v| v.disk_gb = 0, "Disk"),
        (|v| v.image_id = Some("not-an-id".into()), "Image"),
        (|v| v.name = "Bad Name".into(), "lowercase"),
    ];
    for (change, word) in cases {
        let mut new = NewVm::named(&org.id, "web");
        change(&mut new);
        match c.create_vm(&ann, &new, now).await {
            Err(model::AppError::Invalid(m)) => assert!(m.contains(word), "{m}"),
            other => panic!("expected a message about {word}, got {other:?}"),
        }
    }
    // More memory than this node has: refused by placement, which says what the node has
    // (tests/placement.rs covers placement itself).
    {
        use sea_orm::{sea_query::Expr, EntityTrait};
        control::entities::node::Entity::update_many()
            .col_expr(
                control::entities::node::Column::MemoryMb,
                Expr::value(8192i64),
            )
            .exec(control::testing::db(&c))
            .await
            .unwrap();
    }
    let mut huge = NewVm::named(&org.id, "huge");
    huge.memory_mb = model::vms::MAX_MEMORY_MB;
    match c.create_vm(&ann, &huge, now).await {
        Err(model::AppError::Conflict(m)) => assert_eq!(
            m,
            "No node has 1 vCPU and 64 GiB in all: local has 8 GiB in all."
        ),
        other => panic!("expected a placement refusal, got {other:?}"),
    }
}
