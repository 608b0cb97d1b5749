//! VM networks with real QEMU: two VMs of one organization reach each other by name and over
//! HTTP on its default network, while a VM of another organization, with the same subnet and
//! the same address as one of them, reaches neither. A VM on another network of the
//! organization is refused until a rule lets traffic in, then reachable on that port only, and
//! closed again when the rule goes; the explanation agrees with each answer. A service's one
//! address reaches its replicas in turn, and a request loop against it drops nothing while a
//! rolling deployment replaces them.

use std::time::Duration;

use chrono::Utc;
use control::testing::{caller, TestDb};
use control::Control;
use model::networks::{NewNetwork, NewRule, Protocol, ReachQuery, RuleProtocol};
use model::services::NewService;
use model::vms::{NewVm, VmState};

const ANSWER: Duration = Duration::from_secs(90);

/// Runs `cmd` in the guest's shell; true when it succeeded (the marker is computed by the
/// guest, so the echo of the typed line never matches it).
async fn ask(c: &Control, id: &str, n: u32, cmd: &str) -> bool {
    let d = control::testing::driver(c);
    let line = format!("{cmd} >/dev/null 2>&1 && echo R-$(({n}+0))-YES || echo R-$(({n}+0))-NO\n");
    d.console_write(id, line.as_bytes()).await.unwrap();
    d.wait_for_console(id, &format!("R-{n}-"), ANSWER)
        .await
        .unwrap_or_else(|e| panic!("no answer to {cmd:?}: {e}"));
    let (log, _) = d.console_read(id, 0, 1 << 20).await.unwrap();
    String::from_utf8_lossy(&log).contains(&format!("R-{n}-YES"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vms_of_one_organization_reach_each_other_by_name_and_another_organizations_do_not() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let eve = caller(&c, "eve", false).await;
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    let other = c.create_organization(&eve, "other", now).await.unwrap();
    let start = |org: &str, name: &str| {
        let mut n = NewVm::named(org, name);
        n.start = true;
        n
    };
    let back = c
        .create_network(
            &ann,
            &NewNetwork {
                organization_id: acme.id.clone(),
                name: "back".into(),
                description: String::new(),
                cidr: "10.1.0.0/24".into(),
            },
            now,
        )
        .await
        .unwrap();
    let web = c
        .create_vm(&ann, &start(&acme.id, "web"), now)
        .await
        .unwrap();
    let db1 = c
        .create_vm(&ann, &start(&acme.id, "db"), now)
        .await
        .unwrap();
    let mut in_back = start(&acme.id, "vault");
    in_back.networks = Some(vec![back.id.clone()]);
    let vault = c.create_vm(&ann, &in_back, now).await.unwrap();
    // Eve's VM has web's address, 10.0.0.10, on her own default network.
    let spy = c
        .create_vm(&eve, &start(&other.id, "spy"), now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    let d = control::testing::driver(&c);
    for (who, vm, line) in [
        (&ann, &web, "STRATA-NET: eth0 10.0.0.10 web"),
        (&ann, &db1, "STRATA-NET: eth0 10.0.0.11 db"),
        (&eve, &spy, "STRATA-NET: eth0 10.0.0.10 spy"),
        (&ann, &vault, "STRATA-NET: eth0 10.1.0.10 vault"),
    ] {
        assert_eq!(c.vm(who, &vm.id).await.unwrap().vm.state, VmState::Running);
        d.wait_for_console(&vm.id, line, ANSWER)
            .await
            .unwrap_or_else(|e| panic!("{} got no address: {e}", vm.name));
        d.wait_for_console(&vm.id, "STRATA-GUEST-READY", ANSWER)
            .await
            .unwrap();
    }
    assert!(
        ask(&c, &web.id, 1, "ping -c1 -W5 db.default.internal").await,
        "web cannot ping db by name"
    );
    assert!(
        ask(
            &c,
            &web.id,
            2,
            "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 db 80 | grep -q 'strata-guest db'"
        )
        .await,
        "web does not get db's page"
    );
    assert!(
        !ask(&c, &spy.id, 3, "ping -c1 -W3 10.0.0.11").await,
        "eve's VM reached db"
    );
    assert!(
        !ask(&c, &spy.id, 4, "nslookup db.default.internal").await,
        "eve's VM resolved db"
    );

    // The explanation agrees with what the guests found (asked by an administrator, who sees
    // all three).
    let root = caller(&c, "root", true).await;
    let reach = |from: &str, to: &str| ReachQuery {
        from: from.to_owned(),
        to: to.to_owned(),
        protocol: Protocol::Icmp,
        port: None,
    };
    let r = c
        .explain_reach(&root, &reach(&web.id, &db1.id))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.as_str()),
        (true, "same-network"),
        "{}",
        r.reason
    );
    let r = c
        .explain_reach(&root, &reach(&spy.id, &db1.id))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.as_str()),
        (false, "other-organization"),
        "{}",
        r.reason
    );

    // Another network of the organization: its gateway answers, it takes nothing until a rule
    // lets tcp/80 in from the default network, then that port only, and nothing once the rule
    // is gone.
    let http =
        "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 10.1.0.10 80 | grep -q 'strata-guest vault'";
    let tcp80 = |from: &str, to: &str| ReachQuery {
        from: from.to_owned(),
        to: to.to_owned(),
        protocol: Protocol::Tcp,
        port: Some(80),
    };
    assert!(
        ask(&c, &web.id, 5, "ping -c1 -W5 10.0.0.1").await,
        "the gateway does not answer"
    );
    assert!(
        !ask(&c, &web.id, 6, http).await,
        "back took http with no rule"
    );
    assert!(
        !c.explain_reach(&ann, &tcp80(&web.id, &vault.id))
            .await
            .unwrap()
            .allowed
    );
    let rule = c
        .add_network_rule(
            &ann,
            &back.id,
            &NewRule {
                protocol: RuleProtocol::Tcp,
                port_from: Some(80),
                port_to: None,
                from_cidr: None,
                from_network: Some(web_network(&c, &ann, &web.id).await),
                from_tag: None,
                description: "web to vault".into(),
            },
            now,
        )
        .await
        .unwrap();
    assert!(
        ask(&c, &web.id, 7, http).await,
        "the rule did not open tcp/80"
    );
    assert!(
        !ask(&c, &web.id, 8, "ping -c1 -W3 10.1.0.10").await,
        "the rule opened icmp too"
    );
    let r = c
        .explain_reach(&ann, &tcp80(&web.id, &vault.id))
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.decided_by.clone()),
        (true, format!("rule:{}", rule.id)),
        "{}",
        r.reason
    );
    c.remove_network_rule(&ann, &back.id, &rule.id, now)
        .await
        .unwrap();
    assert!(
        !ask(&c, &web.id, 9, http).await,
        "removing the rule left tcp/80 open"
    );
    assert!(
        !c.explain_reach(&ann, &tcp80(&web.id, &vault.id))
            .await
            .unwrap()
            .allowed
    );

    for (who, vm) in [(&ann, &web), (&ann, &db1), (&eve, &spy), (&ann, &vault)] {
        c.delete_vm(who, &vm.id, now).await.unwrap();
    }
    c.run_due_operations().await.unwrap();
}

/// The id of the network a VM's first card is on.
async fn web_network(c: &Control, who: &control::auth::Caller, vm: &str) -> String {
    c.vm(who, vm).await.unwrap().nics[0].network_id.clone()
}

/// The two numbers after the last `<tag>-` line the guest printed as `<tag>-<a>-<b>-`.
fn counts(log: &str, tag: &str) -> Option<(u64, u64)> {
    log.rmatch_indices(&format!("{tag}-")).find_map(|(at, m)| {
        let mut parts = log[at + m.len()..].split('-');
        let a = parts.next()?.parse().ok()?;
        let b = parts.next()?.parse().ok()?;
        Some((a, b))
    })
}

async fn console_text(c: &Control, id: &str) -> String {
    let (log, _) = control::testing::driver(c)
        .console_read(id, 0, 1 << 22)
        .await
        .unwrap();
    String::from_utf8_lossy(&log).into_owned()
}

/// Waits until the client's loop has sent at least `n` requests; returns (sent, failed).
async fn loop_reached(c: &Control, id: &str, n: u64) -> (u64, u64) {
    let start = std::time::Instant::now();
    loop {
        let text = console_text(c, id).await;
        if let Some((sent, failed)) = counts(&text, "LOOP-AT") {
            if sent >= n {
                return (sent, failed);
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "the request loop did not reach {n} requests:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_deployment_behind_the_service_address_drops_no_request() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let now = Utc::now();
    let ann = caller(&c, "ann", false).await;
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    let mut new = NewService::named(&acme.id, "web");
    new.replicas = 2;
    new.config = r#"{"v": 1}"#.into();
    let svc = c.create_service(&ann, &new, now).await.unwrap();
    let mut client = NewVm::named(&acme.id, "client");
    client.start = true;
    let client = c.create_vm(&ann, &client, now).await.unwrap();
    c.run_due_operations().await.unwrap();
    let d = c.service(&ann, &svc.id).await.unwrap();
    let vip = d.address.clone().expect("the service got its address");
    assert_eq!(d.network.as_deref(), Some("default"));
    assert_eq!(d.replicas.len(), 2, "{:?}", d.replicas);
    control::testing::driver(&c)
        .wait_for_console(&client.id, "STRATA-GUEST-READY", ANSWER)
        .await
        .unwrap();

    // Two requests to the address: one answered by each replica.
    let get = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {vip} 80");
    let both = format!(
        "(a=$({get}; {get}); echo \"$a\" | grep -q 'strata-guest {}' && echo \"$a\" | grep -q 'strata-guest {}')",
        d.replicas[0].name, d.replicas[1].name
    );
    assert!(
        ask(&c, &client.id, 1, &both).await,
        "the address did not reach both replicas"
    );

    // The loop: one new connection per request, until told to stop; it prints its counts every
    // 100 requests and at the end.
    let looping = format!(
        "(i=0; f=0; while [ ! -f /tmp/stop ]; do {get} | grep -q strata-guest || f=$((f+1)); \
         i=$((i+1)); [ $((i % 100)) -eq 0 ] && echo LOOP-AT-$i-$f-; done; echo LOOP-END-$i-$f-) &\n"
    );
    let d2 = control::testing::driver(&c);
    d2.console_write(&client.id, looping.as_bytes())
        .await
        .unwrap();
    let (before, _) = loop_reached(&c, &client.id, 100).await;

    // A new configuration rolls both replicas while the loop runs.
    c.save_service_config(&ann, &svc.id, r#"{"v": 2}"#, true, now)
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    let rolled = c.service(&ann, &svc.id).await.unwrap();
    assert!(
        rolled
            .replicas
            .iter()
            .all(|r| r.config_version == 2 && r.state == VmState::Running),
        "{:?}",
        rolled.replicas
    );
    assert_eq!(
        rolled.address.as_deref(),
        Some(vip.as_str()),
        "the address stays"
    );
    let (after, _) = counts(&console_text(&c, &client.id).await, "LOOP-AT").unwrap_or((0, 0));
    loop_reached(&c, &client.id, (after + 100).max(1000)).await;
    d2.console_write(&client.id, b"touch /tmp/stop\n")
        .await
        .unwrap();
    let start = std::time::Instant::now();
    let (sent, failed) = loop {
        let text = console_text(&c, &client.id).await;
        if let Some(end) = counts(&text, "LOOP-END") {
            break end;
        }
        assert!(start.elapsed() < ANSWER, "no loop end:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "service address {vip} during a rolling deployment of 2 replicas: {sent} requests sent, \
         {failed} failed ({} sent while the deployment ran)",
        after.saturating_sub(before)
    );
    assert!(sent >= 1000, "only {sent} requests");
    assert_eq!(failed, 0, "{failed} of {sent} requests failed");
    assert!(
        ask(&c, &client.id, 2, &format!("{get} | grep -q 'v.:2'")).await,
        "the address serves the new configuration"
    );
}
