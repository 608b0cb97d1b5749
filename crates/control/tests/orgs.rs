//! Organizations and sharing through the use cases: roles, the last owner, who may grant what,
//! and how refusals are reported (not found when hidden, forbidden when visible).

use chrono::Utc;
use control::testing::{caller, TestDb};
use model::orgs::OrgRole;
use model::vms::NewVm;
use model::vms::ShareLevel;
use model::AppError;

#[tokio::test]
async fn creators_own_their_organization_and_members_see_it_in_their_list() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let eve = caller(&c, "eve", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    assert_eq!(org.role, Some(OrgRole::Owner));
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let bobs = c.list_organizations(&bob).await.unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!((bobs[0].role, bobs[0].members), (Some(OrgRole::Member), 2));
    assert!(c.list_organizations(&eve).await.unwrap().is_empty());
    assert!(matches!(
        c.organization(&eve, &org.id).await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        c.organization(&eve, "not-a-uuid").await,
        Err(AppError::NotFound(_))
    ));
    let detail = c.organization(&bob, &org.id).await.unwrap();
    assert!(!detail.can_manage && detail.can_leave);
    assert_eq!(
        detail
            .members
            .iter()
            .map(|m| m.person.username.as_str())
            .collect::<Vec<_>>(),
        ["ann", "bob"]
    );
}

#[tokio::test]
async fn names_are_validated_and_unique() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    for bad in ["", "a", "Acme", "acme corp", "-acme", "acme-", "a--b"] {
        assert!(
            matches!(
                c.create_organization(&ann, bad, now).await,
                Err(AppError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    c.create_organization(&ann, "acme", now).await.unwrap();
    assert!(matches!(
        c.create_organization(&ann, "acme", now).await,
        Err(AppError::Conflict(_))
    ));
    let org = &c.list_organizations(&ann).await.unwrap()[0];
    for bad in ["", "Web", "1web", "web_1", "web-"] {
        assert!(
            matches!(
                c.create_vm(&ann, &NewVm::named(&org.id, bad), now).await,
                Err(AppError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    c.create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    assert!(matches!(
        c.create_vm(&ann, &NewVm::named(&org.id, "web"), now).await,
        Err(AppError::Conflict(_))
    ));
}

#[tokio::test]
async fn members_cannot_grant_or_promote_and_the_last_owner_cannot_leave() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let _cat = caller(&c, "cat", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let bob_id = bob.user_id.to_string();
    let ann_id = ann.user_id.to_string();
    // A member may see the organization but not manage it: forbidden, not hidden.
    assert!(matches!(
        c.add_member(&bob, &org.id, "cat", OrgRole::Member, now)
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.change_member_role(&bob, &org.id, &bob_id, OrgRole::Owner, now)
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.remove_member(&bob, &org.id, &ann_id, chrono::Utc::now())
            .await,
        Err(AppError::Forbidden(_))
    ));
    // The only owner can neither leave nor be demoted.
    assert!(matches!(
        c.leave_organization(&ann, &org.id, chrono::Utc::now())
            .await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        c.change_member_role(&ann, &org.id, &ann_id, OrgRole::Member, now)
            .await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        c.remove_member(&ann, &org.id, &ann_id, chrono::Utc::now())
            .await,
        Err(AppError::Conflict(_))
    ));
    // Adding twice is a conflict; unknown people are a clear error.
    assert!(matches!(
        c.add_member(&ann, &org.id, "bob", OrgRole::Owner, now)
            .await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        c.add_member(&ann, &org.id, "nobody", OrgRole::Member, now)
            .await,
        Err(AppError::Invalid(_))
    ));
    // With a second owner, the first may step down and leave.
    c.change_member_role(&ann, &org.id, &bob_id, OrgRole::Owner, now)
        .await
        .unwrap();
    c.change_member_role(&bob, &org.id, &ann_id, OrgRole::Member, now)
        .await
        .unwrap();
    c.leave_organization(&ann, &org.id, chrono::Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        c.organization(&ann, &org.id).await,
        Err(AppError::NotFound(_))
    ));
    let detail = c.organization(&bob, &org.id).await.unwrap();
    assert_eq!(detail.members.len(), 1);
    assert!(matches!(
        c.leave_organization(&bob, &org.id, chrono::Utc::now())
            .await,
        Err(AppError::Conflict(_))
    ));
}

#[tokio::test]
async fn shares_grant_exactly_their_level_and_end_when_revoked() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let dan = caller(&c, "dan", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    assert!(matches!(
        c.vm(&dan, &vm.id).await,
        Err(AppError::NotFound(_))
    ));
    c.share_vm(&ann, &vm.id, "dan", ShareLevel::Viewer, now)
        .await
        .unwrap();
    let seen = c.vm(&dan, &vm.id).await.unwrap();
    assert!(!seen.can_delete && !seen.can_share);
    assert_eq!(
        c.list_vms(&dan, &Default::default())
            .await
            .unwrap()
            .vms
            .len(),
        1
    );
    // A viewer may not share further, nor delete: forbidden because they can see it.
    assert!(matches!(
        c.share_vm(&dan, &vm.id, "dan", ShareLevel::Operator, now)
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.delete_vm(&dan, &vm.id, chrono::Utc::now()).await,
        Err(AppError::Forbidden(_))
    ));
    // Raising to operator replaces the viewer share.
    c.share_vm(&ann, &vm.id, "dan", ShareLevel::Operator, now)
        .await
        .unwrap();
    let shares = c.vm(&ann, &vm.id).await.unwrap().shares;
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].level, ShareLevel::Operator);
    c.unshare_vm(&ann, &vm.id, &dan.user_id.to_string(), chrono::Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        c.vm(&dan, &vm.id).await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        c.unshare_vm(&ann, &vm.id, &dan.user_id.to_string(), chrono::Utc::now())
            .await,
        Err(AppError::NotFound(_))
    ));
    // Deleting (once its operation has run) removes the row and every grant.
    c.delete_vm(&ann, &vm.id, chrono::Utc::now()).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert!(matches!(
        c.vm(&ann, &vm.id).await,
        Err(AppError::NotFound(_))
    ));
}

#[tokio::test]
async fn the_access_panel_lists_holders_and_explains_grants_and_refusals() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let eve = caller(&c, "eve", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let res = control::access::model::Resource::vm(vm.id.parse().unwrap());
    let overview = c.access_overview(&bob, &res).await.unwrap();
    let holders = |p: &str| -> Vec<String> {
        overview
            .permissions
            .iter()
            .find(|h| h.permission == p)
            .unwrap()
            .people
            .iter()
            .map(|p| p.username.clone())
            .collect()
    };
    assert_eq!(holders("read"), ["ann", "bob"]);
    assert_eq!(holders("delete"), ["ann"]);
    assert_eq!(holders("console"), ["ann"]);
    let why = c.explain_access(&bob, &res, "bob", "start").await.unwrap();
    assert!(why.granted);
    assert!(
        why.path
            .iter()
            .any(|s| s == "vm:web#organization → organization:acme"),
        "{:?}",
        why.path
    );
    assert_eq!(
        why.path.last().unwrap(),
        "organization:acme#member@user:bob"
    );
    assert_eq!(
        why.sentence,
        "bob may start web because bob is a member of organization acme, and the schema lets \
         members of acme start it."
    );
    let why_not = c.explain_access(&bob, &res, "bob", "delete").await.unwrap();
    assert!(!why_not.granted && why_not.path.is_empty());
    assert_eq!(
        why_not.sentence,
        "bob may not delete web: no relation in the schema gives it to bob here."
    );
    assert!(matches!(
        c.explain_access(&bob, &res, "bob", "fly").await,
        Err(AppError::Invalid(_))
    ));
    assert!(matches!(
        c.access_overview(&eve, &res).await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        c.explain_access(&eve, &res, "ann", "read").await,
        Err(AppError::NotFound(_))
    ));
}

#[tokio::test]
async fn leaving_ends_owner_powers_and_disabled_owners_do_not_count() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let root = caller(&c, "root", true).await;
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let cat = caller(&c, "cat", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let vm = c
        .create_vm(&bob, &NewVm::named(&org.id, "bobs-vm"), now)
        .await
        .unwrap();
    assert!(
        c.vm(&bob, &vm.id).await.unwrap().can_delete,
        "an owner in the org may delete"
    );
    c.leave_organization(&bob, &org.id, chrono::Utc::now())
        .await
        .unwrap();
    assert!(
        matches!(c.vm(&bob, &vm.id).await, Err(AppError::NotFound(_))),
        "ownership alone grants nothing after leaving"
    );
    assert!(c.vm(&ann, &vm.id).await.unwrap().can_delete);

    // A second owner whose account is disabled cannot stand in for the last active one.
    c.add_member(&ann, &org.id, "cat", OrgRole::Owner, now)
        .await
        .unwrap();
    c.set_user_disabled(&root, &cat.user_id.to_string(), true, chrono::Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        c.leave_organization(&ann, &org.id, chrono::Utc::now())
            .await,
        Err(AppError::Conflict(_))
    ));
    c.set_user_disabled(&root, &cat.user_id.to_string(), false, chrono::Utc::now())
        .await
        .unwrap();
    c.leave_organization(&ann, &org.id, chrono::Utc::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_access_panel_and_operations_tell_nobody_who_exists_or_who_administers() {
    use control::access::model::Resource;
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let root = caller(&c, "root", true).await;
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let eve = caller(&c, "eve", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &org.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let org_res = Resource::organization(org.id.parse().unwrap());
    let vm_res = Resource::vm(vm.id.parse().unwrap());

    // Members see who is in their organization, not who runs the installation.
    let names = |o: &model::access::AccessOverview| -> Vec<String> {
        o.permissions
            .iter()
            .flat_map(|h| h.people.iter().map(|p| p.username.clone()))
            .collect()
    };
    for res in [&org_res, &vm_res] {
        let seen = names(&c.access_overview(&bob, res).await.unwrap());
        assert!(seen.contains(&"ann".to_owned()), "{seen:?}");
        assert!(!seen.contains(&"root".to_owned()), "{seen:?}");
        // An administrator still sees administrators.
        let all = names(&c.access_overview(&root, res).await.unwrap());
        assert!(all.contains(&"root".to_owned()), "{all:?}");
    }

    // Explaining an administrator, an outsider and a name nobody has reads the same.
    let explained = |name: &'static str| {
        let (c, bob, res) = (&c, &bob, &vm_res);
        async move {
            let e = c.explain_access(bob, res, name, "read").await.unwrap();
            assert_eq!(e.username, name);
            serde_json::to_string(&e).unwrap().replace(name, "NAME")
        }
    };
    let nobody = explained("nobody").await;
    assert_eq!(explained("root").await, nobody);
    assert_eq!(explained("eve").await, nobody);
    assert!(
        c.explain_access(&root, &vm_res, "root", "read")
            .await
            .unwrap()
            .granted
    );

    // An operation on something hidden answers like an operation id nobody issued.
    let op = c.vm(&ann, &vm.id).await.unwrap().operations[0].id.clone();
    let hidden = c
        .cancel_operation(&eve, &op, chrono::Utc::now())
        .await
        .unwrap_err();
    let random = c
        .cancel_operation(&eve, &uuid::Uuid::new_v4().to_string(), chrono::Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(hidden, AppError::NotFound(_)), "{hidden:?}");
    assert_eq!(hidden, random);
}
