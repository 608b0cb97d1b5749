//! What people read when the node fails: the real QEMU driver refuses a VM whose image's base
//! file was removed from the node, and neither the VM (state reason, timeline), its
//! operations, the audit log nor a service's deployment log shows the host path or the
//! driver's words. The server's log holds that detail under the reference people are given.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::Utc;
use control::testing::{caller, TestDb};
use model::audit::AuditFilter;
use model::operations::OperationState;
use model::services::{DeploymentState, NewService};
use model::vms::{NewImage, NewVm, VmState};

/// Everything this test binary logs, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn server_log() -> Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        log
    })
    .clone()
}

/// The reference in a message people read: `... (reference abc123def456)`.
fn reference_in(text: &str) -> String {
    let start = text
        .find("(reference ")
        .unwrap_or_else(|| panic!("no reference in {text:?}"))
        + "(reference ".len();
    text[start..].chars().take_while(|c| *c != ')').collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_base_image_fails_without_showing_host_paths_to_people() {
    let log = server_log();
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let admin = caller(&c, "root", true).await;
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();

    // A disk image registered from the node's image directory, whose file then disappears.
    let store = control::testing::guest().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let store = store.canonicalize().unwrap();
    let file_name = format!("gone-{}.raw", uuid::Uuid::new_v4().simple());
    let file = store.join(&file_name);
    std::fs::write(&file, vec![0u8; 4096]).unwrap();
    let image = c
        .register_image(
            &admin,
            &NewImage {
                name: format!("gone-{}", &file_name[5..13]),
                os: "none".into(),
                format: "disk".into(),
                kernel_path: None,
                initrd_path: None,
                disk_path: Some(file.display().to_string()),
                cmdline: String::new(),
                boot_marker: None,
            },
            now,
        )
        .await
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    // Anything naming the file or where it lived leaks the node's layout.
    let leaks =
        |text: &str| text.contains(&file_name) || text.contains(&store.display().to_string());

    // A VM from it.
    let mut new = NewVm::named(&org.id, "web");
    new.image_id = Some(image.id.clone());
    new.start = true;
    let vm = c.create_vm(&ann, &new, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    let d = c.vm(&ann, &vm.id).await.unwrap();
    assert_eq!(d.vm.state, VmState::Error);
    let reason = d.vm.state_reason.clone().unwrap_or_default();
    assert!(reason.contains("missing on the node"), "{reason}");
    let create = d.operations.iter().find(|o| o.kind == "vm.create").unwrap();
    assert_eq!(create.state, OperationState::Failed);
    let mut seen: Vec<String> = vec![reason.clone()];
    seen.extend(d.events.iter().map(|e| e.message.clone()));
    for op in &d.operations {
        seen.extend(op.error.clone());
        seen.extend(op.steps.iter().map(|s| s.step.clone()));
    }
    seen.extend(
        c.list_operations(&ann, None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|o| o.error),
    );
    let audit = c.audit_page(&ann, &AuditFilter::default()).await.unwrap();
    let failed = audit
        .rows
        .iter()
        .find(|r| r.outcome == "failed" && r.resource_id == vm.id)
        .expect("the failure is audited");
    seen.extend(audit.rows.iter().map(|r| r.detail.clone()));
    for text in &seen {
        assert!(!leaks(text), "a person can read a host path: {text:?}");
    }
    assert!(failed.detail.contains("reference"), "{}", failed.detail);

    // The operator finds the whole driver message under the reference.
    let reference = reference_in(&reason);
    assert_eq!(reference.len(), 12, "{reason}");
    let logged = log.text();
    let line = logged
        .lines()
        .find(|l| l.contains(&reference))
        .unwrap_or_else(|| panic!("reference {reference} is not in the server log:\n{logged}"));
    assert!(
        line.contains(&file_name),
        "the log line keeps the detail: {line}"
    );

    // A service on the same image: its replica cannot be created either.
    let mut new = NewService::named(&org.id, "api");
    new.image_id = Some(image.id.clone());
    let svc = c.create_service(&ann, &new, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    let d = c.service(&ann, &svc.id).await.unwrap();
    let dep = &d.deployments[0];
    assert_eq!(dep.state, DeploymentState::Failed, "{dep:?}");
    let lines: Vec<String> = c
        .deployment_log(&ann, &dep.id)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.message)
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("did not boot")),
        "{lines:?}"
    );
    let mut seen: Vec<String> = lines.clone();
    seen.extend(dep.error.clone());
    for op in c
        .list_operations(&ann, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.target_id == svc.id)
    {
        seen.extend(op.error);
        seen.extend(op.steps.into_iter().map(|s| s.step));
    }
    for text in &seen {
        assert!(!leaks(text), "a person can read a host path: {text:?}");
    }
    let reference = reference_in(dep.error.as_deref().unwrap_or_default());
    assert!(
        log.text()
            .lines()
            .any(|l| l.contains(&reference) && l.contains(&file_name)),
        "reference {reference} with the detail is not in the server log"
    );
}
