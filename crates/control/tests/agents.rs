//! Joining and linking nodes through the use cases, with real certificates: a token works
//! once and only until it expires, a joined node's certificate is its identity, a hello records
//! its inventory, and a removed node is refused at once (its open link is cut). Every refusal
//! leaves an audit row.

use std::collections::BTreeMap;

use agent::proto::{fingerprint, Inventory, JoinToken};
use chrono::{Duration, Utc};
use control::agents::LinkState;
use control::auth::ClientInfo;
use control::entities::{audit, node};
use control::testing::{caller, db, TestDb};
use model::nodes::NodeStatus;
use model::vms::NewVm;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

fn agent_client() -> ClientInfo {
    ClientInfo::new("10.0.0.2", "strata-agent")
}

fn forbidden(r: Result<impl std::fmt::Debug, AppError>) -> String {
    match r {
        Err(AppError::Forbidden(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn secret_of(token: &str) -> String {
    JoinToken::decode(token).unwrap().secret
}

async fn actions(c: &control::Control, outcome: &str) -> Vec<String> {
    audit::Entity::find()
        .filter(audit::Column::Outcome.eq(outcome))
        .all(db(c))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .filter(|a| a.starts_with("node."))
        .collect()
}

fn inventory(region: &str) -> Inventory {
    Inventory {
        cpus: 8,
        memory_mb: 16384,
        disk_free_gb: 200,
        accel: "tcg".into(),
        qemu_version: Some("QEMU emulator version 8.2.2".into()),
        region: region.into(),
        labels: BTreeMap::from([("rack".to_owned(), "a1".to_owned())]),
        agent_version: "0.1.0".into(),
    }
}

#[tokio::test]
async fn a_token_joins_one_node_once_and_the_certificate_is_its_identity() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let now = Utc::now();
    let admin = caller(&c, "root", true).await;

    // No agent listener, no tokens: a token naming nowhere would be useless.
    let refused = c.add_node(&admin, "host-a", now).await.unwrap_err();
    assert!(refused.to_string().contains("--agent-listen"), "{refused}");
    c.set_agent_url("wss://10.0.0.1:7443".into());
    assert!(matches!(
        c.add_node(&admin, "Host A", now).await,
        Err(AppError::Invalid(_))
    ));

    let ticket = c.add_node(&admin, "host-a", now).await.unwrap();
    let token = JoinToken::decode(&ticket.token).unwrap();
    assert_eq!(token.url, "wss://10.0.0.1:7443");
    assert_eq!(
        token.ca_sha256,
        c.node_authority(now).await.unwrap().sha256()
    );
    assert!(ticket.command.contains(&ticket.token), "{}", ticket.command);
    let dup = c.add_node(&admin, "host-a", now).await.unwrap_err();
    assert!(matches!(dup, AppError::Conflict(_)), "{dup:?}");
    let listed = c.list_nodes(&admin, now).await.unwrap();
    let pending = listed.iter().find(|n| n.name == "host-a").unwrap();
    assert_eq!(pending.status, NodeStatus::Pending);

    let (_key, csr) = agent::pki::node_key_and_request().unwrap();
    let joined = c
        .redeem_join(&token.secret, &csr, &agent_client(), now)
        .await
        .unwrap();
    assert_eq!(joined.name, "host-a");
    assert_eq!(joined.node_id.to_string(), ticket.node_id);
    let cert = agent::tls::cert_from_pem(&joined.certificate_pem).unwrap();
    let row = node::Entity::find_by_id(joined.node_id)
        .one(db(&c))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.cert_sha256.as_deref(),
        Some(fingerprint(&cert).as_str())
    );
    assert_eq!(row.address, "10.0.0.2");

    // The same token again, from anyone: refused, nothing changes.
    let (_key, other_csr) = agent::pki::node_key_and_request().unwrap();
    let again = forbidden(
        c.redeem_join(&token.secret, &other_csr, &agent_client(), now)
            .await,
    );
    assert!(again.contains("already used"), "{again}");
    let unknown = forbidden(
        c.redeem_join("not-a-token", &other_csr, &agent_client(), now)
            .await,
    );
    assert!(unknown.contains("not known"), "{unknown}");
    let row_after = node::Entity::find_by_id(joined.node_id)
        .one(db(&c))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row_after.cert_sha256, row.cert_sha256);

    // A token past its hour is refused, and a bad certificate request leaves it unused.
    let late = c.add_node(&admin, "host-late", now).await.unwrap();
    let bad = c
        .redeem_join(&secret_of(&late.token), "junk", &agent_client(), now)
        .await
        .unwrap_err();
    assert!(matches!(bad, AppError::Invalid(_)), "{bad:?}");
    let expired = forbidden(
        c.redeem_join(
            &secret_of(&late.token),
            &other_csr,
            &agent_client(),
            now + Duration::minutes(61),
        )
        .await,
    );
    assert!(expired.contains("expired"), "{expired}");

    assert_eq!(
        actions(&c, "success").await,
        ["node.add", "node.join", "node.add"]
    );
    let denied = actions(&c, "denied").await;
    assert!(denied.iter().all(|a| a == "node.join"), "{denied:?}");
    assert!(!denied.is_empty());
}

#[tokio::test]
async fn a_linked_node_reports_its_inventory_and_a_removed_one_is_refused_at_once() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let now = Utc::now();
    let admin = caller(&c, "root", true).await;
    c.set_agent_url("wss://10.0.0.1:7443".into());
    let ticket = c.add_node(&admin, "host-b", now).await.unwrap();
    let (_key, csr) = agent::pki::node_key_and_request().unwrap();
    let joined = c
        .redeem_join(&secret_of(&ticket.token), &csr, &agent_client(), now)
        .await
        .unwrap();
    let cert = fingerprint(&agent::tls::cert_from_pem(&joined.certificate_pem).unwrap());

    let mut link = c.open_node_link(&cert, &agent_client(), now).await.unwrap();
    assert_eq!(link.id, joined.node_id);
    assert_eq!(c.agent_links().count(), 1);
    c.node_hello(&link, &inventory("eu"), &agent_client(), now)
        .await
        .unwrap();
    let view = c
        .list_nodes(&admin, now)
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.name == "host-b")
        .unwrap();
    // A joined host takes VMs at once; cordoning it and back works as for any node.
    assert_eq!(view.status, NodeStatus::Ready);
    c.set_node_cordoned(&admin, &link.id.to_string(), true, now)
        .await
        .unwrap();
    c.set_node_cordoned(&admin, &link.id.to_string(), false, now)
        .await
        .unwrap();
    assert_eq!((view.cpus, view.region.as_str()), (8, "eu"));
    assert_eq!(view.labels, ["rack=a1"]);
    assert_eq!(view.accel, "tcg");
    // Heartbeats keep it reachable; without them it is unreachable after 15 s.
    let later = now + Duration::seconds(20);
    let status = |at| {
        let c = c.clone();
        let admin = admin.clone();
        async move {
            c.list_nodes(&admin, at)
                .await
                .unwrap()
                .into_iter()
                .find(|n| n.name == "host-b")
                .unwrap()
                .status
        }
    };
    assert_eq!(status(later).await, NodeStatus::Unreachable);
    c.node_heartbeat(link.id, later).await.unwrap();
    assert_eq!(status(later).await, NodeStatus::Ready);

    // A bad inventory is refused at the edge.
    let bad = c
        .node_hello(&link, &inventory("EU West"), &agent_client(), now)
        .await;
    assert!(matches!(bad, Err(AppError::Invalid(_))), "{bad:?}");

    // A node with a VM on it cannot be removed; the embedded node never.
    let ann = caller(&c, "ann", false).await;
    let org = c.create_organization(&ann, "acme", now).await.unwrap();
    let vm = c
        .create_vm(&ann, &NewVm::named(&org.id, "web"), now)
        .await
        .unwrap();
    let vm_id: Uuid = vm.id.parse().unwrap();
    control::entities::vm::Entity::update_many()
        .col_expr(control::entities::vm::Column::NodeId, Expr::value(link.id))
        .filter(control::entities::vm::Column::Id.eq(vm_id))
        .exec(db(&c))
        .await
        .unwrap();
    let busy = c.remove_node(&admin, &link.id.to_string(), later).await;
    assert!(
        matches!(&busy, Err(AppError::Conflict(m)) if m.contains("still has 1 VM")),
        "{busy:?}"
    );
    let local = c
        .remove_node(&admin, &c.local_node().to_string(), later)
        .await;
    assert!(matches!(local, Err(AppError::Conflict(_))), "{local:?}");
    control::entities::vm::Entity::delete_by_id(vm_id)
        .exec(db(&c))
        .await
        .unwrap();

    // Removed: the open link is told, the identity is refused from now on.
    c.remove_node(&admin, &link.id.to_string(), later)
        .await
        .unwrap();
    link.cut.changed().await.unwrap();
    assert_eq!(*link.cut.borrow(), LinkState::Removed);
    assert_eq!(c.agent_links().count(), 0);
    let refused = forbidden(c.open_node_link(&cert, &agent_client(), later).await);
    assert!(refused.contains("removed"), "{refused}");
    let heartbeat = c.node_heartbeat(link.id, later).await;
    assert!(
        matches!(heartbeat, Err(AppError::Forbidden(_))),
        "{heartbeat:?}"
    );
    assert_eq!(actions(&c, "denied").await, ["node.link"]);
    let done = actions(&c, "success").await;
    assert_eq!(
        done,
        [
            "node.add",
            "node.join",
            "node.cordon",
            "node.uncordon",
            "node.remove"
        ]
    );
}
