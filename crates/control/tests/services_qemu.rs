//! Services on real VMs: replicas boot from the test guest under QEMU, a new configuration
//! rolls replica by replica and reaches every guest (which prints it on its console), a
//! deployment that cannot boot stops and keeps the old replicas, rollbacks, scaling, and usage
//! samples read from the QEMU processes.

use chrono::Utc;
use control::auth::Caller;
use control::testing::{caller, TestDb};
use control::Control;
use model::services::{
    DeployRequest, DeploymentState, NewService, ServiceAction, ServiceDetail, ServiceStatus,
};
use model::vms::{NewImage, VmState};

async fn detail(c: &Control, who: &Caller, id: &str) -> ServiceDetail {
    c.service(who, id).await.unwrap()
}

async fn console(c: &Control, id: &str) -> String {
    let (bytes, _) = control::testing::driver(c)
        .console_read(id, 0, 1 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every replica runs, on `version` of the configuration, and its guest printed `config`.
async fn assert_replicas(
    c: &Control,
    who: &Caller,
    id: &str,
    count: usize,
    version: i64,
    config: &str,
) {
    let d = detail(c, who, id).await;
    assert_eq!(
        d.replicas.len(),
        count,
        "{:?}\n{:?}\n{:?}",
        d.replicas,
        d.deployments.first(),
        log_of(c, who, &d).await
    );
    for r in &d.replicas {
        assert_eq!(r.state, VmState::Running, "{r:?}");
        assert_eq!(r.config_version, version, "{r:?}");
        let text = console(c, &r.vm_id).await;
        assert!(
            text.contains(&format!("STRATA-CONFIG: {config}")),
            "replica {} did not print {config}:\n{text}",
            r.name
        );
    }
    assert_eq!(d.service.status, ServiceStatus::Running);
    assert_eq!(d.service.running as usize, count);
}

async fn log_of(c: &Control, who: &Caller, d: &ServiceDetail) -> Vec<String> {
    c.deployment_log(who, &d.deployments[0].id)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.message)
        .collect()
}

async fn org_and_owner(c: &Control) -> (Caller, String) {
    let ann = caller(c, "ann", false).await;
    let org = c
        .create_organization(&ann, "acme", Utc::now())
        .await
        .unwrap();
    (ann, org.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_rolls_configs_rolls_back_scales_and_reports_usage() {
    let redis = control::testing::redis_url();
    let db = TestDb::new().await;
    let c = db.control_with_redis(&redis).await;
    assert!(c.metrics_in_redis());
    let (ann, org) = org_and_owner(&c).await;
    let now = Utc::now();

    let mut new = NewService::named(&org, "web");
    new.replicas = 2;
    new.config = r#"{"greeting": "one", "port": 8080}"#.into();
    new.config_schema =
        r#"{"type":"object","properties":{"port":{"type":"integer"}},"required":["port"]}"#.into();
    let svc = c.create_service(&ann, &new, now).await.unwrap();
    assert_eq!(svc.status, ServiceStatus::Deploying);
    c.run_due_operations().await.unwrap();
    let v1 = r#"{"greeting":"one","port":8080}"#;
    assert_replicas(&c, &ann, &svc.id, 2, 1, v1).await;
    let d = detail(&c, &ann, &svc.id).await;
    assert_eq!(d.deployments[0].state, DeploymentState::Succeeded);
    assert!(d.service.deployed_at.is_some());
    let first: Vec<String> = d.replicas.iter().map(|r| r.vm_id.clone()).collect();

    // A config that breaks the schema is refused with the field's path, and saves nothing.
    let bad = c
        .save_service_config(&ann, &svc.id, r#"{"port": "x"}"#, true, now)
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("/port"), "{bad}");
    assert_eq!(detail(&c, &ann, &svc.id).await.configs.len(), 1);

    // A new config rolls: new replicas boot with it, the old ones go.
    let saved = c
        .save_service_config(
            &ann,
            &svc.id,
            r#"{"greeting": "two", "port": 8081}"#,
            true,
            now,
        )
        .await
        .unwrap();
    assert_eq!(saved.version, 2);
    c.run_due_operations().await.unwrap();
    let v2 = r#"{"greeting":"two","port":8081}"#;
    assert_replicas(&c, &ann, &svc.id, 2, 2, v2).await;
    let d = detail(&c, &ann, &svc.id).await;
    assert!(d.replicas.iter().all(|r| !first.contains(&r.vm_id)));
    for old in &first {
        assert!(
            !control::testing::driver(&c).vm_dir(old).exists(),
            "old replica {old} left files"
        );
    }
    let log = log_of(&c, &ann, &d).await;
    let started = log
        .iter()
        .position(|l| l.starts_with("Starting replica"))
        .unwrap();
    let stopped = log
        .iter()
        .position(|l| l.starts_with("Stopping old replica"))
        .unwrap();
    assert!(
        started < stopped,
        "the new replica starts before an old one stops: {log:?}"
    );
    assert_eq!(log.last().unwrap(), "Deployment 2 succeeded", "{log:?}");

    // The diff between the versions shows the change.
    let diff = c.diff_service_config(&ann, &svc.id, 1, 2).await.unwrap();
    assert!(diff
        .iter()
        .any(|l| l.tag == '-' && l.text.contains("\"one\"")));
    assert!(diff
        .iter()
        .any(|l| l.tag == '+' && l.text.contains("\"two\"")));

    // Rolling back makes version 3 with version 1's content, and deploys it.
    let back = c.rollback_service(&ann, &svc.id, 1, now).await.unwrap();
    assert_eq!(back.config_version, 3);
    c.run_due_operations().await.unwrap();
    assert_replicas(&c, &ann, &svc.id, 2, 3, v1).await;
    let d = detail(&c, &ann, &svc.id).await;
    assert_eq!(d.configs[0].note, "Rolled back to version 1");

    // Scale 2 -> 3 -> 1.
    c.scale_service(&ann, &svc.id, 3, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert_replicas(&c, &ann, &svc.id, 3, 3, v1).await;

    // Usage samples come from each replica's QEMU.
    assert_eq!(c.sample_usage().await.unwrap(), 3);
    assert_eq!(c.sample_usage().await.unwrap(), 3);
    let samples = c.service_metrics(&ann, &svc.id).await.unwrap();
    let d = detail(&c, &ann, &svc.id).await;
    for r in &d.replicas {
        let mine: Vec<_> = samples.iter().filter(|s| s.vm_id == r.vm_id).collect();
        assert_eq!(mine.len(), 2, "two samples of {}", r.name);
        assert!(mine
            .iter()
            .all(|s| s.rss_bytes > 16 << 20 && s.uptime_seconds > 0.0));
        assert!(
            mine[0].cpu_percent > 0.0,
            "a booted guest used CPU: {mine:?}"
        );
        let own = c.vm_metrics(&ann, &r.vm_id).await.unwrap();
        assert_eq!(own.len(), 2);
    }

    c.scale_service(&ann, &svc.id, 1, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert_replicas(&c, &ann, &svc.id, 1, 3, v1).await;

    // Stop, start, delete.
    c.service_action(&ann, &svc.id, ServiceAction::Stop, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    let d = detail(&c, &ann, &svc.id).await;
    assert_eq!(d.service.status, ServiceStatus::Stopped);
    assert_eq!(d.replicas[0].state, VmState::Stopped);
    c.service_action(&ann, &svc.id, ServiceAction::Start, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    assert_replicas(&c, &ann, &svc.id, 1, 3, v1).await;
    let last = detail(&c, &ann, &svc.id).await.replicas[0].vm_id.clone();
    c.delete_service(&ann, &svc.id, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert!(c.service(&ann, &svc.id).await.is_err());
    assert!(!control::testing::driver(&c).vm_dir(&last).exists());
    assert!(c
        .list_vms(&ann, &Default::default())
        .await
        .unwrap()
        .vms
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_that_cannot_boot_stops_and_keeps_the_old_replicas() {
    let db = TestDb::new().await;
    let c = db.control().await;
    assert!(!c.metrics_in_redis());
    let (ann, org) = org_and_owner(&c).await;
    let admin = caller(&c, "root", true).await;
    let now = Utc::now();
    // The test guest's kernel with no init to run: it panics and QEMU exits.
    let broken = c
        .register_image(
            &admin,
            &NewImage {
                name: "never-boots".into(),
                os: "linux".into(),
                format: "kernel".into(),
                kernel_path: Some("strata-test-guest/vmlinuz".into()),
                initrd_path: Some("strata-test-guest/initrd.img".into()),
                disk_path: None,
                cmdline: "rdinit=/nonexistent panic=1".into(),
                boot_marker: Some("STRATA-GUEST-READY".into()),
            },
            now,
        )
        .await
        .unwrap();

    let images = c.list_images(&ann).await.unwrap();
    let ready = images
        .iter()
        .find(|i| i.name == "strata-test-guest")
        .unwrap();
    let mut new = NewService::named(&org, "api");
    new.replicas = 2;
    new.image_id = Some(ready.id.clone());
    let svc = c.create_service(&ann, &new, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert_replicas(&c, &ann, &svc.id, 2, 1, "{}").await;
    let before: Vec<String> = detail(&c, &ann, &svc.id)
        .await
        .replicas
        .iter()
        .map(|r| r.vm_id.clone())
        .collect();

    let dep = c
        .deploy_service(
            &ann,
            &svc.id,
            &DeployRequest {
                image_id: Some(broken.id.clone()),
                version: Some("2".into()),
                config_version: None,
                expected_generation: None,
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(dep.state, DeploymentState::Queued);
    c.run_due_operations().await.unwrap();

    let d = detail(&c, &ann, &svc.id).await;
    assert_eq!(d.deployments[0].state, DeploymentState::Failed);
    assert!(
        d.deployments[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("did not boot"),
        "{:?}",
        d.deployments[0]
    );
    let after: Vec<String> = d.replicas.iter().map(|r| r.vm_id.clone()).collect();
    assert_eq!(
        after, before,
        "the old replicas stay, the failed one is removed"
    );
    assert!(d.replicas.iter().all(|r| r.state == VmState::Running));
    assert_eq!(d.service.status, ServiceStatus::Degraded);
    let log = log_of(&c, &ann, &d).await;
    assert!(log.iter().any(|l| l.contains("did not boot")), "{log:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("replicas that were running keep running")),
        "{log:?}"
    );
    assert!(
        log.last().unwrap().starts_with("Deployment 2 failed"),
        "{log:?}"
    );

    // Deploying the good image again brings the service back to running.
    assert_eq!(d.service.image_id.as_deref(), Some(broken.id.as_str()));
    c.deploy_service(
        &ann,
        &svc.id,
        &DeployRequest {
            image_id: Some(ready.id.clone()),
            version: Some("3".into()),
            config_version: None,
            expected_generation: None,
        },
        now,
    )
    .await
    .unwrap();
    c.run_due_operations().await.unwrap();
    assert_replicas(&c, &ann, &svc.id, 2, 1, "{}").await;

    // Memory-kept samples work the same way.
    assert_eq!(c.sample_usage().await.unwrap(), 2);
    assert_eq!(c.service_metrics(&ann, &svc.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn bad_requests_are_refused_with_clear_errors() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let (ann, org) = org_and_owner(&c).await;
    let now = Utc::now();
    let mut new = NewService::named(&org, "Bad Name");
    assert!(c
        .create_service(&ann, &new, now)
        .await
        .unwrap_err()
        .to_string()
        .contains("lowercase"));
    new.name = "ok".into();
    new.config = "{".into();
    let e = c
        .create_service(&ann, &new, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not valid JSON: line 1"), "{e}");
    new.config = "{}".into();
    new.config_schema = r#"{"type": 5}"#.into();
    let e = c
        .create_service(&ann, &new, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Config schema"), "{e}");
    new.config_schema = String::new();
    new.region = "mars".into();
    let e = c
        .create_service(&ann, &new, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Region") && e.contains("local"), "{e}");
    new.region = String::new();
    new.replicas = 99;
    assert!(c
        .create_service(&ann, &new, now)
        .await
        .unwrap_err()
        .to_string()
        .contains("Replicas"));
    // Nothing was created by any of them.
    assert!(c.list_services(&ann).await.unwrap().is_empty());
    new.replicas = 0;
    let svc = c.create_service(&ann, &new, now).await.unwrap();
    let e = c
        .create_service(&ann, &new, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("already has a service called ok"), "{e}");
    let e = c
        .rollback_service(&ann, &svc.id, 9, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no version 9"), "{e}");

    // A stranger sees nothing and can do nothing.
    let eve = caller(&c, "eve", false).await;
    assert!(c.list_services(&eve).await.unwrap().is_empty());
    assert!(matches!(
        c.service(&eve, &svc.id).await,
        Err(model::AppError::NotFound(_))
    ));
    assert!(matches!(
        c.scale_service(&eve, &svc.id, 1, now).await,
        Err(model::AppError::NotFound(_))
    ));
    assert!(matches!(
        c.service_metrics(&eve, &svc.id).await,
        Err(model::AppError::NotFound(_))
    ));
}
