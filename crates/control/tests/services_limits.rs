//! Service configurations cannot stall the server: a schema whose patterns would backtrack is
//! refused at once, before any lock or transaction, while other people's writes go on; long
//! diffs are refused with a message.

use chrono::Utc;
use control::testing::{caller, TestDb};
use model::orgs::OrgRole;
use model::services::NewService;
use model::AppError;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use std::time::{Duration, Instant};

/// The attack from the outside review: many backtracking patterns under `allOf`.
fn backtracking_schema() -> String {
    let nots: Vec<String> = (0..24)
        .map(|_| r#"{"not":{"pattern":"^(a|a)*\\1$"}}"#.to_owned())
        .collect();
    format!(
        r#"{{"type":"object","additionalProperties":{{"allOf":[{}]}}}}"#,
        nots.join(",")
    )
}

fn config_of_short_strings() -> String {
    let fields: Vec<String> = (0..24)
        .map(|i| format!(r#""k{i}":"{}b""#, "a".repeat(28)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backtracking_schema_is_refused_at_once_and_blocks_no_one() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let owner = caller(&c, "owner", false).await;
    let member = caller(&c, "member", false).await;
    let other = caller(&c, "other", false).await;
    let org = c.create_organization(&owner, "acme", now).await.unwrap();
    c.add_member(&owner, &org.id, "member", OrgRole::Member, now)
        .await
        .unwrap();

    // Creating a service with such a schema is refused with a clear message.
    let mut new = NewService::named(&org.id, "evil");
    new.replicas = 0;
    new.config_schema = backtracking_schema();
    match c.create_service(&member, &new, now).await {
        Err(AppError::Invalid(m)) => assert!(m.contains("not a valid JSON Schema"), "{m}"),
        other => panic!("expected the schema to be refused, got {other:?}"),
    }

    // A service stored with it before the engine changed: saving a config against it.
    new.config_schema = String::new();
    let svc = c.create_service(&member, &new, now).await.unwrap();
    control::entities::service::ActiveModel {
        id: Set(svc.id.parse().unwrap()),
        config_schema: Set(backtracking_schema()),
        ..Default::default()
    }
    .update(control::testing::db(&c))
    .await
    .unwrap();

    let config = config_of_short_strings();
    let started = Instant::now();
    let (save, write) = tokio::join!(
        c.save_service_config(&member, &svc.id, &config, false, now),
        c.create_organization(&other, "elsewhere", now),
    );
    let took = started.elapsed();
    match save {
        Err(e @ AppError::Invalid(_)) => {
            assert_eq!(e.status(), 400);
            assert!(e.to_string().contains("not a valid JSON Schema"), "{e}");
        }
        other => panic!("expected a 4xx refusal, got {other:?}"),
    }
    assert!(write.is_ok(), "another person's write: {write:?}");
    assert!(
        took < Duration::from_secs(1),
        "refusal and the other write took {took:?}"
    );
    // Nothing was saved: the service still has only its first version.
    let detail = c.service(&member, &svc.id).await.unwrap();
    assert_eq!(detail.configs.len(), 1);
    assert!(control::entities::service::Entity::find()
        .all(control::testing::db(&c))
        .await
        .unwrap()
        .iter()
        .all(|s| s.config_version == 1));
}

#[tokio::test]
async fn diffs_of_huge_configs_are_refused_with_a_message() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let owner = caller(&c, "owner", false).await;
    let org = c.create_organization(&owner, "acme", now).await.unwrap();
    let mut new = NewService::named(&org.id, "big");
    new.replicas = 0;
    let svc = c.create_service(&owner, &new, now).await.unwrap();
    // Two ~60 KB configurations that differ on every line.
    let big = |tag: &str| {
        let fields: Vec<String> = (0..4000).map(|i| format!(r#""{tag}{i}":{i}"#)).collect();
        format!("{{{}}}", fields.join(","))
    };
    c.save_service_config(&owner, &svc.id, &big("a"), false, now)
        .await
        .unwrap();
    c.save_service_config(&owner, &svc.id, &big("b"), false, now)
        .await
        .unwrap();
    match c.diff_service_config(&owner, &svc.id, 2, 3).await {
        Err(AppError::Invalid(m)) => assert!(m.contains("too long to compare"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
