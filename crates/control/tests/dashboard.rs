//! The dashboard use case against a real database (SQLite or PostgreSQL, per the test run).

use chrono::{Duration, Utc};
use control::entities::{organization, user};
use control::testing::TestDb;
use model::DatabaseBackend;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

#[tokio::test]
async fn counts_reflect_rows_and_uptime_follows_the_clock() {
    let tdb = TestDb::new().await;
    let control = tdb.control().await;
    let started = control.started_at();

    let before = control.dashboard(started).await.unwrap();
    assert_eq!(before.counts.users, 0);
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

    user::ActiveModel {
        id: Set(uuid_v4()),
        username: Set("ada".into()),
        display_name: Set("Ada".into()),
        is_admin: Set(true),
        disabled: Set(false),
        created_at: Set(Utc::now()),
    }
    .insert(control.db())
    .await
    .unwrap();
    organization::ActiveModel {
        id: Set(uuid_v4()),
        name: Set("lab".into()),
        created_at: Set(Utc::now()),
    }
    .insert(control.db())
    .await
    .unwrap();

    let after = control
        .dashboard(started + Duration::seconds(90))
        .await
        .unwrap();
    assert_eq!(after.counts.users, 1);
    assert_eq!(after.counts.organizations, 1);
    assert_eq!(after.uptime_seconds, 90);
}

#[tokio::test]
async fn starting_twice_keeps_one_local_node_and_is_ready() {
    let tdb = TestDb::new().await;
    let first = tdb.control().await;
    let second = tdb.control().await;
    let info = second.dashboard(Utc::now()).await.unwrap();
    assert_eq!(info.counts.nodes, 1);
    assert!(first.readiness().await.ready());
}

fn uuid_v4() -> sea_orm::prelude::Uuid {
    sea_orm::prelude::Uuid::new_v4()
}
