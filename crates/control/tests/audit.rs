//! Reading the audit log: who may see which rows, filters, keyset paging, and exports.

use chrono::Utc;
use control::audit::log::ExportFormat;
use control::testing::{caller, TestDb};
use model::audit::AuditFilter;
use model::orgs::OrgRole;
use model::vms::NewVm;
use model::AppError;

#[tokio::test]
async fn owners_see_their_organization_admins_everything_others_nothing() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let admin = caller(&c, "root", true).await;
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let cat = caller(&c, "cat", false).await;
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &acme.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let other = c.create_organization(&cat, "other", now).await.unwrap();
    c.create_vm(&bob, &NewVm::named(&acme.id, "web"), now)
        .await
        .unwrap();
    c.create_vm(&cat, &NewVm::named(&other.id, "db"), now)
        .await
        .unwrap();
    // A refused attempt is audited too.
    assert!(c
        .add_member(&bob, &acme.id, "cat", OrgRole::Owner, now)
        .await
        .is_err());

    let all = AuditFilter::default();
    let mine = c.audit_page(&ann, &all).await.unwrap();
    let actions: Vec<&str> = mine.rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "organization.add_member",
            "vm.create",
            "organization.add_member",
            "organization.create"
        ]
    );
    assert_eq!(mine.rows[0].outcome, "denied");
    assert_eq!(mine.rows[0].actor, "bob");
    assert!(mine
        .rows
        .iter()
        .all(|r| r.organization.as_deref() == Some("acme")));
    assert_eq!(mine.rows[1].client_ip, "127.0.0.1");

    assert!(matches!(
        c.audit_page(&bob, &all).await,
        Err(AppError::Forbidden(_))
    ));
    let everything = c.audit_page(&admin, &all).await.unwrap();
    assert!(everything
        .rows
        .iter()
        .any(|r| r.organization.as_deref() == Some("other")));

    // Filters. Text with a control character (a NUL, which PostgreSQL refuses) is a bad
    // request, not a server error.
    let nul = AuditFilter {
        actor: "s\u{0}b".into(),
        ..Default::default()
    };
    assert!(matches!(
        c.audit_page(&ann, &nul).await,
        Err(model::AppError::Invalid(_))
    ));
    let f = AuditFilter {
        actor: "bob".into(),
        ..Default::default()
    };
    assert_eq!(c.audit_page(&ann, &f).await.unwrap().rows.len(), 2);
    let f = AuditFilter {
        outcome: "denied".into(),
        ..Default::default()
    };
    assert_eq!(c.audit_page(&ann, &f).await.unwrap().rows.len(), 1);
    let f = AuditFilter {
        action: "vm.create".into(),
        organization: "other".into(),
        ..Default::default()
    };
    assert!(
        c.audit_page(&ann, &f).await.unwrap().rows.is_empty(),
        "ann cannot read other's rows"
    );
    assert_eq!(c.audit_page(&admin, &f).await.unwrap().rows.len(), 1);
    let f = AuditFilter {
        from: "2999-01-01".into(),
        ..Default::default()
    };
    assert!(c.audit_page(&admin, &f).await.unwrap().rows.is_empty());
    let f = AuditFilter {
        outcome: "maybe".into(),
        ..Default::default()
    };
    assert!(matches!(
        c.audit_page(&admin, &f).await,
        Err(AppError::Invalid(_))
    ));
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_and_exports_hold_every_row() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    for i in 0..23 {
        c.create_vm(&ann, &NewVm::named(&org.id, &format!("vm-{i}")), now)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut f = AuditFilter {
        limit: Some(10),
        ..Default::default()
    };
    loop {
        let page = c.audit_page(&ann, &f).await.unwrap();
        assert!(page.rows.len() <= 10);
        seen.extend(page.rows.iter().map(|r| r.id));
        match page.next_before {
            Some(b) => f.before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen.len(), 24, "23 VMs and the organization");
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, no repeats");

    let jsonl = c
        .audit_export(&ann, &AuditFilter::default(), ExportFormat::JsonLines)
        .await
        .unwrap();
    assert_eq!(jsonl.lines().count(), 24);
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["action"], "vm.create");
    let csv = c
        .audit_export(&ann, &AuditFilter::default(), ExportFormat::Csv)
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 25);
    assert!(csv.starts_with("id,at,actor,"));
    assert!(csv.lines().nth(1).unwrap().contains(",ann,"));
}

#[tokio::test]
async fn a_change_that_fails_leaves_no_success_row() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    // The duplicate name fails inside the transaction: its audit row rolls back with it.
    assert!(matches!(
        c.create_vm(&ann, &NewVm::named(&org.id, "web"), now).await,
        Err(AppError::Conflict(_))
    ));
    // The last owner cannot leave: refused by rule, nothing written.
    assert!(matches!(
        c.leave_organization(&ann, &org.id, chrono::Utc::now())
            .await,
        Err(AppError::Conflict(_))
    ));
    let rows = c
        .audit_page(&ann, &AuditFilter::default())
        .await
        .unwrap()
        .rows;
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["vm.create", "organization.create"]);
}

#[tokio::test]
async fn retention_deletes_only_rows_older_than_the_cutoff() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    assert_eq!(
        c.prune_audit(now - chrono::Duration::days(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        c.audit_page(&ann, &AuditFilter::default())
            .await
            .unwrap()
            .rows
            .len(),
        2
    );
    // Ann's two rows, and the system's registration of the ready image.
    assert_eq!(
        c.prune_audit(Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        3
    );
    assert!(c
        .audit_page(&ann, &AuditFilter::default())
        .await
        .unwrap()
        .rows
        .is_empty());
}

#[tokio::test]
async fn gauges_count_live_sessions_and_vms_per_node() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    c.create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let g = c.gauges(Utc::now()).await.unwrap();
    assert_eq!(g.sessions_active, 1);
    assert!(g.vms.contains(&("local".into(), "creating".into(), 1)));
    assert!(g.vms.contains(&("local".into(), "running".into(), 0)));
    assert!(g.operations.contains(&("queued".into(), 1)));
    assert!(g.operations.contains(&("failed".into(), 0)));
    let later = c
        .gauges(Utc::now() + chrono::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(
        later.sessions_active, 0,
        "idle and expired sessions do not count"
    );
}

#[tokio::test]
async fn refused_attempts_on_a_vm_reach_its_organizations_owners() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let eve = caller(&c, "eve", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    assert!(matches!(
        c.delete_vm(&eve, &vm.id, chrono::Utc::now()).await,
        Err(AppError::NotFound(_))
    ));
    let f = AuditFilter {
        outcome: "denied".into(),
        ..Default::default()
    };
    let rows = c.audit_page(&ann, &f).await.unwrap().rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].actor.as_str()),
        ("vm.delete", "eve")
    );
    assert_eq!(rows[0].organization.as_deref(), Some("acme"));
}

#[tokio::test]
async fn a_flood_of_refused_attempts_leaves_one_counted_row_per_burst() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let mut eve = caller(&c, "eve", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let denied = AuditFilter {
        outcome: "denied".into(),
        ..Default::default()
    };
    let before = c.audit_page(&ann, &AuditFilter::default()).await.unwrap();

    // 300 refused deletes, each with a user agent of the attacker's choosing.
    for i in 0..300 {
        eve.client = control::auth::ClientInfo::new("203.0.113.9", &format!("flood-{i}"));
        assert!(matches!(
            c.delete_vm(&eve, &vm.id, chrono::Utc::now()).await,
            Err(AppError::NotFound(_))
        ));
    }
    let rows = c.audit_page(&ann, &denied).await.unwrap().rows;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let detail: serde_json::Value = serde_json::from_str(&rows[0].detail).unwrap();
    assert_eq!(detail["count"], 300, "{}", rows[0].detail);
    assert!(detail["last_at"].is_string(), "{}", rows[0].detail);
    assert_eq!(
        rows[0].user_agent, "flood-0",
        "the first attempt's row is kept"
    );
    let after = c.audit_page(&ann, &AuditFilter::default()).await.unwrap();
    assert_eq!(after.rows.len(), before.rows.len() + 1);

    // Refusals at once (other tasks, other connections) are all counted, on few rows.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (c, eve, id) = (c.clone(), eve.clone(), vm.id.clone());
        tasks.push(tokio::spawn(async move {
            c.delete_vm(&eve, &id, chrono::Utc::now()).await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(AppError::NotFound(_))));
    }
    let rows = c.audit_page(&ann, &denied).await.unwrap().rows;
    let bursts = rows.len();
    assert!(bursts <= 3, "{rows:?}");
    let total: u64 = rows
        .iter()
        .map(|r| {
            let d: serde_json::Value = serde_json::from_str(&r.detail).unwrap();
            d["count"].as_u64().unwrap_or(1)
        })
        .sum();
    assert_eq!(total, 320);

    // Another action on the same VM is another row; so is another actor.
    assert!(c
        .vm_action(&eve, &vm.id, model::vms::VmAction::Start, now)
        .await
        .is_err());
    let mal = caller(&c, "mal", false).await;
    assert!(c.delete_vm(&mal, &vm.id, chrono::Utc::now()).await.is_err());
    let rows = c.audit_page(&ann, &denied).await.unwrap().rows;
    assert_eq!(rows.len(), bursts + 2, "{rows:?}");
    assert!(rows
        .iter()
        .any(|r| r.action == "vm.start" && r.actor == "eve"));
    assert!(rows
        .iter()
        .any(|r| r.action == "vm.delete" && r.actor == "mal"));

    // Once the window has passed since a burst began, the next refusal starts a new row.
    use control::audit::{record_denied, Action, Actor, Entry, DENIAL_WINDOW};
    let res = control::access::model::Resource::vm(vm.id.parse().unwrap());
    let org_id = org.id.parse().unwrap();
    let later = Utc::now() + DENIAL_WINDOW + chrono::Duration::seconds(1);
    for _ in 0..2 {
        record_denied(
            control::testing::db(&c),
            &Actor::caller(&eve),
            Entry::new(Action::VmDelete, &res).org(org_id),
            later,
        )
        .await
        .unwrap();
    }
    let f = AuditFilter {
        outcome: "denied".into(),
        actor: "eve".into(),
        action: "vm.delete".into(),
        ..Default::default()
    };
    let rows = c.audit_page(&ann, &f).await.unwrap().rows;
    let newest: serde_json::Value = serde_json::from_str(&rows[0].detail).unwrap();
    assert_eq!(newest["count"], 2, "{rows:?}");
    assert_eq!(rows.len(), bursts + 1, "{rows:?}");
}
