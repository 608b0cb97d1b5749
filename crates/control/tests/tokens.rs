//! Personal API tokens through the use cases: a token acts as its owner narrowed by its
//! actions and scope; expiry, revocation and a disabled owner stop it; audit rows name it.

use chrono::{Duration, Utc};
use control::auth::ClientInfo;
use control::entities::audit;
use control::testing::{caller, TestDb};
use model::tokens::{NewToken, TokenScope};
use model::vms::{NewVm, VmAction};
use model::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

fn new_token(name: &str, actions: &[&str], scope: TokenScope) -> NewToken {
    NewToken {
        name: name.into(),
        expires_in_days: 30,
        actions: actions.iter().map(|a| a.to_string()).collect(),
        scope,
    }
}

#[tokio::test]
async fn a_token_acts_as_its_owner_narrowed_to_its_actions_and_scope() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let client = ClientInfo::new("10.1.2.3", "curl");
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    // After the callers: their sessions' passkey check must not lie in `now`'s future.
    let now = Utc::now();
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    let other = c.create_organization(&bob, "other", now).await.unwrap();
    c.add_member(&bob, &other.id, "ann", model::orgs::OrgRole::Member, now)
        .await
        .unwrap();
    let a1 = c
        .create_vm(&ann, &NewVm::named(&acme.id, "a1"), now)
        .await
        .unwrap();
    let b1 = c
        .create_vm(&bob, &NewVm::named(&other.id, "b1"), now)
        .await
        .unwrap();

    // Unrestricted: everything ann may do.
    let all = c
        .create_token(&ann, &new_token("all", &[], TokenScope::Everything), now)
        .await
        .unwrap();
    assert!(all.secret.starts_with("strata_"));
    assert_eq!(all.token.status, "active");
    let as_all = c
        .resolve_token(&all.secret, &client, now)
        .await
        .unwrap()
        .expect("a fresh token resolves");
    let page = c.list_vms(&as_all, &Default::default()).await.unwrap();
    assert_eq!(page.total, 2);

    // Scoped to acme, read only.
    let scoped = c
        .create_token(
            &ann,
            &new_token(
                "reader",
                &["read"],
                TokenScope::Organization {
                    id: acme.id.clone(),
                },
            ),
            now,
        )
        .await
        .unwrap();
    let as_reader = c
        .resolve_token(&scoped.secret, &client, now)
        .await
        .unwrap()
        .unwrap();
    let page = c.list_vms(&as_reader, &Default::default()).await.unwrap();
    assert_eq!(
        page.vms.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        ["a1"]
    );
    assert!(c.vm(&as_reader, &a1.id).await.is_ok());
    assert!(matches!(
        c.vm(&as_reader, &b1.id).await,
        Err(AppError::NotFound(_))
    ));
    assert!(
        matches!(
            c.vm_action(&as_reader, &a1.id, VmAction::Start, now).await,
            Err(AppError::Forbidden(_))
        ),
        "readable, but start is not among the token's actions"
    );
    let orgs = c.list_organizations(&as_reader).await.unwrap();
    assert!(orgs.is_empty(), "`view` is not among its actions either");

    // A token scoped to one VM of bob's organization that ann may not operate: the owner's
    // rights still decide.
    let one = c
        .create_token(
            &ann,
            &new_token("one", &[], TokenScope::Vm { id: b1.id.clone() }),
            now,
        )
        .await
        .unwrap();
    let as_one = c
        .resolve_token(&one.secret, &client, now)
        .await
        .unwrap()
        .unwrap();
    assert!(c.vm(&as_one, &b1.id).await.is_ok());
    assert!(matches!(
        c.vm(&as_one, &a1.id).await,
        Err(AppError::NotFound(_))
    ));

    // What a token does is audited as the owner via the token.
    let op = c
        .vm_action(&as_all, &a1.id, VmAction::Start, now)
        .await
        .unwrap();
    let rows = audit::Entity::find()
        .filter(audit::Column::Action.eq("vm.start"))
        .all(control::testing::db(&c))
        .await
        .unwrap();
    let said: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.actor_name.as_str(), r.outcome.as_str()))
        .collect();
    assert!(
        said.contains(&("ann via token reader", "denied")),
        "{said:?}"
    );
    assert!(said.contains(&("ann via token all", "success")), "{said:?}");
    let view = c.operation(&as_all, &op.to_string()).await.unwrap();
    assert_eq!(view.kind, "vm.start");
    assert!(matches!(
        c.operation(&as_one, &op.to_string()).await,
        Err(AppError::NotFound(_))
    ));

    // `explain` with a token as the subject says which side decided: the restriction or the
    // owner's grants.
    let root = caller(&c, "root", true).await;
    let ask = |subject: &str, permission: &str, entity: &str| model::access::AuthzQuery::Explain {
        subject: subject.into(),
        permission: permission.into(),
        entity: entity.into(),
    };
    let reader_id = c
        .list_tokens(&ann, false)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "reader")
        .unwrap()
        .id;
    let lines = c
        .inspect_access(
            &root,
            &ask(
                &format!("token:{reader_id}"),
                "start",
                &format!("vm:{}", a1.id),
            ),
        )
        .await
        .unwrap();
    assert!(lines[0].contains("may only use read"), "{lines:?}");
    assert_eq!(lines.last().unwrap(), "denied");
    let lines = c
        .inspect_access(
            &root,
            &ask(
                &format!("token:{reader_id}"),
                "read",
                &format!("vm:{}", a1.id),
            ),
        )
        .await
        .unwrap();
    assert!(lines[0].contains("admits read"), "{lines:?}");
    assert_eq!(lines.last().unwrap(), "allowed");
    let check = model::access::AuthzQuery::Check {
        subject: format!("token:{reader_id}"),
        permission: "read".into(),
        entity: format!("vm:{}", b1.id),
    };
    assert_eq!(
        c.inspect_access(&root, &check).await.unwrap(),
        ["denied"],
        "outside the token's organization"
    );

    // Last use is recorded.
    let listed = c.list_tokens(&ann, false).await.unwrap();
    assert_eq!(listed.len(), 3);
    let all_view = listed.iter().find(|t| t.name == "all").unwrap();
    assert_eq!(all_view.last_used_ip.as_deref(), Some("10.1.2.3"));
    assert!(all_view.hint.starts_with("strata_") && all.secret.starts_with(&all_view.hint));
}

#[tokio::test]
async fn expiry_revocation_and_a_disabled_owner_stop_a_token() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let client = ClientInfo::new("127.0.0.1", "test");
    let root = caller(&c, "root", true).await;
    let ann = caller(&c, "ann", false).await;
    let now = Utc::now();
    let mut short = new_token("short", &[], TokenScope::Everything);
    short.expires_in_days = 1;
    let t = c.create_token(&ann, &short, now).await.unwrap();
    assert!(c
        .resolve_token(&t.secret, &client, now + Duration::hours(23))
        .await
        .unwrap()
        .is_some());
    assert!(c
        .resolve_token(&t.secret, &client, now + Duration::hours(25))
        .await
        .unwrap()
        .is_none());
    assert!(c
        .resolve_token("strata_not-a-token", &client, now)
        .await
        .unwrap()
        .is_none());

    // Revoked by a platform admin; listing everyone's tokens is theirs alone.
    let t = c
        .create_token(&ann, &new_token("b", &[], TokenScope::Everything), now)
        .await
        .unwrap();
    assert!(matches!(
        c.list_tokens(&ann, true).await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(c.list_tokens(&root, true).await.unwrap().len(), 2);
    assert!(matches!(
        c.revoke_token(&caller(&c, "eve", false).await, &t.token.id, now)
            .await,
        Err(AppError::NotFound(_))
    ));
    c.revoke_token(&root, &t.token.id, now).await.unwrap();
    assert!(c
        .resolve_token(&t.secret, &client, now)
        .await
        .unwrap()
        .is_none());
    let views = c.list_tokens(&ann, false).await.unwrap();
    assert_eq!(
        views.iter().find(|v| v.name == "b").unwrap().status,
        "revoked"
    );

    // A disabled owner's tokens stop at once.
    let t = c
        .create_token(&ann, &new_token("c", &[], TokenScope::Everything), now)
        .await
        .unwrap();
    c.set_user_disabled(&root, &ann.user_id.to_string(), true, now)
        .await
        .unwrap();
    assert!(c
        .resolve_token(&t.secret, &client, now)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn bad_token_requests_are_refused_with_a_reason() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let client = ClientInfo::new("127.0.0.1", "test");
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let now = Utc::now();
    let bobs = c.create_organization(&bob, "bobs", now).await.unwrap();
    let invalid = |n: NewToken| {
        let c = c.clone();
        let ann = ann.clone();
        async move { c.create_token(&ann, &n, now).await }
    };
    let mut t = new_token("x", &[], TokenScope::Everything);
    t.expires_in_days = 0;
    assert!(matches!(
        invalid(t.clone()).await,
        Err(AppError::Invalid(_))
    ));
    t.expires_in_days = 91;
    assert!(matches!(invalid(t).await, Err(AppError::Invalid(_))));
    assert!(matches!(
        invalid(new_token(" ", &[], TokenScope::Everything)).await,
        Err(AppError::Invalid(_))
    ));
    assert!(matches!(
        invalid(new_token("x", &["fly"], TokenScope::Everything)).await,
        Err(AppError::Invalid(_))
    ));
    assert!(
        matches!(
            invalid(new_token(
                "x",
                &[],
                TokenScope::Organization {
                    id: bobs.id.clone()
                }
            ))
            .await,
            Err(AppError::NotFound(_))
        ),
        "a scope the owner cannot see does not exist for them"
    );

    // From a browser session, making a credential needs a recent passkey check.
    let later = now + Duration::minutes(10);
    assert!(
        matches!(
            c.create_token(&ann, &new_token("late", &[], TokenScope::Everything), later)
                .await,
            Err(AppError::Forbidden(m)) if m == model::auth::REAUTH_REQUIRED
        ),
        "a session whose passkey check is 10 minutes old"
    );

    // Only an unrestricted token makes tokens, and not beyond its own expiry.
    let mut parent = new_token("parent", &[], TokenScope::Everything);
    parent.expires_in_days = 2;
    let parent = c.create_token(&ann, &parent, now).await.unwrap();
    let as_parent = c
        .resolve_token(&parent.secret, &client, now)
        .await
        .unwrap()
        .unwrap();
    let child = c
        .create_token(
            &as_parent,
            &new_token("child", &["read"], TokenScope::Everything),
            now,
        )
        .await
        .unwrap();
    assert_eq!(child.token.expires_at, parent.token.expires_at);
    let as_child = c
        .resolve_token(&child.secret, &client, now)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        c.create_token(
            &as_child,
            &new_token("grandchild", &[], TokenScope::Everything),
            now
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
}
