//! VM networks through the control plane: every organization has a default network, VMs get
//! cards with pinned addresses on it (or on the networks they name), networks are checked and
//! guarded by the schema; VM tags, and rules that name them. The guests on them:
//! networks_qemu.rs.

use chrono::Utc;
use control::testing::{caller, TestDb};
use model::networks::{NewNetwork, NewRule, Protocol, ReachQuery, RuleProtocol};
use model::orgs::OrgRole;
use model::vms::NewVm;
use model::AppError;

fn network(org: &str, name: &str, cidr: &str) -> NewNetwork {
    NewNetwork {
        organization_id: org.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        cidr: cidr.to_owned(),
    }
}

#[tokio::test]
async fn organizations_start_with_a_network_and_vms_get_pinned_addresses_on_the_networks_they_name()
{
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let eve = caller(&c, "eve", false).await;
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &acme.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();

    let nets = c.networks(&ann, &acme.id).await.unwrap();
    assert_eq!(nets.len(), 1);
    let default = &nets[0];
    assert_eq!(
        (
            default.name.as_str(),
            default.cidr.as_str(),
            default.gateway.as_str(),
            default.dns.as_str()
        ),
        ("default", "10.0.0.0/24", "10.0.0.1", "10.0.0.2")
    );
    assert_eq!(default.domain, "default.internal");
    // A member sees it; someone outside the organization does not.
    assert_eq!(c.networks(&bob, &acme.id).await.unwrap().len(), 1);
    assert!(matches!(
        c.networks(&eve, &acme.id).await,
        Err(AppError::NotFound(_))
    ));

    // Cards: the default network unless asked otherwise, the lowest free address from .10.
    let web = c
        .create_vm(&ann, &NewVm::named(&acme.id, "web"), now)
        .await
        .unwrap();
    let db1 = c
        .create_vm(&bob, &NewVm::named(&acme.id, "db"), now)
        .await
        .unwrap();
    let nic = |id: String| {
        let c = &c;
        let ann = &ann;
        async move { c.vm(ann, &id).await.unwrap().nics }
    };
    let web_nics = nic(web.id.clone()).await;
    assert_eq!(web_nics.len(), 1);
    assert_eq!(web_nics[0].address, "10.0.0.10");
    assert_eq!(web_nics[0].hostname, "web.default.internal");
    assert!(web_nics[0].mac.starts_with("52:54:00:"));
    assert_eq!(nic(db1.id.clone()).await[0].address, "10.0.0.11");

    // Networks: made by those who manage the organization, checked, never overlapping there.
    let member_try = c
        .create_network(&bob, &network(&acme.id, "back", "10.1.0.0/24"), now)
        .await;
    assert!(
        matches!(member_try, Err(AppError::Forbidden(_))),
        "{member_try:?}"
    );
    for (name, cidr, why) in [
        ("Back", "10.1.0.0/24", "name"),
        ("back", "8.8.8.0/24", "public subnet"),
        ("back", "10.1.0.1/24", "not the first address"),
        ("back", "10.0.0.128/25", "overlaps default"),
        ("default", "10.9.0.0/24", "name taken"),
    ] {
        let r = c
            .create_network(&ann, &network(&acme.id, name, cidr), now)
            .await;
        assert!(
            matches!(r, Err(AppError::Invalid(_) | AppError::Conflict(_))),
            "{why}: {r:?}"
        );
    }
    let back = c
        .create_network(&ann, &network(&acme.id, "back", "10.1.0.0/24"), now)
        .await
        .unwrap();
    assert_eq!((back.cidr.as_str(), back.cards), ("10.1.0.0/24", 0));

    // A VM on two networks: eth0 on back, eth1 on default.
    let mut two = NewVm::named(&acme.id, "two");
    two.networks = Some(vec![back.id.clone(), default.id.clone()]);
    let two = c.create_vm(&bob, &two, now).await.unwrap();
    let cards = nic(two.id.clone()).await;
    let seen: Vec<(u32, &str, &str)> = cards
        .iter()
        .map(|n| (n.slot, n.network.as_str(), n.address.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![(0, "back", "10.1.0.10"), (1, "default", "10.0.0.12")]
    );
    // No card at all, when asked.
    let mut none = NewVm::named(&acme.id, "island");
    none.networks = Some(Vec::new());
    let none = c.create_vm(&ann, &none, now).await.unwrap();
    assert!(nic(none.id.clone()).await.is_empty());

    // Another organization's network cannot be named, and its default is its own, with the
    // same subnet.
    let other = c.create_organization(&eve, "other", now).await.unwrap();
    let theirs = c.networks(&eve, &other.id).await.unwrap();
    assert_eq!(theirs[0].cidr, "10.0.0.0/24");
    assert_ne!(theirs[0].id, default.id);
    let mut stray = NewVm::named(&acme.id, "stray");
    stray.networks = Some(vec![theirs[0].id.clone()]);
    let r = c.create_vm(&ann, &stray, now).await;
    assert!(
        matches!(r, Err(AppError::NotFound(_) | AppError::Invalid(_))),
        "{r:?}"
    );

    // The explanation: the same network is allowed; a VM only on another network, or without a
    // card, is not, and the answer says why; VMs the caller cannot see are not found.
    let mut vault = NewVm::named(&acme.id, "vault");
    vault.networks = Some(vec![back.id.clone()]);
    let vault = c.create_vm(&ann, &vault, now).await.unwrap();
    // A network's page: the cards on it by VM name, and whether the caller may change rules.
    let page = c.network(&ann, &back.id).await.unwrap();
    let on_back: Vec<(&str, &str, &str)> = page
        .vms
        .iter()
        .map(|m| (m.vm_name.as_str(), m.address.as_str(), m.hostname.as_str()))
        .collect();
    assert_eq!(
        on_back,
        vec![
            ("two", "10.1.0.10", "two.back.internal"),
            ("vault", "10.1.0.11", "vault.back.internal")
        ]
    );
    assert_eq!(
        (page.network.name.as_str(), page.network.cards),
        ("back", 2)
    );
    assert!(page.can_update);
    assert!(!c.network(&bob, &back.id).await.unwrap().can_update);
    assert!(matches!(
        c.network(&eve, &back.id).await,
        Err(AppError::NotFound(_))
    ));
    let reach = |from: &str, to: &str, port| ReachQuery {
        from: from.to_owned(),
        to: to.to_owned(),
        protocol: Protocol::Tcp,
        port,
    };
    let r = c
        .explain_reach(&ann, &reach(&web.id, &two.id, Some(5432)))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.as_str()),
        (true, "same-network"),
        "{}",
        r.reason
    );
    let r = c
        .explain_reach(&ann, &reach(&web.id, &vault.id, Some(5432)))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.as_str()),
        (false, "default-deny"),
        "{}",
        r.reason
    );
    let r = c
        .explain_reach(&ann, &reach(&web.id, &none.id, Some(22)))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.as_str()),
        (false, "no-card"),
        "{}",
        r.reason
    );
    assert!(matches!(
        c.explain_reach(&eve, &reach(&web.id, &two.id, Some(22)))
            .await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        c.explain_reach(&ann, &reach(&web.id, &two.id, None)).await,
        Err(AppError::Invalid(_))
    ));

    // Rules: made by those who manage the organization, checked, and they change the answer.
    let rule = |protocol, port_from, from_cidr: Option<&str>, from_network: Option<&str>| NewRule {
        protocol,
        port_from,
        port_to: None,
        from_cidr: from_cidr.map(str::to_owned),
        from_network: from_network.map(str::to_owned),
        from_tag: None,
        description: String::new(),
    };
    let tcp = RuleProtocol::Tcp;
    let r = c
        .add_network_rule(
            &bob,
            &back.id,
            &rule(tcp, Some(5432), None, Some(&default.id)),
            now,
        )
        .await;
    assert!(matches!(r, Err(AppError::Forbidden(_))), "{r:?}");
    for (bad, why) in [
        (rule(tcp, Some(5432), None, None), "no source"),
        (
            rule(tcp, Some(5432), Some("10.0.0.0/24"), Some(&default.id)),
            "two sources",
        ),
        (rule(tcp, Some(5432), None, Some(&back.id)), "itself"),
        (
            rule(tcp, Some(5432), None, Some(&theirs[0].id)),
            "another organization's network",
        ),
        (rule(tcp, Some(0), None, Some(&default.id)), "port 0"),
        (
            rule(RuleProtocol::Icmp, Some(1), None, Some(&default.id)),
            "icmp with a port",
        ),
        (
            rule(tcp, None, Some("10.0.0.1/24"), None),
            "not a first address",
        ),
    ] {
        let r = c.add_network_rule(&ann, &back.id, &bad, now).await;
        assert!(matches!(r, Err(AppError::Invalid(_))), "{why}: {r:?}");
    }
    let added = c
        .add_network_rule(
            &ann,
            &back.id,
            &rule(tcp, Some(5432), None, Some(&default.id)),
            now,
        )
        .await
        .unwrap();
    assert_eq!(added.summary, "tcp/5432 from network default");
    let listed = c.network_rules(&bob, &back.id).await.unwrap();
    assert_eq!(listed, vec![added.clone()]);
    let r = c
        .explain_reach(&ann, &reach(&web.id, &vault.id, Some(5432)))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.clone()),
        (true, format!("rule:{}", added.id)),
        "{}",
        r.reason
    );
    let r = c
        .explain_reach(&ann, &reach(&web.id, &vault.id, Some(22)))
        .await
        .unwrap();
    assert!(!r.allowed, "{}", r.reason);
    let r = c.remove_network_rule(&bob, &back.id, &added.id, now).await;
    assert!(matches!(r, Err(AppError::Forbidden(_))), "{r:?}");
    c.remove_network_rule(&ann, &back.id, &added.id, now)
        .await
        .unwrap();
    assert!(c.network_rules(&ann, &back.id).await.unwrap().is_empty());
    let r = c
        .explain_reach(&ann, &reach(&web.id, &vault.id, Some(5432)))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.as_str()),
        (false, "default-deny"),
        "{}",
        r.reason
    );
    c.delete_vm(&ann, &vault.id, now).await.unwrap();

    // A network with cards on it stays; without, it goes.
    let r = c.delete_network(&ann, &back.id, now).await;
    assert!(matches!(r, Err(AppError::Conflict(_))), "{r:?}");
    c.delete_vm(&ann, &two.id, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    c.delete_network(&ann, &back.id, now).await.unwrap();
    let names: Vec<String> = c
        .networks(&ann, &acme.id)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, vec!["default"]);
}

#[tokio::test]
async fn tags_are_set_by_network_managers_and_rules_by_tag_let_in_only_tagged_vms() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &acme.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let back = c
        .create_network(&ann, &network(&acme.id, "back", "10.1.0.0/24"), now)
        .await
        .unwrap();
    let mut in_back = NewVm::named(&acme.id, "vault");
    in_back.networks = Some(vec![back.id.clone()]);
    let vault = c.create_vm(&ann, &in_back, now).await.unwrap();
    let mut tagged = NewVm::named(&acme.id, "app");
    tagged.tags = vec!["db-client".into(), "web".into(), "web".into()];
    let app = c.create_vm(&ann, &tagged, now).await.unwrap();
    let web = c
        .create_vm(&bob, &NewVm::named(&acme.id, "web"), now)
        .await
        .unwrap();

    // Stored sorted and once; a member may neither tag at create nor later.
    let d = c.vm(&ann, &app.id).await.unwrap();
    assert_eq!(d.tags, ["db-client", "web"]);
    assert!(d.can_tag);
    assert!(!c.vm(&bob, &web.id).await.unwrap().can_tag);
    let mut sneaky = NewVm::named(&acme.id, "sneaky");
    sneaky.tags = vec!["db-client".into()];
    assert!(matches!(
        c.create_vm(&bob, &sneaky, now).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.set_vm_tags(&bob, &web.id, &["db-client".into()], now)
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        c.set_vm_tags(&ann, &web.id, &["Not A Tag".into()], now)
            .await,
        Err(AppError::Invalid(_))
    ));

    // A rule of back by tag: the tagged VM may reach vault on tcp/5432, the other may not.
    let rule = c
        .add_network_rule(
            &ann,
            &back.id,
            &NewRule {
                protocol: RuleProtocol::Tcp,
                port_from: Some(5432),
                port_to: None,
                from_cidr: None,
                from_network: None,
                from_tag: Some("db-client".into()),
                description: "clients of the database".into(),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(rule.source_kind, "tag");
    assert_eq!(rule.summary, "tcp/5432 from VMs tagged db-client");
    let pg = |from: &str| ReachQuery {
        from: from.to_owned(),
        to: vault.id.clone(),
        protocol: Protocol::Tcp,
        port: Some(5432),
    };
    let r = c.explain_reach(&ann, &pg(&app.id)).await.unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.clone()),
        (true, format!("rule:{}", rule.id)),
        "{}",
        r.reason
    );
    assert!(!c.explain_reach(&ann, &pg(&web.id)).await.unwrap().allowed);

    // Tagging web lets it in too; untagging app closes it again.
    assert_eq!(
        c.set_vm_tags(&ann, &web.id, &["db-client".into()], now)
            .await
            .unwrap(),
        ["db-client"]
    );
    assert!(c.explain_reach(&ann, &pg(&web.id)).await.unwrap().allowed);
    c.set_vm_tags(&ann, &app.id, &[], now).await.unwrap();
    assert!(c.vm(&ann, &app.id).await.unwrap().tags.is_empty());
    assert!(!c.explain_reach(&ann, &pg(&app.id)).await.unwrap().allowed);

    // A rule names exactly one source.
    let both = NewRule {
        protocol: RuleProtocol::Tcp,
        port_from: Some(22),
        port_to: None,
        from_cidr: Some("10.0.0.0/24".into()),
        from_network: None,
        from_tag: Some("web".into()),
        description: String::new(),
    };
    assert!(matches!(
        c.add_network_rule(&ann, &back.id, &both, now).await,
        Err(AppError::Invalid(_))
    ));
}

#[tokio::test]
async fn port_forwards_and_egress_are_changed_by_network_managers_only() {
    use model::networks::NewForward;
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let bob = caller(&c, "bob", false).await;
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    c.add_member(&ann, &acme.id, "bob", OrgRole::Member, now)
        .await
        .unwrap();
    let web = c
        .create_vm(&bob, &NewVm::named(&acme.id, "web"), now)
        .await
        .unwrap();
    let mut none = NewVm::named(&acme.id, "island");
    none.networks = Some(vec![]);
    let island = c.create_vm(&ann, &none, now).await.unwrap();
    let http = NewForward {
        protocol: RuleProtocol::Tcp,
        host_port: 8080,
        vm_port: 80,
        description: String::new(),
    };

    // A member who owns the VM may not open it to the outside; the network's manager may.
    assert!(matches!(
        c.add_forward(&bob, &web.id, &http, now).await,
        Err(AppError::Forbidden(_))
    ));
    let fwd = c.add_forward(&ann, &web.id, &http, now).await.unwrap();
    assert_eq!((fwd.host_port, fwd.vm_port), (8080, 80));
    assert_eq!(fwd.address, "10.0.0.10");
    assert_eq!(
        c.vm_forwards(&bob, &web.id).await.unwrap(),
        vec![fwd.clone()]
    );

    // A node port is one VM's; icmp, port 0 and a VM without a card are refused.
    assert!(matches!(
        c.add_forward(&ann, &web.id, &http, now).await,
        Err(AppError::Conflict(_))
    ));
    let mut bad = http.clone();
    bad.protocol = RuleProtocol::Icmp;
    assert!(matches!(
        c.add_forward(&ann, &web.id, &bad, now).await,
        Err(AppError::Invalid(_))
    ));
    bad = http.clone();
    bad.host_port = 0;
    assert!(matches!(
        c.add_forward(&ann, &web.id, &bad, now).await,
        Err(AppError::Invalid(_))
    ));
    assert!(matches!(
        c.add_forward(
            &ann,
            &island.id,
            &NewForward {
                host_port: 9090,
                ..http.clone()
            },
            now
        )
        .await,
        Err(AppError::Invalid(_))
    ));

    // Egress: off by default, turned on by the manager only.
    let net = c.networks(&ann, &acme.id).await.unwrap().remove(0);
    assert!(!net.egress);
    assert!(matches!(
        c.set_network_egress(&bob, &net.id, true, now).await,
        Err(AppError::Forbidden(_))
    ));
    let nowhere = uuid::Uuid::new_v4().to_string();
    let r = c.set_network_egress(&ann, &nowhere, true, now).await;
    assert!(
        matches!(r, Err(AppError::NotFound(_) | AppError::Forbidden(_))),
        "{r:?}"
    );
    c.set_network_egress(&ann, &net.id, true, now)
        .await
        .unwrap();
    assert!(c.networks(&ann, &acme.id).await.unwrap()[0].egress);

    // Removing the forward frees the port; a deleted VM's forwards go with it.
    assert!(matches!(
        c.remove_forward(&bob, &web.id, &fwd.id, now).await,
        Err(AppError::Forbidden(_))
    ));
    c.remove_forward(&ann, &web.id, &fwd.id, now).await.unwrap();
    assert!(c.vm_forwards(&ann, &web.id).await.unwrap().is_empty());
    c.add_forward(&ann, &web.id, &http, now).await.unwrap();
}
