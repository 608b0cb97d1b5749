//! The dashboard use case against a real database (SQLite or PostgreSQL, per the test run).

use chrono::{Duration, Utc};
use control::testing::{caller, TestDb};
use model::vms::NewVm;
use model::DatabaseBackend;

#[tokio::test]
async fn counts_are_what_the_caller_may_see_and_uptime_follows_the_clock() {
    let tdb = TestDb::new().await;
    let control = tdb.control().await;
    let started = control.started_at();
    let admin = caller(&control, "ada", true).await;
    let ann = caller(&control, "ann", false).await;
    let eve = caller(&control, "eve", false).await;

    let before = control.dashboard(&ann, started).await.unwrap();
    assert_eq!(before.counts.users, 1, "only herself");
    assert_eq!(before.counts.organizations, 0);
    assert_eq!(
        before.counts.nodes, 1,
        "the local node is registered at start"
    );
    assert_eq!(before.uptime_seconds, 0);
    let expected = match control::testing::backend().as_str() {
        "postgres" => DatabaseBackend::Postgres,
        _ => DatabaseBackend::Sqlite,
    };
    assert_eq!(before.database, expected);

    let now = Utc::now();
    let org = control.create_organization(&ann, "lab", now).await.unwrap();
    control
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let after = control
        .dashboard(&ann, started + Duration::seconds(90))
        .await
        .unwrap();
    assert_eq!(after.counts.organizations, 1);
    assert_eq!(after.counts.virtual_machines, 1);
    assert_eq!(after.uptime_seconds, 90);
    let stranger = control.dashboard(&eve, now).await.unwrap();
    assert_eq!(
        (
            stranger.counts.organizations,
            stranger.counts.virtual_machines
        ),
        (0, 0)
    );
    let all = control.dashboard(&admin, now).await.unwrap();
    assert_eq!(
        (
            all.counts.users,
            all.counts.organizations,
            all.counts.virtual_machines
        ),
        (3, 1, 1)
    );
}

#[tokio::test]
async fn starting_twice_keeps_one_local_node_and_is_ready() {
    let tdb = TestDb::new().await;
    let first = tdb.control().await;
    let second = tdb.control().await;
    let who = caller(&second, "ada", false).await;
    let info = second.dashboard(&who, Utc::now()).await.unwrap();
    assert_eq!(info.counts.nodes, 1);
    assert!(first.readiness().await.ready());
}

#[tokio::test]
async fn what_needs_attention_work_under_way_nodes_and_recent_audit_are_listed() {
    use control::entities::vm;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let tdb = TestDb::new().await;
    let c = tdb.control().await;
    let now = Utc::now();
    let admin = caller(&c, "ada", true).await;
    let ann = caller(&c, "ann", false).await;
    let eve = caller(&c, "eve", false).await;
    let org = c.create_organization(&ann, "lab", now).await.unwrap();
    let broken = c
        .create_vm(&ann, &NewVm::named(&org.id, "broken"), now)
        .await
        .unwrap();
    c.create_vm(&ann, &NewVm::named(&org.id, "fine"), now)
        .await
        .unwrap();
    vm::Entity::update_many()
        .col_expr(vm::Column::ObservedState, Expr::value("error"))
        .col_expr(
            vm::Column::StateReason,
            Expr::value("QEMU would not start the VM"),
        )
        .filter(vm::Column::Id.eq(broken.id.parse::<uuid::Uuid>().unwrap()))
        .exec(control::testing::db(&c))
        .await
        .unwrap();

    let d = c.dashboard(&ann, now).await.unwrap();
    let names: Vec<&str> = d.attention.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["broken"]);
    assert_eq!(d.attention[0].href, format!("/vms/{}", broken.id));
    assert_eq!(d.attention[0].status, "Error");
    assert_eq!(
        d.attention[0].reason.as_deref(),
        Some("QEMU would not start the VM")
    );
    // Both creates are queued (no runner here), newest first.
    assert_eq!(d.operations.len(), 2);
    assert!(d.operations.iter().all(|o| o.kind == "vm.create"));
    // Ann owns the organization: she reads its audit rows; she is not a platform admin.
    assert!(
        d.recent.iter().any(|r| r.action == "vm.create"),
        "{:?}",
        d.recent
    );
    assert!(d.nodes.is_empty());

    let stranger = c.dashboard(&eve, now).await.unwrap();
    assert!(stranger.attention.is_empty() && stranger.operations.is_empty());
    assert!(stranger.recent.is_empty());

    let all = c.dashboard(&admin, now).await.unwrap();
    let nodes: Vec<&str> = all.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(nodes, ["local"]);
}
