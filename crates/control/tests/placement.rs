//! Placement and quotas through the use cases, without QEMU (no runner: creates only queue
//! their work): stopped VMs hold no room, regions, cordoned and unreachable nodes, refusals
//! that explain themselves, the 20-concurrent-creates race, and quotas set by administrators.

use chrono::{Duration, Utc};
use control::entities::node;
use control::testing::{caller, db, TestDb};
use control::Control;
use model::quotas::Quota;
use model::vms::{NewVm, VmAction};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

/// Gives the embedded node `cpus` CPUs and `memory_mb` of memory.
async fn size_local(c: &Control, cpus: i32, memory_mb: i64) {
    node::Entity::update_many()
        .col_expr(node::Column::CpuCount, Expr::value(cpus))
        .col_expr(node::Column::MemoryMb, Expr::value(memory_mb))
        .col_expr(node::Column::CpuOvercommitPct, Expr::value(100))
        .filter(node::Column::Id.eq(c.local_node()))
        .exec(db(c))
        .await
        .unwrap();
}

/// A node row as an agent would register it, last seen `seen_ago` seconds ago.
async fn add_node(c: &Control, name: &str, region: &str, memory_mb: i64, seen_ago: i64) -> Uuid {
    let id = Uuid::new_v4();
    node::ActiveModel {
        id: Set(id),
        name: Set(name.into()),
        address: Set(format!("{name}.test")),
        is_local: Set(false),
        cpu_count: Set(2),
        memory_mb: Set(memory_mb),
        created_at: Set(Utc::now()),
        region: Set(region.into()),
        cordoned: Set(false),
        cpu_overcommit_pct: Set(400),
        memory_overcommit_pct: Set(100),
        last_seen_at: Set(Some(Utc::now() - Duration::seconds(seen_ago))),
        cert_sha256: Set(Some(format!("cert-of-{id}"))),
        ..Default::default()
    }
    .insert(db(c))
    .await
    .unwrap();
    id
}

fn vm(org: &str, name: &str, memory_mb: u32, start: bool) -> NewVm {
    NewVm {
        memory_mb,
        start,
        ..NewVm::named(org, name)
    }
}

fn conflict(r: Result<impl std::fmt::Debug, AppError>) -> String {
    match r {
        Err(AppError::Conflict(m)) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn stopped_vms_hold_no_room_and_refusals_say_what_is_left() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let now = Utc::now();
    size_local(&c, 2, 4096).await;
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();

    // Two stopped 3 GiB VMs fit a 4 GiB node: neither holds memory while stopped.
    let a = c
        .create_vm(&ann, &vm(&org.id, "a", 3072, false), now)
        .await
        .unwrap();
    c.create_vm(&ann, &vm(&org.id, "b", 3072, false), now)
        .await
        .unwrap();
    let running = c
        .create_vm(&ann, &vm(&org.id, "c", 3072, true), now)
        .await
        .unwrap();
    let refused = conflict(c.create_vm(&ann, &vm(&org.id, "d", 2048, true), now).await);
    assert_eq!(
        refused,
        "No node has 1 vCPU and 2 GiB free: local has 1 GiB free."
    );
    // A stopped VM bigger than any node could ever run is refused as well.
    let never = conflict(c.create_vm(&ann, &vm(&org.id, "e", 8192, false), now).await);
    assert_eq!(
        never,
        "No node has 1 vCPU and 8 GiB in all: local has 4 GiB in all."
    );

    // Starting a stopped VM needs room on its own node, where its disk is.
    let start = conflict(c.vm_action(&ann, &a.id, VmAction::Start, now).await);
    assert!(
        start.starts_with("Its node cannot run it now: local has 1 GiB free"),
        "{start}"
    );
    c.vm_action(&ann, &running.id, VmAction::Stop, now)
        .await
        .unwrap();
    c.vm_action(&ann, &a.id, VmAction::Start, now)
        .await
        .unwrap();
}

#[tokio::test]
async fn vms_land_by_region_and_skip_cordoned_and_unreachable_nodes() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let small = add_node(&c, "eu-small", "eu", 2048, 2).await;
    let big = add_node(&c, "eu-big", "eu", 8192, 2).await;
    add_node(&c, "us-gone", "us", 8192, 60).await;

    let node_of = |id: String| {
        let c = c.clone();
        async move {
            let id: Uuid = id.parse().unwrap();
            control::entities::vm::Entity::find_by_id(id)
                .one(db(&c))
                .await
                .unwrap()
                .unwrap()
                .node_id
                .unwrap()
        }
    };
    let mut eu = vm(&org.id, "eu-1", 1024, true);
    eu.region = Some("eu".into());
    let first = c.create_vm(&ann, &eu, now).await.unwrap();
    assert_eq!(
        node_of(first.id).await,
        big,
        "the node with most free memory"
    );

    node::Entity::update_many()
        .col_expr(node::Column::Cordoned, Expr::value(true))
        .filter(node::Column::Id.eq(big))
        .exec(db(&c))
        .await
        .unwrap();
    eu.name = "eu-2".into();
    let second = c.create_vm(&ann, &eu, now).await.unwrap();
    assert_eq!(
        node_of(second.id).await,
        small,
        "cordoned nodes take nothing new"
    );
    eu.name = "eu-3".into();
    eu.memory_mb = 2048;
    assert_eq!(
        conflict(c.create_vm(&ann, &eu, now).await),
        "No node in region `eu` has 1 vCPU and 2 GiB free: eu-big is cordoned, \
         eu-small has 1 GiB free."
    );
    let mut us = vm(&org.id, "us-1", 128, true);
    us.region = Some("us".into());
    assert_eq!(
        conflict(c.create_vm(&ann, &us, now).await),
        "No node in region `us` has 1 vCPU and 128 MiB free: us-gone is unreachable."
    );
    us.region = Some("ap".into());
    assert_eq!(
        conflict(c.create_vm(&ann, &us, now).await),
        "No node is in region `ap`."
    );
}

#[tokio::test]
async fn twenty_concurrent_creates_never_oversubscribe_a_node() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let now = Utc::now();
    // CPUs to spare: memory is what runs out.
    size_local(&c, 16, 4096).await;
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let creates: Vec<_> = (0..20)
        .map(|i| {
            let (c, ann, org) = (c.clone(), ann.clone(), org.id.clone());
            tokio::spawn(async move {
                c.create_vm(&ann, &vm(&org, &format!("vm-{i}"), 512, true), Utc::now())
                    .await
            })
        })
        .collect();
    let mut made = 0;
    for task in creates {
        match task.await.unwrap() {
            Ok(_) => made += 1,
            Err(AppError::Conflict(m)) => assert!(m.contains("local has 0 MiB free"), "{m}"),
            Err(other) => panic!("a create failed for another reason: {other:?}"),
        }
    }
    assert_eq!(made, 8, "4 GiB holds exactly eight 512 MiB VMs");
    let placed = control::entities::vm::Entity::find()
        .all(db(&c))
        .await
        .unwrap();
    let memory: i32 = placed.iter().map(|v| v.memory_mb).sum();
    assert_eq!((placed.len(), memory), (8, 4096));
}

#[tokio::test]
async fn quotas_are_set_by_administrators_and_refuse_naming_the_quota() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let now = Utc::now();
    size_local(&c, 4, 16384).await;
    let root = caller(&c, "root", true).await;
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let limits = Quota {
        vcpus: Some(2),
        vms: Some(3),
        ..Quota::default()
    };
    assert!(matches!(
        c.set_org_quota(&ann, &org.id, &limits, now).await,
        Err(AppError::Forbidden(_))
    ));
    c.set_org_quota(&root, &org.id, &limits, now).await.unwrap();

    let mut two = vm(&org.id, "big", 256, true);
    two.cpu_count = 2;
    c.create_vm(&ann, &two, now).await.unwrap();
    assert_eq!(
        conflict(
            c.create_vm(&ann, &vm(&org.id, "more", 256, true), now)
                .await
        ),
        "The organization's vCPU quota is 2: 2 in use, and this needs 1 more. \
         A platform administrator can raise it."
    );
    // Stopped VMs take no vCPUs, but they count as VMs.
    c.create_vm(&ann, &vm(&org.id, "s1", 256, false), now)
        .await
        .unwrap();
    let s2 = c
        .create_vm(&ann, &vm(&org.id, "s2", 256, false), now)
        .await
        .unwrap();
    let vms = conflict(c.create_vm(&ann, &vm(&org.id, "s3", 256, false), now).await);
    assert!(
        vms.starts_with("The organization's VM quota is 3: 3 in use"),
        "{vms}"
    );
    let start = conflict(c.vm_action(&ann, &s2.id, VmAction::Start, now).await);
    assert!(
        start.starts_with("The organization's vCPU quota is 2"),
        "{start}"
    );
    // Scaling a service up is refused when asked, naming the quota, not half-way through.
    let svc = c
        .create_service(
            &ann,
            &model::services::NewService::named(&org.id, "web"),
            now,
        )
        .await
        .unwrap();
    let scale = conflict(c.scale_service(&ann, &svc.id, 2, now).await);
    assert!(
        scale.starts_with("The organization's vCPU quota is 2: 2 in use, and this needs 1 more"),
        "{scale}"
    );

    let panel = c.org_quota(&ann, &org.id).await.unwrap();
    assert_eq!(panel.quota, limits);
    assert_eq!(
        (
            panel.usage.vcpus,
            panel.usage.memory_mb,
            panel.usage.vms,
            panel.usage.disk_gb
        ),
        (2, 256, 3, 3)
    );
    assert!(!panel.can_edit);
    assert!(c.org_quota(&root, &org.id).await.unwrap().can_edit);
    let eve = caller(&c, "eve", false).await;
    assert!(matches!(
        c.org_quota(&eve, &org.id).await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        c.set_org_quota(
            &root,
            &org.id,
            &Quota {
                vms: Some(2_000_000_000),
                ..Quota::default()
            },
            now
        )
        .await,
        Err(AppError::Invalid(_))
    ));
}

#[tokio::test]
async fn administrators_see_nodes_with_their_use_and_cordon_them() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let now = Utc::now();
    size_local(&c, 4, 8192).await;
    let root = caller(&c, "root", true).await;
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.create_vm(&ann, &vm(&org.id, "on", 1024, true), now)
        .await
        .unwrap();
    c.create_vm(&ann, &vm(&org.id, "off", 2048, false), now)
        .await
        .unwrap();
    add_node(&c, "far", "eu", 4096, 60).await;

    let nodes = c.list_nodes(&root, now).await.unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["far", "local"]);
    let local = &nodes[1];
    assert_eq!(local.status, model::nodes::NodeStatus::Ready);
    assert_eq!(
        (
            local.vcpu_capacity,
            local.vcpus_used,
            local.memory_capacity_mb,
            local.memory_used_mb,
            local.vms
        ),
        (4, 1, 8192, 1024, 2)
    );
    assert_eq!(nodes[0].status, model::nodes::NodeStatus::Unreachable);
    assert!(matches!(
        c.list_nodes(&ann, now).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.set_node_cordoned(&ann, &local.id, true, now).await,
        Err(AppError::Forbidden(_))
    ));

    c.set_node_cordoned(&root, &local.id, true, now)
        .await
        .unwrap();
    let status = c.list_nodes(&root, now).await.unwrap()[1].status;
    assert_eq!(status, model::nodes::NodeStatus::Cordoned);
    assert_eq!(
        conflict(c.create_vm(&ann, &vm(&org.id, "new", 128, true), now).await),
        "No node has 1 vCPU and 128 MiB free: far is unreachable, local is cordoned."
    );
    c.set_node_cordoned(&root, &local.id, false, now)
        .await
        .unwrap();
    c.create_vm(&ann, &vm(&org.id, "new", 128, true), now)
        .await
        .unwrap();

    // Draining: cordoned, and it says which VMs stay (no replicas here to move); uncordoning
    // ends it.
    assert!(matches!(
        c.drain_node(&ann, &local.id, now).await,
        Err(AppError::Forbidden(_))
    ));
    let report = c.drain_node(&root, &local.id, now).await.unwrap();
    assert_eq!(report.staying, ["new", "off", "on"]);
    assert!(report.moving.is_empty());
    assert_eq!(
        report.sentence("local"),
        "No service replicas to move. These VMs stay on local (their disks are there): new, off, on."
    );
    let status = c.list_nodes(&root, now).await.unwrap()[1].status;
    assert_eq!(status, model::nodes::NodeStatus::Draining);
    c.set_node_cordoned(&root, &local.id, false, now)
        .await
        .unwrap();
    let status = c.list_nodes(&root, now).await.unwrap()[1].status;
    assert_eq!(status, model::nodes::NodeStatus::Ready);
    assert!(matches!(
        c.set_node_cordoned(&root, &Uuid::new_v4().to_string(), true, now)
            .await,
        Err(AppError::NotFound(_))
    ));
}
