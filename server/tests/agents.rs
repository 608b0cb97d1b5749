//! Hosts as network namespaces: each runs the real `strata agent` in its own namespace and
//! data directory, joined to this test's bridge by a veth pair, and dials the control plane's
//! agent listener on the bridge's address (which exists only while the test runs). Three nodes
//! join with one token each; a reused, an expired and a removed node's identity are refused;
//! an agent killed with SIGKILL is unreachable within 15 s and comes back with its identity.
//! VMs placed on a joined host run there, in its namespace, through its agent, and outlive the
//! agent's restart, take a port forwarded from their host's address, and get out of their node
//! only once their network has egress; another network's VM and a service's replica on the
//! other host are reached across networks and hosts (the service by its address, the VM only
//! through what a rule opens). A service's replicas spread over the hosts; a host cut off by its veth
//! fences (stops) its replica before the control plane starts the replacement, a host killed
//! with its QEMUs has its replica replaced too, both within 60 s, and the cut host heals. The
//! replicas' network spans the hosts: one reaches the others by name.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use chrono::Utc;
use control::auth::Caller;
use control::entities::join_token;
use control::testing::{caller, db, TestDb};
use control::Control;
use model::networks::{NewForward, NewNetwork, NewRule, Protocol, ReachQuery, RuleProtocol};
use model::nodes::{NodeStatus, NodeView};
use model::services::NewService;
use model::vms::{NewVm, VmState};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::common::until;

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// This test's bridge and namespaces; all are deleted on drop, also after a failure.
struct Lab {
    tag: String,
    subnet: String,
    hosts: Vec<String>,
    dir: PathBuf,
    agents: Vec<Child>,
}

impl Lab {
    fn new() -> Self {
        let pid = std::process::id();
        let tag = format!("{}", pid % 100_000);
        // 10.200-249.x.0/24 by process: the SQLite and PostgreSQL passes never share one.
        let subnet = format!("10.{}.{}", 200 + pid % 50, (pid / 50) % 250);
        let bridge = format!("sb{tag}");
        ip(&["link", "add", &bridge, "type", "bridge"]);
        // A fixed address: a bridge otherwise takes the lowest address of its ports, so adding
        // a host would change it under the hosts already talking to it (their ARP entries go
        // stale and their next connection to the control plane times out).
        let mac = format!(
            "02:53:{:02x}:{:02x}:{:02x}:01",
            (pid >> 16) & 0xff,
            (pid >> 8) & 0xff,
            pid & 0xff
        );
        ip(&["link", "set", &bridge, "address", &mac]);
        let lab = Self {
            dir: std::env::temp_dir().join(format!("strata-lab-{tag}")),
            tag,
            subnet,
            hosts: Vec::new(),
            agents: Vec::new(),
        };
        ip(&[
            "addr",
            "add",
            &format!("{}.1/24", lab.subnet),
            "dev",
            &bridge,
        ]);
        ip(&["link", "set", &bridge, "up"]);
        lab
    }

    fn bridge_addr(&self) -> String {
        format!("{}.1", self.subnet)
    }

    /// A namespace on the bridge at `<subnet>.<10 + n>`.
    fn host(&mut self, n: usize) -> String {
        let ns = format!("st{}h{n}", self.tag);
        let veth = format!("sv{}h{n}", self.tag);
        ip(&["netns", "add", &ns]);
        self.hosts.push(ns.clone());
        ip(&[
            "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        ip(&["link", "set", &veth, "master", &format!("sb{}", self.tag)]);
        ip(&["link", "set", &veth, "up"]);
        let addr = format!("{}.{}/24", self.subnet, 10 + n);
        ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"]);
        ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    fn data(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `strata agent` inside `ns`, logging to `<data>.log`.
    fn agent(&self, ns: &str, data: &Path, token: Option<&str>, region: &str) -> Child {
        std::fs::create_dir_all(data).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.with_extension("log"))
            .unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_strata"), "agent"])
            .args(["--region", region, "--label", "lab=yes", "--log", "info"])
            .arg("--data-dir")
            .arg(data)
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(token) = token {
            cmd.args(["--token", token]);
        }
        cmd.spawn().expect("run strata agent")
    }

    fn log(&self, data: &Path) -> String {
        std::fs::read_to_string(data.with_extension("log")).unwrap_or_default()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // What each agent said, to see why the test failed.
            for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "log") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    eprintln!("---- {} ----\n{text}", path.display());
                }
            }
        }
        for child in &mut self.agents {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The agents' QEMUs outlive them (an agent keeps its VMs running when it stops).
        hypervisor::testing::kill_vms_under(&self.dir);
        // And their networks' dnsmasq and namespaces.
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            hypervisor::testing::remove_node_networks(&entry.path().join("networks"));
        }
        for ns in &self.hosts {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &format!("sb{}", self.tag)])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn node(c: &Control, admin: &Caller, name: &str) -> NodeView {
    c.list_nodes(admin, c.now())
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("node {name} is listed"))
}

async fn wait_status(c: &Control, admin: &Caller, name: &str, want: NodeStatus, limit: Duration) {
    until(limit, &format!("{name} is {want:?}"), || async {
        node(c, admin, name).await.status == want
    })
    .await;
}

/// Waits for an agent to exit on its own and returns what it logged.
async fn exits(lab: &Lab, child: &mut Child, data: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "a refused agent exits with an error");
            return lab.log(data);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the agent should have stopped: {}",
            lab.log(data)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_join_once_are_refused_when_removed_and_are_unreachable_when_killed() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let admin = caller(&c, "root", true).await;
    let mut lab = Lab::new();
    let listen = format!("{}:0", lab.bridge_addr()).parse().unwrap();
    let agents = server::agents::bind(&c, listen, None, "localhost")
        .await
        .unwrap();
    assert!(agents
        .url
        .starts_with(&format!("wss://{}:", lab.bridge_addr())));
    tokio::spawn(server::agents::serve(c.clone(), agents));

    // Three hosts, one token each.
    let regions = ["eu", "eu", "us"];
    let mut tokens = Vec::new();
    for (n, region) in regions.iter().enumerate() {
        let ns = lab.host(n);
        let name = format!("host-{n}");
        let ticket = c.add_node(&admin, &name, Utc::now()).await.unwrap();
        let child = lab.agent(&ns, &lab.data(&name), Some(&ticket.token), region);
        lab.agents.push(child);
        tokens.push(ticket.token);
    }
    for (n, region) in regions.iter().enumerate() {
        let name = format!("host-{n}");
        wait_status(
            &c,
            &admin,
            &name,
            NodeStatus::Ready,
            Duration::from_secs(30),
        )
        .await;
        let view = node(&c, &admin, &name).await;
        assert_eq!(view.region, *region);
        assert_eq!(view.address, format!("{}.{}", lab.subnet, 10 + n));
        assert!(view.cpus >= 1 && view.memory_capacity_mb > 0, "{view:?}");
        assert_eq!(view.labels, ["lab=yes"]);
    }

    // host-0's token again, from a fresh data directory: refused.
    let reused = lab.data("reused");
    let mut child = lab.agent(&lab.hosts[0], &reused, Some(&tokens[0]), "eu");
    let log = exits(&lab, &mut child, &reused).await;
    assert!(log.contains("already used"), "{log}");

    // A token past its expiry: refused.
    let late = c.add_node(&admin, "host-late", Utc::now()).await.unwrap();
    join_token::Entity::update_many()
        .col_expr(
            join_token::Column::ExpiresAt,
            Expr::value(Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(join_token::Column::NodeId.eq(late.node_id.parse::<uuid::Uuid>().unwrap()))
        .exec(db(&c))
        .await
        .unwrap();
    let expired = lab.data("expired");
    let mut child = lab.agent(&lab.hosts[0], &expired, Some(&late.token), "eu");
    let log = exits(&lab, &mut child, &expired).await;
    assert!(log.contains("expired"), "{log}");

    // host-2 removed while linked: its agent is told and stops; dialing again is refused.
    let removed = node(&c, &admin, "host-2").await;
    c.remove_node(&admin, &removed.id, Utc::now())
        .await
        .unwrap();
    let data2 = lab.data("host-2");
    let mut linked = lab.agents.remove(2);
    let log = exits(&lab, &mut linked, &data2).await;
    assert!(log.contains("removed"), "{log}");
    let mut again = lab.agent(&lab.hosts[2], &data2, None, "us");
    let log = exits(&lab, &mut again, &data2).await;
    assert!(log.contains("removed"), "{log}");

    // host-1's agent killed: unreachable within 15 s of its last heartbeat.
    let killed_at = Instant::now();
    lab.agents[1].kill().unwrap();
    lab.agents[1].wait().unwrap();
    wait_status(
        &c,
        &admin,
        "host-1",
        NodeStatus::Unreachable,
        Duration::from_secs(25),
    )
    .await;
    let noticed = killed_at.elapsed();
    println!(
        "host-1 unreachable {:.1} s after its agent was killed",
        noticed.as_secs_f64()
    );
    assert!(node(&c, &admin, "host-0").await.status == NodeStatus::Ready);

    // Started again without a token, it links with the identity it kept.
    let data1 = lab.data("host-1");
    lab.agents[1] = lab.agent(&lab.hosts[1], &data1, None, "eu");
    wait_status(
        &c,
        &admin,
        "host-1",
        NodeStatus::Ready,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(c.agent_links().count(), 2);
}

/// A lab of `hosts` namespaces, `host-0` …, each with its agent joined in region `eu`, against
/// an agent listener on the lab's bridge; returns once every link is open.
async fn joined(c: &Control, admin: &Caller, hosts: usize) -> Lab {
    let mut lab = Lab::new();
    let listen = format!("{}:0", lab.bridge_addr()).parse().unwrap();
    let agents = server::agents::bind(c, listen, None, "localhost")
        .await
        .unwrap();
    tokio::spawn(server::agents::serve(c.clone(), agents));
    for n in 0..hosts {
        let ns = lab.host(n);
        let name = format!("host-{n}");
        let ticket = c.add_node(admin, &name, Utc::now()).await.unwrap();
        let child = lab.agent(&ns, &lab.data(&name), Some(&ticket.token), "eu");
        lab.agents.push(child);
    }
    until(Duration::from_secs(30), "every link is open", || async {
        c.agent_links().count() == hosts
    })
    .await;
    lab
}

/// The pid of the QEMU of VM `id` under the agent data directory `data`, when one runs.
fn qemu_pid(data: &Path, id: &str) -> Option<u32> {
    let text = std::fs::read_to_string(data.join("vms").join(id).join("qemu.pid")).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// The network namespace process `pid` runs in.
fn netns_of(pid: u32) -> String {
    let out = Command::new("ip")
        .args(["netns", "identify", &pid.to_string()])
        .output()
        .expect("run ip netns identify");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vms_run_on_joined_hosts_through_their_agents_and_outlive_an_agent_restart() {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let admin = caller(&c, "root", true).await;
    let mut lab = joined(&c, &admin, 2).await;
    for n in 0..2 {
        let name = format!("host-{n}");
        wait_status(
            &c,
            &admin,
            &name,
            NodeStatus::Ready,
            Duration::from_secs(30),
        )
        .await;
    }

    // A VM asked for in `eu` lands on a joined host and boots there.
    let org = c
        .create_organization(&admin, "acme", Utc::now())
        .await
        .unwrap();
    let mut new = NewVm::named(&org.id, "web");
    new.start = true;
    new.region = Some("eu".into());
    let vm = c.create_vm(&admin, &new, Utc::now()).await.unwrap();
    c.run_due_operations().await.unwrap();
    let detail = c.vm(&admin, &vm.id).await.unwrap();
    assert_eq!(detail.vm.state, VmState::Running, "{detail:?}");
    let host = detail.node.clone().expect("the VM is placed");
    let n: usize = host.trim_start_matches("host-").parse().unwrap();
    let data = lab.data(&host);

    // Its QEMU runs in that host's namespace, under that agent's data directory.
    let pid = qemu_pid(&data, &vm.id).expect("QEMU runs under the host's agent");
    assert_eq!(netns_of(pid), lab.hosts[n]);
    assert!(qemu_pid(&lab.data(&format!("host-{}", 1 - n)), &vm.id).is_none());

    // The console reads through the agent.
    let console = c.open_console(&admin, &vm.id, Utc::now()).await.unwrap();
    let (bytes, _) = console.read(0, 64 * 1024).await.unwrap();
    assert!(
        String::from_utf8_lossy(&bytes).contains("STRATA-GUEST-READY"),
        "the guest booted on {host}"
    );

    // A way in: a port of the host's address forwarded to the guest's port 80; a port that
    // is not forwarded answers nothing.
    let host_addr = format!("{}.{}", lab.subnet, 10 + n);
    let fwd = c
        .add_forward(
            &admin,
            &vm.id,
            &NewForward {
                protocol: RuleProtocol::Tcp,
                host_port: 18080,
                vm_port: 80,
                description: "the guest's page".into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(fwd.node_address.as_deref(), Some(host_addr.as_str()));
    let page = http_get(&host_addr, 18080).unwrap_or_else(|e| panic!("{host_addr}:18080: {e}"));
    assert!(page.contains("strata-guest web"), "{page}");
    assert!(
        http_get(&host_addr, 18081).is_err(),
        "an unforwarded port answered"
    );

    // A way out: the guest reaches the lab's bridge (outside its node) only once its network
    // has egress.
    let net = c.vm(&admin, &vm.id).await.unwrap().nics[0]
        .network_id
        .clone();
    let outside = format!("ping -c 1 -W 3 {}", lab.bridge_addr());
    assert!(
        !ask(&console, 11, &outside).await,
        "the guest got out without egress"
    );
    c.set_network_egress(&admin, &net, true, Utc::now())
        .await
        .unwrap();
    assert!(
        ask(&console, 12, &outside).await,
        "egress did not let the guest out"
    );
    c.set_network_egress(&admin, &net, false, Utc::now())
        .await
        .unwrap();
    assert!(
        !ask(&console, 13, &outside).await,
        "turning egress off left the way out open"
    );
    c.remove_forward(&admin, &vm.id, &fwd.id, Utc::now())
        .await
        .unwrap();
    assert!(
        http_get(&host_addr, 18080).is_err(),
        "a removed forward still answered"
    );

    // Across networks and hosts: `back`'s one VM and a service's one replica run on the other
    // host (this one cordoned meanwhile). web reaches the service's address, and db only
    // through what a rule opens (the routers of both hosts join both networks; what goes to
    // the other host leaves by the router's own leg, so the answer comes back to it).
    let other = format!("host-{}", 1 - n);
    let here = node(&c, &admin, &host).await.id;
    c.set_node_cordoned(&admin, &here, true, Utc::now())
        .await
        .unwrap();
    let back = c
        .create_network(
            &admin,
            &NewNetwork {
                organization_id: org.id.clone(),
                name: "back".into(),
                description: String::new(),
                cidr: "10.1.0.0/24".into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let mut new_db = NewVm::named(&org.id, "db");
    new_db.start = true;
    new_db.region = Some("eu".into());
    new_db.networks = Some(vec![back.id.clone()]);
    let db_vm = c.create_vm(&admin, &new_db, Utc::now()).await.unwrap();
    let mut new_api = NewService::named(&org.id, "api");
    new_api.region = "eu".into();
    let api = c
        .create_service(&admin, &new_api, Utc::now())
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    c.set_node_cordoned(&admin, &here, false, Utc::now())
        .await
        .unwrap();
    let db_detail = c.vm(&admin, &db_vm.id).await.unwrap();
    assert_eq!(db_detail.node.as_deref(), Some(other.as_str()));
    let db_addr = db_detail.nics[0].address.clone();
    let replicas = replica_nodes(&c, &admin, &api.id).await;
    assert!(
        matches!(replicas.as_slice(), [(_, on, VmState::Running)] if *on == other),
        "{replicas:?}"
    );
    let vip = c
        .service(&admin, &api.id)
        .await
        .unwrap()
        .address
        .expect("the service has its address");
    for id in [&db_vm.id, &replicas[0].0] {
        ready_console(&c, &admin, id).await;
    }
    let page =
        |addr: &str| format!("echo 'GET / HTTP/1.0' | nc -w 5 {addr} 80 | grep -q strata-guest");
    assert!(
        ask(&console, 21, &page(&vip)).await,
        "web does not reach the service's address {vip} served from {other}"
    );
    assert!(
        !ask(&console, 22, &page(&db_addr)).await,
        "web reached db on another network without a rule"
    );
    let reach = ReachQuery {
        from: vm.id.clone(),
        to: db_vm.id.clone(),
        protocol: Protocol::Tcp,
        port: Some(80),
    };
    assert!(!c.explain_reach(&admin, &reach).await.unwrap().allowed);
    let rule = c
        .add_network_rule(
            &admin,
            &back.id,
            &NewRule {
                protocol: RuleProtocol::Tcp,
                port_from: Some(80),
                port_to: None,
                from_cidr: None,
                from_network: Some(net.clone()),
                from_tag: None,
                description: "web to db".into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(c.explain_reach(&admin, &reach).await.unwrap().allowed);
    assert!(
        ask(&console, 23, &page(&db_addr)).await,
        "a tcp/80 rule did not open db ({db_addr}, on {other}) to web"
    );
    assert!(
        !ask(&console, 24, &format!("ping -c 1 -W 2 {db_addr}")).await,
        "a tcp/80 rule let icmp through"
    );
    c.remove_network_rule(&admin, &back.id, &rule.id, Utc::now())
        .await
        .unwrap();
    assert!(!c.explain_reach(&admin, &reach).await.unwrap().allowed);
    assert!(
        !ask(&console, 25, &page(&db_addr)).await,
        "removing the rule left db's port 80 open"
    );

    // Another organization's VM on this host, on its own default network with the same subnet
    // (and web's own address): it reaches nothing of acme's on the other host, not by address
    // and not by name.
    let rival = c
        .create_organization(&admin, "rival", Utc::now())
        .await
        .unwrap();
    let there = node(&c, &admin, &other).await.id;
    c.set_node_cordoned(&admin, &there, true, Utc::now())
        .await
        .unwrap();
    let mut new_spy = NewVm::named(&rival.id, "spy");
    new_spy.start = true;
    new_spy.region = Some("eu".into());
    let spy = c.create_vm(&admin, &new_spy, Utc::now()).await.unwrap();
    c.run_due_operations().await.unwrap();
    c.set_node_cordoned(&admin, &there, false, Utc::now())
        .await
        .unwrap();
    let spy_detail = c.vm(&admin, &spy.id).await.unwrap();
    assert_eq!(spy_detail.node.as_deref(), Some(host.as_str()));
    assert_eq!(
        spy_detail.nics[0].address, "10.0.0.10",
        "the same address as web"
    );
    let spy_console = ready_console(&c, &admin, &spy.id).await;
    let replica_addr = c.vm(&admin, &replicas[0].0).await.unwrap().nics[0]
        .address
        .clone();
    assert!(
        !ask(&spy_console, 31, &page(&replica_addr)).await,
        "another organization's VM reached acme's replica {replica_addr} on {other}"
    );
    assert!(
        !ask(&spy_console, 32, &page(&vip)).await,
        "another organization's VM reached acme's service address"
    );
    let replica_name = c.vm(&admin, &replicas[0].0).await.unwrap().vm.name;
    assert!(
        !ask(
            &spy_console,
            33,
            &format!("ping -c 1 -W 2 {replica_name}.default.internal")
        )
        .await,
        "another organization's VM resolved acme's replica's name"
    );

    // The agent killed (SIGKILL) and started again: its VM kept running and is adopted.
    lab.agents[n].kill().unwrap();
    lab.agents[n].wait().unwrap();
    until(
        Duration::from_secs(20),
        "the killed agent's link is closed",
        || async { c.agent_links().count() == 1 },
    )
    .await;
    assert_eq!(
        qemu_pid(&data, &vm.id),
        Some(pid),
        "a lost agent leaves its VMs running"
    );
    lab.agents[n] = lab.agent(&lab.hosts[n], &data, None, "eu");
    until(Duration::from_secs(30), "the agent links again", || async {
        c.agent_links().count() == 2
    })
    .await;
    c.sweep().await;
    let view = c.vm(&admin, &vm.id).await.unwrap().vm;
    assert_eq!(view.state, VmState::Running, "{view:?}");
    assert_eq!(
        qemu_pid(&data, &vm.id),
        Some(pid),
        "the same QEMU, not rebooted"
    );

    // Stopped and deleted through the agent: QEMU gone, files removed on the host.
    c.vm_action(&admin, &vm.id, model::vms::VmAction::Stop, Utc::now())
        .await
        .unwrap();
    c.run_due_operations().await.unwrap();
    assert_eq!(
        c.vm(&admin, &vm.id).await.unwrap().vm.state,
        VmState::Stopped
    );
    assert_eq!(qemu_pid(&data, &vm.id), None);
    c.delete_vm(&admin, &vm.id, Utc::now()).await.unwrap();
    c.run_due_operations().await.unwrap();
    assert!(!data.join("vms").join(&vm.id).exists());
}

/// The console of a VM whose guest has booted (waits up to 60 s for its marker).
async fn ready_console(
    c: &Control,
    admin: &Caller,
    id: &str,
) -> control::compute::console::Console {
    let console = c.open_console(admin, id, Utc::now()).await.unwrap();
    until(Duration::from_secs(60), "the guest is ready", || async {
        let (bytes, _) = console.read(0, 1 << 20).await.unwrap();
        String::from_utf8_lossy(&bytes).contains("STRATA-GUEST-READY")
    })
    .await;
    console
}

/// The node each replica of `service` is on, by replica VM id.
async fn replica_nodes(
    c: &Control,
    admin: &Caller,
    service: &str,
) -> Vec<(String, String, VmState)> {
    let d = c.service(admin, service).await.unwrap();
    let mut out = Vec::new();
    for r in d.replicas {
        // A replica may be removed between the two reads (a rollout replacing it): it is
        // simply no longer one of the service's.
        let node = match c.vm(admin, &r.vm_id).await {
            Ok(vm) => vm.node.unwrap_or_default(),
            Err(model::AppError::NotFound(_)) => continue,
            Err(e) => panic!("read replica {}: {e:?}", r.vm_id),
        };
        out.push((r.vm_id, node, r.state));
    }
    out
}

/// `GET /` from `addr:port` over plain TCP (HTTP/1.0), with a 5 s limit on each step.
fn http_get(addr: &str, port: u16) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let to = format!("{addr}:{port}").parse().expect("an address");
    let mut s = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut page = String::new();
    s.read_to_string(&mut page)?;
    Ok(page)
}

/// Runs `cmd` in a guest's shell through its console; true when it succeeded (the marker is
/// computed by the guest, so the echo of the typed line never matches it).
async fn ask(console: &control::compute::console::Console, n: u32, cmd: &str) -> bool {
    let line = format!("{cmd} >/dev/null 2>&1 && echo R-$(({n}+0))-YES || echo R-$(({n}+0))-NO\n");
    console.write(line.as_bytes()).await.unwrap();
    let start = Instant::now();
    loop {
        let (log, _) = console.read(0, 1 << 20).await.unwrap();
        let log = String::from_utf8_lossy(&log);
        if log.contains(&format!("R-{n}-YES")) {
            return true;
        }
        if log.contains(&format!("R-{n}-NO")) {
            return false;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no answer to {cmd:?}: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_of_a_cut_off_or_dead_host_are_fenced_then_replaced_within_a_minute_and_a_drain_moves_them(
) {
    let test_db = TestDb::new().await;
    let c = test_db.control().await;
    let admin = caller(&c, "root", true).await;
    let mut lab = joined(&c, &admin, 3).await;
    c.spawn_runner();
    c.spawn_node_watch();

    // Three replicas in `eu`: one on each host.
    let org = c
        .create_organization(&admin, "acme", Utc::now())
        .await
        .unwrap();
    let mut new = model::services::NewService::named(&org.id, "web");
    new.replicas = 3;
    new.region = "eu".into();
    let svc = c.create_service(&admin, &new, Utc::now()).await.unwrap();
    until(Duration::from_secs(90), "three replicas run", || async {
        let r = replica_nodes(&c, &admin, &svc.id).await;
        r.len() == 3 && r.iter().all(|(_, _, s)| *s == VmState::Running)
    })
    .await;
    let first = replica_nodes(&c, &admin, &svc.id).await;
    let mut hosts: Vec<&str> = first.iter().map(|(_, n, _)| n.as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(
        hosts,
        ["host-0", "host-1", "host-2"],
        "spread over the hosts"
    );
    let on = |host: &str| first.iter().find(|(_, n, _)| n == host).unwrap().0.clone();
    let (cut_vm, dead_vm) = (on("host-0"), on("host-1"));

    // One network across the three hosts (VXLAN between their namespaces): host-0's replica
    // reaches the others by name, over ICMP and HTTP, as if on one switch.
    let name_of = |id: String| {
        let c = &c;
        let admin = &admin;
        async move { c.vm(admin, &id).await.unwrap().vm.name }
    };
    let (far_1, far_2) = (name_of(on("host-1")).await, name_of(on("host-2")).await);
    let console = c.open_console(&admin, &cut_vm, Utc::now()).await.unwrap();
    assert!(
        ask(
            &console,
            1,
            &format!("ping -c 1 -W 5 {far_1}.default.internal")
        )
        .await,
        "host-0's replica pings {far_1} on host-1 by name"
    );
    assert!(
        ask(
            &console,
            2,
            &format!("echo 'GET / HTTP/1.0' | nc -w 5 {far_2}.default.internal 80 | grep -q strata-guest")
        )
        .await,
        "host-0's replica fetches the page of {far_2} on host-2"
    );
    assert!(
        !ask(&console, 3, "ping -c 1 -W 2 nobody.default.internal").await,
        "a name nobody has does not answer"
    );
    let cut_pid = qemu_pid(&lab.data("host-0"), &cut_vm).expect("host-0's replica runs");

    // host-0 cut off (its veth down; agent and QEMU live on), host-1 dies with its QEMUs.
    let lost_at = Instant::now();
    ip(&["link", "set", &format!("sv{}h0", lab.tag), "down"]);
    lab.agents[1].kill().unwrap();
    lab.agents[1].wait().unwrap();
    hypervisor::testing::kill_vms_under(&lab.data("host-1"));

    // Watch both sides: when host-0's agent stops its replica (fencing), when each replacement
    // row appears, when the service runs three replicas again.
    let mut fenced_at = None;
    let mut unknown_seen = false;
    let mut replaced_at = None;
    let back_at = loop {
        assert!(
            lost_at.elapsed() < Duration::from_secs(60),
            "the service is not back to three running replicas within 60 s: {:?}",
            replica_nodes(&c, &admin, &svc.id).await
        );
        if fenced_at.is_none() && qemu_pid(&lab.data("host-0"), &cut_vm).is_none() {
            fenced_at = Some(lost_at.elapsed());
        }
        let now = replica_nodes(&c, &admin, &svc.id).await;
        if now
            .iter()
            .any(|(id, _, s)| *id == cut_vm && *s == VmState::Unknown)
        {
            unknown_seen = true;
        }
        let fresh: Vec<_> = now
            .iter()
            .filter(|(id, _, _)| first.iter().all(|(old, _, _)| old != id))
            .collect();
        if replaced_at.is_none() && !fresh.is_empty() {
            replaced_at = Some(lost_at.elapsed());
            assert!(
                fenced_at.is_some(),
                "a replacement started while the cut-off replica still ran (pid {cut_pid})"
            );
        }
        if fresh.len() == 2 && now.len() == 3 && now.iter().all(|(_, _, s)| *s == VmState::Running)
        {
            assert!(fresh.iter().all(|(_, n, _)| n == "host-2"), "{now:?}");
            break lost_at.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (fenced_at, replaced_at) = (fenced_at.unwrap(), replaced_at.unwrap());
    println!(
        "host-0 cut off and host-1 killed: host-0 fenced its replica after {:.1} s, replacements \
         started after {:.1} s, three replicas ran again after {:.1} s",
        fenced_at.as_secs_f64(),
        replaced_at.as_secs_f64(),
        back_at.as_secs_f64()
    );
    assert!(
        unknown_seen,
        "the cut-off replica showed unknown while its host was unreachable"
    );
    assert!(fenced_at < replaced_at);
    let log = lab.log(&lab.data("host-0"));
    assert!(log.contains("fenced"), "{log}");
    assert!(!cut_pid.to_string().is_empty() && !Path::new(&format!("/proc/{cut_pid}")).exists());

    // The link comes back: host-0 links again, its fenced replica stays stopped, the service
    // keeps exactly three replicas.
    ip(&["link", "set", &format!("sv{}h0", lab.tag), "up"]);
    wait_status(
        &c,
        &admin,
        "host-0",
        NodeStatus::Ready,
        Duration::from_secs(40),
    )
    .await;
    until(Duration::from_secs(40), "host-0 links again", || async {
        c.agent_links().count() == 2
    })
    .await;
    c.sweep().await;
    assert_eq!(qemu_pid(&lab.data("host-0"), &cut_vm), None);
    let healed = replica_nodes(&c, &admin, &svc.id).await;
    assert_eq!(healed.len(), 3, "{healed:?}");
    assert!(
        healed.iter().all(|(_, _, s)| *s == VmState::Running),
        "{healed:?}"
    );
    assert!(healed
        .iter()
        .all(|(id, _, _)| *id != cut_vm && *id != dead_vm));

    // Draining host-2 moves its replicas, one by one, to host-0 (the other `eu` host up).
    let host2 = node(&c, &admin, "host-2").await;
    let report = c.drain_node(&admin, &host2.id, Utc::now()).await.unwrap();
    assert_eq!(report.moving.len(), 3, "{report:?}");
    assert!(report.staying.is_empty(), "{report:?}");
    until(
        Duration::from_secs(90),
        "the replicas left host-2",
        || async {
            let r = replica_nodes(&c, &admin, &svc.id).await;
            r.len() == 3
                && r.iter()
                    .all(|(_, n, s)| n == "host-0" && *s == VmState::Running)
        },
    )
    .await;
    assert_eq!(
        node(&c, &admin, "host-2").await.status,
        NodeStatus::Draining
    );
    for (id, _, _) in &healed {
        assert_eq!(qemu_pid(&lab.data("host-2"), id), None, "{id} left host-2");
    }
}
