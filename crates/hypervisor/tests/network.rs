//! VM networks on a real node: the node is a network namespace this test makes, with two
//! networks of the same subnet (as two organizations may have). Guests get their pinned
//! addresses by DHCP, reach each other by name and over HTTP on their own network, and see
//! nothing of the other network; a deleted VM's tap, lease and name are gone, and its address
//! serves the next card at once. An
//! organization's router forwards between its networks only what a rule allows.

mod common;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::guest;
use hypervisor::net::{bridge_name, tap_name};
use hypervisor::net::{RouterSpec, RuleProtocol, RuleSource, RuleSpec};
use hypervisor::{Boot, Driver, MachineSpec, NetPlane, NetworkSpec, NicSpec, QemuDriver};

const BOOT: Duration = Duration::from_secs(120);
const ANSWER: Duration = Duration::from_secs(60);
/// An HTTP request from the guest's shell, followed by a host and port (busybox's `wget` is
/// of no use: the static build in the guest crashes on any URL).
const GET: &str = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5";

/// The node: its namespace, its directory, and everything made under them, removed when
/// dropped (also after a failed assertion).
struct Node {
    ns: String,
    tag: String,
    dir: PathBuf,
}

impl Node {
    /// `which` tells apart the nodes of this file's tests, which run at once.
    fn new(which: char) -> Self {
        let tag = format!("stt{}{which}", std::process::id() % 100_000);
        let ns = format!("{tag}-node");
        let dir = std::env::temp_dir().join(format!("strata-net-{tag}"));
        let ok = Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "`ip netns add {ns}` failed: these tests need root and iproute2"
        );
        Self { ns, tag, dir }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        hypervisor::testing::kill_vms_under(&self.dir);
        hypervisor::testing::remove_node_networks(&self.dir.join("networks"));
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn network(vni: u32, name: &str) -> NetworkSpec {
    subnet(vni, name, 0)
}

/// A /24 network: 10.<third>.0.0.
fn subnet(vni: u32, name: &str, third: u8) -> NetworkSpec {
    NetworkSpec {
        vni,
        name: name.into(),
        subnet: Ipv4Addr::new(10, third, 0, 0),
        prefix: 24,
        gateway: Ipv4Addr::new(10, third, 0, 1),
        dns: Ipv4Addr::new(10, third, 0, 2),
    }
}

fn vm(id: &str, host: &str, last: u8, net: &NetworkSpec) -> MachineSpec {
    let g = guest();
    MachineSpec {
        id: id.to_owned(),
        cpus: 1,
        memory_mb: 128,
        disk_gb: 1,
        boot: Boot::Kernel {
            kernel: g.join("vmlinuz"),
            initrd: g.join("initrd.img"),
            cmdline: String::new(),
        },
        config: Some(format!(r#"{{"version":{last}}}"#)),
        fenced: false,
        nics: vec![NicSpec {
            mac: format!("52:54:00:00:{:02x}:{last:02x}", net.vni % 256),
            address: Ipv4Addr::new(10, net.subnet.octets()[1], 0, last),
            hostname: host.to_owned(),
            network: net.clone(),
        }],
        router: None,
    }
}

/// Runs `cmd` in the guest's shell; true when it succeeded. The answer's marker is computed by
/// the guest (`$((n+0))`), so the echo of the typed line never matches it.
async fn ask(d: &QemuDriver, id: &str, n: u32, cmd: &str) -> bool {
    let line = format!("{cmd} >/dev/null 2>&1 && echo R-$(({n}+0))-YES || echo R-$(({n}+0))-NO\n");
    d.console_write(id, line.as_bytes()).await.unwrap();
    d.wait_for_console(id, &format!("R-{n}-"), ANSWER)
        .await
        .unwrap_or_else(|e| panic!("no answer to {cmd:?} from {id}: {e}"));
    let (log, _) = d.console_read(id, 0, 1 << 20).await.unwrap();
    String::from_utf8_lossy(&log).contains(&format!("R-{n}-YES"))
}

fn exists_in(ns: &str, dev: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "link", "show", "dev", dev])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn guests_reach_their_own_network_by_name_and_nothing_of_another_with_the_same_subnet() {
    let node = Node::new('a');
    let plane = Arc::new(NetPlane::new(
        node.dir.join("networks"),
        &node.tag,
        Some(node.ns.clone()),
    ));
    let d = QemuDriver::new(node.dir.join("vms")).with_network(plane.clone());
    let pid = std::process::id();
    let (blue, red) = (
        network(0x10_0000 + pid % 1000, "blue"),
        network(0x20_0000 + pid % 1000, "red"),
    );
    let (a, b, c) = (format!("{pid}-a"), format!("{pid}-b"), format!("{pid}-c"));
    let specs = [
        vm(&a, "a", 10, &blue),
        vm(&b, "b", 11, &blue),
        vm(&c, "c", 10, &red),
    ];
    for spec in &specs {
        d.start(spec).await.unwrap();
    }
    for (id, line) in [
        (&a, "STRATA-NET: eth0 10.0.0.10 a"),
        (&b, "STRATA-NET: eth0 10.0.0.11 b"),
        (&c, "STRATA-NET: eth0 10.0.0.10 c"),
    ] {
        d.wait_for_console(id, line, BOOT)
            .await
            .unwrap_or_else(|e| panic!("{id} did not get its address: {e}"));
        d.wait_for_console(id, "STRATA-GUEST-READY", BOOT)
            .await
            .unwrap();
    }
    // Nothing of a VM network has an address in the node's namespace.
    for net in [&blue, &red] {
        assert!(exists_in(&node.ns, &bridge_name(net.vni)));
    }
    let addrs = Command::new("ip")
        .args(["-n", &node.ns, "-4", "addr", "show"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&addrs.stdout).contains("10.0.0."),
        "the node's namespace has an address of a VM network"
    );

    // On its own network: by name, and over HTTP (b's page names b and its configuration).
    assert!(
        ask(&d, &a, 1, "ping -c1 -W5 b.blue.internal").await,
        "a cannot ping b by name"
    );
    assert!(
        ask(&d, &a, 2, &format!("{GET} b 80 | grep -q 'strata-guest b' && {GET} b.blue.internal 80 | grep -q '\"version\":11'")).await,
        "a does not get b's page"
    );
    // The other network, with the same subnet, sees neither a nor b: not b's address, not its
    // name (red's DNS answers only red's names).
    assert!(
        !ask(&d, &c, 3, "ping -c1 -W3 10.0.0.11").await,
        "c reached b's address"
    );
    assert!(
        !ask(&d, &c, 4, "nslookup b.blue.internal").await,
        "c resolved b's name"
    );
    assert!(
        !ask(
            &d,
            &c,
            5,
            &format!("{GET} 10.0.0.11 80 | grep -q strata-guest")
        )
        .await,
        "c got a page from blue"
    );
    // c's own name resolves to its own address on red.
    assert!(ask(&d, &c, 6, "nslookup c.red.internal | grep -q 10.0.0.10").await);

    // Deleting b removes its tap, lease and name: a no longer resolves it.
    d.delete(&b).await.unwrap();
    assert!(!exists_in(&node.ns, &tap_name(&b, 0)), "b's tap is left");
    assert!(
        exists_in(&node.ns, &tap_name(&a, 0)),
        "a's tap went with b's"
    );
    assert!(
        !ask(&d, &a, 7, "nslookup b.blue.internal").await,
        "b's name outlived it"
    );
    // Its address goes to the next card at once (its lease ended with it).
    let b2 = format!("{pid}-b2");
    let mut again = vm(&b2, "b2", 11, &blue);
    again.nics[0].mac = "52:54:00:99:99:11".into();
    d.start(&again).await.unwrap();
    d.wait_for_console(&b2, "STRATA-NET: eth0 10.0.0.11 b2", BOOT)
        .await
        .unwrap_or_else(|e| panic!("b's address was not handed on: {e}"));

    for id in [&a, &c, &b2] {
        d.delete(id).await.unwrap();
    }
    plane.remove_all().await.unwrap();
    for net in [&blue, &red] {
        assert!(
            !exists_in(&node.ns, &bridge_name(net.vni)),
            "a bridge is left"
        );
    }
    assert!(plane.networks().is_empty());
}

#[tokio::test]
async fn an_organizations_router_forwards_between_its_networks_only_what_a_rule_allows() {
    let node = Node::new('b');
    let plane = Arc::new(NetPlane::new(
        node.dir.join("networks"),
        &node.tag,
        Some(node.ns.clone()),
    ));
    let d = QemuDriver::new(node.dir.join("vms")).with_network(plane.clone());
    let pid = std::process::id();
    let (front, back) = (
        subnet(0x30_0000 + pid % 1000, "front", 0),
        subnet(0x40_0000 + pid % 1000, "back", 1),
    );
    let (web, db) = (format!("{pid}-web"), format!("{pid}-db"));
    d.start(&vm(&web, "web", 10, &front)).await.unwrap();
    d.start(&vm(&db, "db", 10, &back)).await.unwrap();
    for (id, line) in [
        (&web, "STRATA-NET: eth0 10.0.0.10 web"),
        (&db, "STRATA-NET: eth0 10.1.0.10 db"),
    ] {
        d.wait_for_console(id, line, BOOT)
            .await
            .unwrap_or_else(|e| panic!("{id} did not get its address: {e}"));
        d.wait_for_console(id, "STRATA-GUEST-READY", BOOT)
            .await
            .unwrap();
    }
    let router = |rules: Vec<RuleSpec>| RouterSpec {
        id: format!("t{}", pid % 100_000),
        networks: vec![front.clone(), back.clone()],
        rules,
        fabric: vec![],
        services: vec![],
        forwards: vec![],
        egress: vec![],
    };
    let http = |to: &str| format!("{GET} {to} 80 | grep -q strata-guest");

    // No rule: the gateway answers, the other network does not.
    plane.apply_router(&router(vec![])).await.unwrap();
    assert!(
        ask(&d, &web, 11, "ping -c1 -W5 10.0.0.1").await,
        "web's gateway does not answer"
    );
    assert!(
        !ask(&d, &web, 12, "ping -c1 -W3 10.1.0.10").await,
        "back took icmp with no rule"
    );
    assert!(
        !ask(&d, &web, 13, &http("10.1.0.10")).await,
        "back took http with no rule"
    );

    // tcp/80 from front into back: that port only, and only that way.
    let http_from_front = RuleSpec {
        to: back.vni,
        protocol: RuleProtocol::Tcp,
        ports: Some((80, 80)),
        from: RuleSource::Network { vni: front.vni },
    };
    plane
        .apply_router(&router(vec![http_from_front]))
        .await
        .unwrap();
    assert!(
        ask(&d, &web, 14, &http("10.1.0.10")).await,
        "the rule did not open tcp/80"
    );
    assert!(
        !ask(&d, &web, 15, "ping -c1 -W3 10.1.0.10").await,
        "the rule opened icmp too"
    );
    assert!(
        !ask(&d, &db, 16, &http("10.0.0.10")).await,
        "the rule opened the other way"
    );

    // icmp from one address: a rule by CIDR.
    let ping_from_web = RuleSpec {
        to: back.vni,
        protocol: RuleProtocol::Icmp,
        ports: None,
        from: RuleSource::Cidr {
            addr: Ipv4Addr::new(10, 0, 0, 10),
            prefix: 32,
        },
    };
    plane
        .apply_router(&router(vec![ping_from_web]))
        .await
        .unwrap();
    assert!(
        ask(&d, &web, 17, "ping -c1 -W5 10.1.0.10").await,
        "the CIDR rule did not open icmp"
    );
    assert!(
        !ask(&d, &web, 18, &http("10.1.0.10")).await,
        "replacing the rules left tcp/80 open"
    );

    // No rules again: closed.
    plane.apply_router(&router(vec![])).await.unwrap();
    assert!(
        !ask(&d, &web, 19, "ping -c1 -W3 10.1.0.10").await,
        "removing the rule left icmp open"
    );

    for id in [&web, &db] {
        d.delete(id).await.unwrap();
    }
    plane.remove_router(&router(vec![]).id).await.unwrap();
    plane.remove_all().await.unwrap();
}
