//! The VM list in pages: sorted by organization and name, filters, cursors that survive rows
//! coming and going, bad input, and an answer that follows a grant at once (the lookup memo).

use chrono::Utc;
use control::testing::{caller, stopped_vm, TestDb};
use model::orgs::OrgRole;
use model::vms::{VmQuery, VmState};
use model::AppError;

fn page(after: Option<String>, limit: u32) -> VmQuery {
    VmQuery {
        after,
        limit: Some(limit),
        ..Default::default()
    }
}

#[tokio::test]
async fn pages_walk_every_readable_vm_once_in_order() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    let beta = c.create_organization(&ann, "beta", now).await.unwrap();
    for name in ["web-3", "web-1", "db-1"] {
        stopped_vm(&c, &beta.id, name, ann.user_id).await;
    }
    for name in ["web-2", "api-1"] {
        stopped_vm(&c, &acme.id, name, ann.user_id).await;
    }

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let p = c.list_vms(&ann, &page(after, 2)).await.unwrap();
        assert_eq!(p.total, 5);
        assert!(p.vms.len() <= 2);
        seen.extend(
            p.vms
                .iter()
                .map(|v| format!("{}/{}", v.organization, v.name)),
        );
        match p.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "acme/api-1",
            "acme/web-2",
            "beta/db-1",
            "beta/web-1",
            "beta/web-3"
        ]
    );

    // A cursor stays valid when a row before it comes: the next page starts after it.
    let first = c.list_vms(&ann, &page(None, 2)).await.unwrap();
    stopped_vm(&c, &acme.id, "aaa-0", ann.user_id).await;
    let second = c.list_vms(&ann, &page(first.next, 2)).await.unwrap();
    let names: Vec<&str> = second.vms.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["db-1", "web-1"]);
    assert_eq!(second.total, 6);

    // Filters: one organization, one state.
    let only_beta = VmQuery {
        organization_id: Some(beta.id.clone()),
        ..Default::default()
    };
    let p = c.list_vms(&ann, &only_beta).await.unwrap();
    assert_eq!((p.total, p.vms.len(), p.next), (3, 3, None));
    assert!(p.vms.iter().all(|v| v.organization == "beta"));
    let running = VmQuery {
        state: Some(VmState::Running),
        ..Default::default()
    };
    assert_eq!(c.list_vms(&ann, &running).await.unwrap().total, 0);
    let stopped = VmQuery {
        state: Some(VmState::Stopped),
        ..Default::default()
    };
    assert_eq!(c.list_vms(&ann, &stopped).await.unwrap().total, 6);

    // Bad input is refused with a clear error; a limit is kept within bounds.
    let bad = page(Some("no cursor".into()), 2);
    assert!(matches!(
        c.list_vms(&ann, &bad).await,
        Err(AppError::Invalid(_))
    ));
    let bad_org = VmQuery {
        organization_id: Some("not-an-id".into()),
        ..Default::default()
    };
    assert!(matches!(
        c.list_vms(&ann, &bad_org).await,
        Err(AppError::NotFound(_))
    ));
    assert_eq!(c.list_vms(&ann, &page(None, 0)).await.unwrap().vms.len(), 1);
    assert_eq!(
        c.list_vms(&ann, &page(None, 100_000))
            .await
            .unwrap()
            .vms
            .len(),
        6
    );
}

#[tokio::test]
async fn a_new_member_sees_the_vms_at_once_and_a_removed_one_no_longer() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    stopped_vm(&c, &org.id, "web-1", ann.user_id).await;
    // Asked twice before the grant: the second answer comes from the memo.
    for _ in 0..2 {
        assert_eq!(
            c.list_vms(&bob, &VmQuery::default()).await.unwrap().total,
            0
        );
    }
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            c.list_vms(&bob, &VmQuery::default()).await.unwrap().total,
            1
        );
    }
    c.remove_member(&ann, &org.id, &bob.user_id.to_string(), now)
        .await
        .unwrap();
    assert_eq!(
        c.list_vms(&bob, &VmQuery::default()).await.unwrap().total,
        0
    );
}
