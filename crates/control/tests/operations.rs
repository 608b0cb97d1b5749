//! The operation runner itself: transient failures are retried with backoff and stop at the
//! limit; a claim is exclusive; finished operations are never run again.

use std::time::{Duration, Instant};

use control::entities::operation;
use control::testing::{enqueue_test_operation, TestDb};
use sea_orm::EntityTrait;

async fn row(c: &control::Control, id: sea_orm::prelude::Uuid) -> operation::Model {
    operation::Entity::find_by_id(id)
        .one(c.db())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn transient_failures_are_retried_with_backoff_until_the_limit() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let id = enqueue_test_operation(&c, "test.transient").await;
    let started = Instant::now();
    let mut runs = 0;
    loop {
        runs += c.run_due_operations().await.unwrap();
        let op = row(&c, id).await;
        if op.state == "failed" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still {} after {runs} runs",
            op.state
        );
        // Between attempts the operation waits in the queue until its backoff is over.
        assert_eq!(op.state, "queued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let op = row(&c, id).await;
    assert_eq!(runs, 3, "three attempts, no more");
    assert_eq!(op.attempt, 3);
    assert_eq!(op.error.as_deref(), Some("the test service is unavailable"));
    assert!(op.finished_at.is_some());
    assert!(op.steps.contains("Retrying in 1 s"), "{}", op.steps);
    assert!(op.steps.contains("Retrying in 2 s"), "{}", op.steps);
    // Backoff 1 s then 2 s: the last attempt cannot start before 3 s.
    assert!(started.elapsed() >= Duration::from_secs(3));
    // A finished operation is never claimed again.
    assert_eq!(c.run_due_operations().await.unwrap(), 0);
}

#[tokio::test]
async fn two_runners_never_run_one_operation_twice() {
    let db = TestDb::new().await;
    let a = db.control().await;
    let b = db.control().await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(enqueue_test_operation(&a, "test.ok").await);
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
