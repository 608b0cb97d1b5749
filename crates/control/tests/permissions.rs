//! The permission model end to end on the database this run asks for: a golden table of
//! every role × every permission × every resource type, agreement of check with both lookups
//! through the database store, and the new-enemy guarantee across two control planes.

use model::vms::NewVm;
use std::fmt::Write as _;

use authz::{Engine, MemoryStore, Object, Schema, Subject, Tuple};
use chrono::Utc;
use control::access::model::{user, Kind, Permission, Rel, Resource, KINDS};
use control::access::store::DbStore;
use control::access::tuples;
use control::auth::Caller;
use control::testing::{caller, TestDb};
use control::Control;
use model::orgs::OrgRole;
use model::vms::ShareLevel;
use model::AppError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROLES: &[&str] = &[
    "anonymous",
    "stranger",
    "org_member",
    "org_owner",
    "resource_owner",
    "share_viewer",
    "share_operator",
    "platform_admin",
];

struct World {
    control: Control,
    people: Vec<(&'static str, Option<Caller>)>,
    resources: Vec<Resource>,
}

/// One organization with an owner and a member; a VM and a service in it owned by someone
/// who is a member (the usual creator); direct shares; a public image; the local node.
async fn world(db: &TestDb) -> World {
    let control = db.control().await;
    let now = Utc::now();
    let admin = caller(&control, "admin", true).await;
    let owner = caller(&control, "owner", false).await;
    let member = caller(&control, "member", false).await;
    let creator = caller(&control, "creator", false).await;
    let viewer = caller(&control, "viewer", false).await;
    let operator = caller(&control, "operator", false).await;
    let stranger = caller(&control, "stranger", false).await;

    let org = control
        .create_organization(&owner, "acme", now)
        .await
        .unwrap();
    control
        .add_member(&owner, &org.id, "member", OrgRole::Member, now)
        .await
        .unwrap();
    control
        .add_member(&owner, &org.id, "creator", OrgRole::Member, now)
        .await
        .unwrap();
    let vm = control
        .create_vm(&creator, &NewVm::named(&org.id, "web-1"), now)
        .await
        .unwrap();
    control
        .share_vm(&creator, &vm.id, "viewer", ShareLevel::Viewer, now)
        .await
        .unwrap();
    control
        .share_vm(&creator, &vm.id, "operator", ShareLevel::Operator, now)
        .await
        .unwrap();
    // Services get their use cases later; their grants have the same shape as a VM's.
    let service = Resource::new(Kind::Service, uuid::Uuid::new_v4());
    let org_res = Resource::organization(org.id.parse().unwrap());
    tuples::write(
        control::testing::db(&control),
        &control::testing::proof(),
        &[
            tuples::points_to(&service, Rel::Organization, Kind::Organization, &org_res.id),
            tuples::tuple(&service, Rel::Owner, user(creator.user_id)),
            tuples::tuple(&service, Rel::Viewer, user(viewer.user_id)),
            tuples::tuple(&service, Rel::Operator, user(operator.user_id)),
        ],
        now,
    )
    .await
    .unwrap();
    let image = Resource::new(Kind::Image, uuid::Uuid::new_v4());
    tuples::write(
        control::testing::db(&control),
        &control::testing::proof(),
        &[
            tuples::points_to(&image, Rel::Platform, Kind::Platform, "strata"),
            tuples::points_to(&image, Rel::Public, Kind::Platform, "strata"),
        ],
        now,
    )
    .await
    .unwrap();
    let node = local_node(control::testing::db(&control)).await;
    let network = control.networks(&owner, &org.id).await.unwrap()[0]
        .id
        .clone();
    World {
        people: vec![
            ("anonymous", None),
            ("stranger", Some(stranger)),
            ("org_member", Some(member)),
            ("org_owner", Some(owner)),
            ("resource_owner", Some(creator)),
            ("share_viewer", Some(viewer)),
            ("share_operator", Some(operator)),
            ("platform_admin", Some(admin)),
        ],
        resources: vec![
            Resource::platform(),
            org_res,
            Resource::new(Kind::Node, node),
            image,
            Resource::vm(vm.id.parse().unwrap()),
            service,
            Resource::new(Kind::Network, network.parse().unwrap()),
        ],
        control,
    }
}

async fn local_node(db: &sea_orm::DatabaseConnection) -> uuid::Uuid {
    use sea_orm::EntityTrait;
    control::entities::node::Entity::find()
        .all(db)
        .await
        .unwrap()[0]
        .id
}

fn golden_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/permissions.txt")
}

#[tokio::test]
async fn every_role_on_every_permission_matches_the_golden_table() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    assert_eq!(w.people.len(), ROLES.len());
    let mut table = String::new();
    writeln!(
        table,
        "# Who may do what. Regenerate with STRATA_BLESS=1 after a deliberate schema change;"
    )
    .unwrap();
    writeln!(
        table,
        "# review the diff like code. Y = allowed, . = refused."
    )
    .unwrap();
    write!(table, "{:<34}", "permission").unwrap();
    for r in ROLES {
        write!(table, " {r:>14}").unwrap();
    }
    table.push('\n');
    for res in &w.resources {
        for p in res.kind.permissions() {
            write!(
                table,
                "{:<34}",
                format!("{}.{}", res.kind.as_str(), p.as_str())
            )
            .unwrap();
            for (_, who) in &w.people {
                let allowed = w.control.can(who.as_ref(), *p, res).await.unwrap();
                write!(table, " {:>14}", if allowed { "Y" } else { "." }).unwrap();
            }
            table.push('\n');
        }
    }
    if std::env::var("STRATA_BLESS").is_ok() {
        std::fs::write(golden_path(), &table).unwrap();
    }
    let golden = std::fs::read_to_string(golden_path()).unwrap_or_default();
    assert!(
        golden == table,
        "the permission table changed; if that is intended, run with STRATA_BLESS=1 and review \
         crates/control/tests/golden/permissions.txt\n--- expected\n{golden}\n--- got\n{table}"
    );
    // Every kind of resource appears, and every permission of it.
    assert_eq!(w.resources.len(), KINDS.len());
}

#[tokio::test]
async fn check_and_both_lookups_agree_through_the_database() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let engine = w.control.access().engine();
    let store = DbStore::new(control::testing::db(&w.control));
    for res in &w.resources {
        for p in res.kind.permissions() {
            let holders = engine
                .lookup_subjects(&store, &res.object(), p.as_str(), "user", None)
                .await
                .unwrap();
            for (role, who) in w.people.iter().skip(1) {
                let who = who.as_ref().unwrap();
                let subject = user(who.user_id);
                let checked = engine
                    .check(&store, &subject, p.as_str(), &res.object())
                    .await
                    .unwrap();
                let reachable = engine
                    .lookup_resources(&store, &subject, p.as_str(), res.kind.as_str())
                    .await
                    .unwrap();
                assert_eq!(
                    reachable.contains(&res.id),
                    checked,
                    "{role} {p:?} {res:?} lookup_resources"
                );
                assert_eq!(
                    holders.contains(&subject.id),
                    checked,
                    "{role} {p:?} {res:?} lookup_subjects"
                );
            }
        }
    }
}

const RANDOM_SCHEMA: &str = r#"
entity user {}
entity group {
    relation member @user @group#member
}
entity folder {
    relation parent @folder
    relation owner @user
    relation viewer @user @group#member
    relation banned @user
    permission view = (owner or viewer or parent.view) not banned
    permission edit = owner and parent.view
}
"#;

#[tokio::test]
async fn random_graphs_give_the_same_answers_from_the_database_as_from_memory() {
    let db = TestDb::new().await;
    let control = db.control().await;
    let engine = Engine::new(Schema::parse(RANDOM_SCHEMA).unwrap());
    let cache = authz::TupleCache::new(10_000);
    let mut rng = StdRng::seed_from_u64(42);
    for round in 0..4 {
        let mut tuples_now = Vec::new();
        for g in 0..4 {
            for u in 0..5 {
                if rng.gen_bool(0.25) {
                    tuples_now.push(format!("group:g{round}{g}#member@user:u{u}"));
                }
            }
            if rng.gen_bool(0.4) {
                tuples_now.push(format!(
                    "group:g{round}{g}#member@group:g{round}{}#member",
                    rng.gen_range(0..4)
                ));
            }
        }
        for f in 0..5 {
            if rng.gen_bool(0.5) {
                tuples_now.push(format!(
                    "folder:f{round}{f}#parent@folder:f{round}{}",
                    rng.gen_range(0..5)
                ));
            }
            for u in 0..5 {
                for rel in ["owner", "viewer", "banned"] {
                    if rng.gen_bool(0.15) {
                        tuples_now.push(format!("folder:f{round}{f}#{rel}@user:u{u}"));
                    }
                }
            }
            if rng.gen_bool(0.4) {
                tuples_now.push(format!(
                    "folder:f{round}{f}#viewer@group:g{round}{}#member",
                    rng.gen_range(0..4)
                ));
            }
        }
        let parsed: Vec<Tuple> = tuples_now.iter().map(|t| t.parse().unwrap()).collect();
        tuples::write(
            control::testing::db(&control),
            &control::testing::proof(),
            &parsed,
            Utc::now(),
        )
        .await
        .unwrap();
        let memory = MemoryStore::from_tuples(parsed);
        let store = DbStore::new(control::testing::db(&control));
        let revision = tuples::revision(control::testing::db(&control))
            .await
            .unwrap();
        let cached = cache.at(revision, &store);
        for f in 0..5 {
            let folder = Object::new("folder", format!("f{round}{f}"));
            for p in ["view", "edit", "viewer"] {
                let want = engine
                    .lookup_subjects(&memory, &folder, p, "user", None)
                    .await
                    .unwrap();
                assert_eq!(
                    engine
                        .lookup_subjects(&store, &folder, p, "user", None)
                        .await
                        .unwrap(),
                    want
                );
                assert_eq!(
                    engine
                        .lookup_subjects(&cached, &folder, p, "user", None)
                        .await
                        .unwrap(),
                    want
                );
                for u in 0..5 {
                    let s = Subject::new("user", format!("u{u}"));
                    let c = engine.check(&memory, &s, p, &folder).await.unwrap();
                    assert_eq!(engine.check(&store, &s, p, &folder).await.unwrap(), c);
                    assert_eq!(engine.check(&cached, &s, p, &folder).await.unwrap(), c);
                }
            }
        }
        for u in 0..5 {
            let s = Subject::new("user", format!("u{u}"));
            let want: Vec<String> = engine
                .lookup_resources(&memory, &s, "view", "folder")
                .await
                .unwrap()
                .into_iter()
                .filter(|id| id.starts_with(&format!("f{round}")))
                .collect();
            let got: Vec<String> = engine
                .lookup_resources(&cached, &s, "view", "folder")
                .await
                .unwrap()
                .into_iter()
                .filter(|id| id.starts_with(&format!("f{round}")))
                .collect();
            assert_eq!(got, want, "round {round} user u{u}");
        }
    }
}

#[tokio::test]
async fn a_removed_member_is_refused_on_the_very_next_request_even_on_another_instance() {
    let db = TestDb::new().await;
    let a = db.control().await;
    // A second control plane on the same database: its own engine and cache, as a second
    // server process has.
    let b = db.control().await;
    let now = Utc::now();
    let owner = caller(&a, "owner", false).await;
    let member = caller(&a, "member", false).await;
    let org = a.create_organization(&owner, "acme", now).await.unwrap();
    a.add_member(&owner, &org.id, "member", OrgRole::Member, now)
        .await
        .unwrap();
    let vm = a
        .create_vm(&owner, &NewVm::named(&org.id, "db-1"), now)
        .await
        .unwrap();
    // Warm both caches with the member's access.
    for c in [&a, &b] {
        assert_eq!(
            c.list_vms(&member, &Default::default())
                .await
                .unwrap()
                .vms
                .len(),
            1
        );
        c.vm(&member, &vm.id).await.unwrap();
        c.organization(&member, &org.id).await.unwrap();
        assert!(c
            .can(
                Some(&member),
                Permission::Start,
                &Resource::vm(vm.id.parse().unwrap())
            )
            .await
            .unwrap());
    }
    let member_row = a
        .organization(&owner, &org.id)
        .await
        .unwrap()
        .members
        .into_iter()
        .find(|m| m.person.username == "member")
        .unwrap();
    b.remove_member(&owner, &org.id, &member_row.person.id, chrono::Utc::now())
        .await
        .unwrap();
    for c in [&a, &b] {
        assert_eq!(
            c.vm(&member, &vm.id).await.unwrap_err(),
            AppError::NotFound("No such virtual machine.".into())
        );
        assert!(c
            .list_vms(&member, &Default::default())
            .await
            .unwrap()
            .vms
            .is_empty());
        assert!(matches!(
            c.organization(&member, &org.id).await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            c.create_vm(&member, &NewVm::named(&org.id, "sneaky"), now)
                .await,
            Err(AppError::NotFound(_))
        ));
        assert!(!c
            .can(
                Some(&member),
                Permission::Start,
                &Resource::vm(vm.id.parse().unwrap())
            )
            .await
            .unwrap());
    }
}

/// A replica's permissions come from its service and organization only: the member who asked
/// for a rollout owns nothing, VM-level power, delete and share are refused with a message
/// naming the service, and replicas made before that rule are repaired at start.
#[tokio::test]
async fn replicas_belong_to_their_service() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let owner = caller(&c, "owner", false).await;
    let member = caller(&c, "member", false).await;
    let outsider = caller(&c, "outsider", false).await;
    let org = c.create_organization(&owner, "acme", now).await.unwrap();
    c.add_member(&owner, &org.id, "member", OrgRole::Member, now)
        .await
        .unwrap();
    let mut new = model::services::NewService::named(&org.id, "api");
    new.replicas = 0;
    let svc = c.create_service(&owner, &new, now).await.unwrap();
    let replica = control::testing::stopped_replica(&c, &svc.id, "api-1").await;
    let res = Resource::vm(replica.parse().unwrap());

    let may = |who: &Caller, p: Permission| {
        let (c, who, res) = (c.clone(), who.clone(), res.clone());
        async move { c.can(Some(&who), p, &res).await.unwrap() }
    };
    assert!(may(&member, Permission::Read).await);
    assert!(
        !may(&member, Permission::Console).await,
        "member: no console"
    );
    assert!(!may(&member, Permission::Delete).await);
    assert!(!may(&member, Permission::Share).await);
    assert!(
        may(&owner, Permission::Console).await,
        "the service's owner"
    );
    assert!(!may(&outsider, Permission::Read).await);

    let refused = c
        .vm_action(&member, &replica, model::vms::VmAction::Start, now)
        .await
        .unwrap_err();
    match &refused {
        AppError::Forbidden(m) => assert!(m.contains("replica of the service api"), "{m}"),
        other => panic!("expected a refusal naming the service, got {other:?}"),
    }
    assert!(matches!(
        c.share_vm(&owner, &replica, "outsider", ShareLevel::Operator, now)
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.delete_vm(&owner, &replica, chrono::Utc::now()).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.vm(&outsider, &replica).await,
        Err(AppError::NotFound(_))
    ));
    let page = c.vm(&owner, &replica).await.unwrap();
    assert!(page.actions.is_empty() && !page.can_delete && !page.can_share);

    // Data from before the rule: the requester owned the replica and shared it out.
    tuples::write(
        control::testing::db(&c),
        &control::testing::proof(),
        &[
            tuples::tuple(&res, Rel::Owner, user(member.user_id)),
            tuples::tuple(&res, Rel::Operator, user(outsider.user_id)),
        ],
        now,
    )
    .await
    .unwrap();
    tuples::delete(
        control::testing::db(&c),
        &control::testing::proof(),
        &tuples::points_to(&res, Rel::Service, Kind::Service, &svc.id),
    )
    .await
    .unwrap();
    let restarted = db.control().await;
    assert!(
        !restarted
            .can(Some(&member), Permission::Console, &res)
            .await
            .unwrap(),
        "the old owner tuple is gone"
    );
    assert!(!restarted
        .can(Some(&outsider), Permission::Read, &res)
        .await
        .unwrap());
    let service = tuples::direct(control::testing::db(&restarted), &res, Rel::Service)
        .await
        .unwrap();
    assert_eq!(service.len(), 1, "the service tuple is back");
}
