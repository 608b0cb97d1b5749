//! The operation runner itself: transient failures are retried with backoff and stop at the
//! limit; a claim is exclusive; finished operations are never run again.

use std::sync::Arc;

use chrono::Duration;
use control::clock::{system_now, ManualClock};
use control::entities::operation;
use control::entities::states::OperationKind;
use control::testing::{enqueue_test_operation, TestDb};
use sea_orm::EntityTrait;

async fn row(c: &control::Control, id: sea_orm::prelude::Uuid) -> operation::Model {
    operation::Entity::find_by_id(id)
        .one(control::testing::db(c))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn transient_failures_are_retried_with_backoff_until_the_limit() {
    let db = TestDb::new().await;
    // The runner reads time from the control plane's clock: the test moves it, nobody waits.
    // A whole second, so no backend rounds the stored times across the edges tested below.
    let t0 = chrono::DateTime::from_timestamp(system_now().timestamp(), 0).unwrap();
    let clock = Arc::new(ManualClock::at(t0));
    let c = db.control().await.with_clock(clock.clone());
    let id = enqueue_test_operation(&c, OperationKind::TestTransient).await;
    for (attempt, backoff_s) in [(1, 1), (2, 2)] {
        assert_eq!(
            c.run_due_operations().await.unwrap(),
            1,
            "attempt {attempt}"
        );
        let op = row(&c, id).await;
        assert_eq!(op.state, "queued", "between attempts it waits in the queue");
        assert!(
            op.steps.contains(&format!("Retrying in {backoff_s} s")),
            "{}",
            op.steps
        );
        // Not due a moment before its backoff is over, due at once after.
        clock.advance(Duration::seconds(backoff_s) - Duration::milliseconds(1));
        assert_eq!(
            c.run_due_operations().await.unwrap(),
            0,
            "still backing off"
        );
        clock.advance(Duration::milliseconds(1));
    }
    assert_eq!(
        c.run_due_operations().await.unwrap(),
        1,
        "the third attempt"
    );
    let op = row(&c, id).await;
    assert_eq!(op.state, "failed");
    assert_eq!(op.attempt, 3, "three attempts, no more");
    assert_eq!(op.error.as_deref(), Some("the test service is unavailable"));
    assert!(op.finished_at.is_some());
    // A finished operation is never claimed again, however late it gets.
    clock.advance(Duration::hours(1));
    assert_eq!(c.run_due_operations().await.unwrap(), 0);
}

#[tokio::test]
async fn two_runners_never_run_one_operation_twice() {
    let db = TestDb::new().await;
    let a = db.control().await;
    let b = db.control().await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(enqueue_test_operation(&a, OperationKind::TestOk).await);
    }
    let (ra, rb) = tokio::join!(a.run_due_operations(), b.run_due_operations());
    assert_eq!(
        ra.unwrap() + rb.unwrap(),
        10,
        "each ran by exactly one runner"
    );
    for id in ids {
        let op = row(&a, id).await;
        assert_eq!(op.state, "succeeded");
        assert_eq!(op.attempt, 1);
    }
}
