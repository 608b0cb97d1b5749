//! [`NetPlane`]: makes networks and network cards on this node, and removes them.
//!
//! Everything is made idempotently (a node restarted midway finds what it made and finishes
//! it), under one lock per node. Each network keeps its files in `<dir>/<vni>/`: `dhcp/<tap>`
//! (the pinned lease of one card), `opts/<tap>` (the name its guest is given) and
//! `names/<tap>` (`address fqdn name`), all read by dnsmasq as they change; its pid file,
//! leases and log.

use std::path::{Path, PathBuf};

use super::fabric::{self, Span};
use super::names::{self, bridge_name, service_netns, service_veth, tap_name, SERVICE_INSIDE};
use super::router::{
    gateway_dev, node_table, router_netns, uplink_addresses, uplink_dev, uplink_outer, RouterSpec,
    UPLINK_INSIDE,
};
use super::run::{self, del_link, ip, link_exists, netns_exists, NetError};
use super::{NetworkSpec, NicSpec};

/// The networks of one node.
pub struct NetPlane {
    /// The namespace the node's bridges and taps live in; None for this process's own (a node
    /// in production, or an agent a test started inside a namespace).
    netns: Option<String>,
    /// Tells apart the network namespaces of several nodes on one machine.
    tag: String,
    dir: PathBuf,
    lock: tokio::sync::Mutex<()>,
}

impl NetPlane {
    /// A node keeping its networks' files under `dir`; `tag` prefixes the namespaces it makes
    /// (letters, digits and `-`, at most 12 characters). With `netns`, the node's bridges and
    /// taps live in that namespace (made when first needed).
    pub fn new(dir: impl Into<PathBuf>, tag: &str, netns: Option<String>) -> Self {
        let dir = dir.into();
        Self {
            dir: std::path::absolute(&dir).unwrap_or(dir),
            tag: tag.to_owned(),
            netns,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// A node keeping its networks under `dir`, tagged by [`super::tag_for`] that directory.
    pub fn at(dir: impl Into<PathBuf>, netns: Option<String>) -> Self {
        let dir = dir.into();
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let tag = super::tag_for(&dir);
        Self::new(dir, &tag, netns)
    }

    /// The namespace the VMs' taps are in, when it is not this process's own: QEMU must be
    /// started there.
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    fn node(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    fn net_dir(&self, vni: u32) -> PathBuf {
        self.dir.join(vni.to_string())
    }

    /// Makes the card's network on this node if needed, its tap on the network's bridge, and
    /// its lease and name; returns the tap QEMU opens.
    pub async fn attach(
        &self,
        vm_id: &str,
        index: usize,
        nic: &NicSpec,
    ) -> Result<String, NetError> {
        nic.check().map_err(NetError::Invalid)?;
        if index >= names::MAX_NICS {
            return Err(NetError::Invalid(format!(
                "a VM has at most {} network cards",
                names::MAX_NICS
            )));
        }
        let _held = self.lock.lock().await;
        // What made the namespaces named for the tag, for whoever cleans up after the node.
        write_file(&self.dir.join("tag"), &self.tag)?;
        let tap = tap_name(vm_id, index);
        let dir = self.net_dir(nic.network.vni);
        let n = &nic.network;
        // The lease carries no name of its own (a lease's name would answer in DNS until the
        // lease ends, after the VM is gone): the guest's name comes as a DHCP option, the DNS
        // record from `names/`.
        write_entry(
            &dir.join("dhcp"),
            &tap,
            &format!("{},set:{tap},{}\n", nic.mac, nic.address),
        )?;
        write_entry(
            &dir.join("opts"),
            &tap,
            &format!("tag:{tap},option:hostname,{}\n", nic.hostname),
        )?;
        write_entry(
            &dir.join("names"),
            &tap,
            &format!(
                "{} {}.{} {}\n",
                nic.address,
                nic.hostname,
                n.domain(),
                nic.hostname
            ),
        )?;
        self.ensure_network(n).await?;
        let bridge = bridge_name(n.vni);
        if !link_exists(self.node(), &tap).await {
            ip(self.node(), &["tuntap", "add", "dev", &tap, "mode", "tap"]).await?;
        }
        ip(
            self.node(),
            &["link", "set", "dev", &tap, "master", &bridge, "up"],
        )
        .await?;
        Ok(tap)
    }

    /// Removes a VM's cards from this node: their taps, leases and names. Ok when it had none.
    pub async fn detach_vm(&self, vm_id: &str) -> Result<(), NetError> {
        let _held = self.lock.lock().await;
        let taps: Vec<String> = (0..names::MAX_NICS).map(|i| tap_name(vm_id, i)).collect();
        for vni in self.networks_locked() {
            let dir = self.net_dir(vni);
            let mut removed = false;
            for tap in &taps {
                // The card's lease ends now: its address may go to another card at once, and
                // dnsmasq offers no address that another MAC still holds.
                if let Ok(entry) = std::fs::read_to_string(dir.join("dhcp").join(tap)) {
                    if let [mac, _, addr] = entry.trim().split(',').collect::<Vec<_>>()[..] {
                        let ns = service_netns(&self.tag, vni);
                        if netns_exists(&ns) {
                            let _ =
                                run::run(Some(&ns), "dhcp_release", &[SERVICE_INSIDE, addr, mac])
                                    .await;
                        }
                    }
                }
                for sub in ["dhcp", "opts", "names"] {
                    removed |= std::fs::remove_file(dir.join(sub).join(tap)).is_ok();
                }
            }
            if removed {
                // dnsmasq notices new and changed files by itself, removed ones on a hangup.
                if let Some(pid) = self.dnsmasq_pid(vni) {
                    let _ = run::run(None, "kill", &["-HUP", &pid.to_string()]).await;
                }
            }
        }
        for tap in &taps {
            del_link(self.node(), tap).await?;
        }
        Ok(())
    }

    /// Makes an organization's router on this node as `spec` says: its namespace, a leg with
    /// the gateway address on each of its networks (made on this node if needed), forwarding
    /// on, and its firewall replaced in one step. Legs to networks no longer listed are removed.
    pub async fn apply_router(&self, spec: &RouterSpec) -> Result<(), NetError> {
        spec.check().map_err(NetError::Invalid)?;
        let _held = self.lock.lock().await;
        write_file(&self.dir.join("tag"), &self.tag)?;
        let ns = router_netns(&self.tag, &spec.id);
        ensure_netns(&ns).await?;
        let inside = Some(ns.as_str());
        ip(inside, &["link", "set", "dev", "lo", "up"]).await?;
        run::run(
            inside,
            "sh",
            // Forwarding on; no redirects for the service addresses' answers, which leave
            // by the leg they came in on; each leg answers ARP for its own addresses only (a
            // network's gateway leg and its leg to other nodes share a bridge).
            &[
                "-c",
                "echo 1 > /proc/sys/net/ipv4/ip_forward; \
                 echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects; \
                 echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore; \
                 echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce",
            ],
        )
        .await?;
        for n in &spec.networks {
            self.ensure_network(n).await?;
            let gw = gateway_dev(n.vni);
            self.leg(&bridge_name(n.vni), &uplink_dev(n.vni), &gw, &ns)
                .await?;
            let cidr = format!("{}/{}", n.gateway, n.prefix);
            ip(inside, &["addr", "replace", &cidr, "dev", &gw]).await?;
            // One gateway MAC on every node: a guest's ARP entry stays right wherever its
            // packets are routed.
            let mac = fabric::gateway_mac(n.vni);
            ip(inside, &["link", "set", "dev", &gw, "address", &mac]).await?;
            ip(inside, &["link", "set", "dev", &gw, "up"]).await?;
            self.service_addresses(&ns, &gw, &spec.service_addresses(n.vni))
                .await?;
            let span = spec.fabric.iter().find(|s| s.vni == n.vni);
            self.span(n, span).await?;
            self.remote_leg(&ns, n, span).await?;
        }
        for vni in self.networks_locked() {
            if !spec.networks.iter().any(|n| n.vni == vni) {
                // Deleting one end of a veth deletes both.
                del_link(inside, &gateway_dev(vni)).await?;
                del_link(inside, &fabric::leg_dev(vni)).await?;
            }
        }
        self.uplink(spec, &ns).await?;
        let file = self.dir.join("routers").join(format!("{}.nft", spec.id));
        write_file(&file, &spec.ruleset())?;
        run::run(inside, "nft", &["-f", &file.display().to_string()]).await
    }

    /// Removes an organization's router from this node. Ok when there is none.
    pub async fn remove_router(&self, id: &str) -> Result<(), NetError> {
        let _held = self.lock.lock().await;
        let ns = router_netns(&self.tag, id);
        if netns_exists(&ns) {
            // Its legs' other ends, on the bridges and its uplink, go with it.
            run::run(None, "ip", &["netns", "del", &ns]).await?;
        }
        let table = node_table(id);
        let _ = run::run(self.node(), "nft", &["delete", "table", "ip", &table]).await;
        let _ = std::fs::remove_file(self.dir.join("routers").join(format!("{id}.nft")));
        Ok(())
    }

    /// Every network this node has files for.
    pub fn networks(&self) -> Vec<u32> {
        self.networks_locked()
    }

    /// Removes every network of this node (tests, and a node being removed).
    pub async fn remove_all(&self) -> Result<(), NetError> {
        let _held = self.lock.lock().await;
        for vni in self.networks_locked() {
            self.remove_locked(vni).await?;
        }
        Ok(())
    }

    fn networks_locked(&self) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut all: Vec<u32> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        all.sort_unstable();
        all
    }

    async fn remove_locked(&self, vni: u32) -> Result<(), NetError> {
        self.stop_dnsmasq(vni).await;
        let ns = service_netns(&self.tag, vni);
        if netns_exists(&ns) {
            // The veth's inner side goes with the namespace, and its outer side with it.
            run::run(None, "ip", &["netns", "del", &ns]).await?;
        }
        // The bridge filter is in the node's namespace, which outlives the network.
        let table = fabric::filter_table(vni);
        let _ = run::run(self.node(), "nft", &["delete", "table", "bridge", &table]).await;
        for dev in [
            fabric::vxlan_dev(vni),
            service_veth(vni),
            super::router::uplink_dev(vni),
            fabric::leg_outer(vni),
            bridge_name(vni),
        ] {
            del_link(self.node(), &dev).await?;
        }
        let dir = self.net_dir(vni);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(NetError::Io { path: dir, source }),
        }
    }

    /// The bridge, the service namespace joined to it, and dnsmasq running there.
    async fn ensure_network(&self, n: &NetworkSpec) -> Result<(), NetError> {
        if let Some(node) = self.node() {
            ensure_netns(node).await?;
        }
        let dir = self.net_dir(n.vni);
        let recorded = dir.join("network.json");
        let wanted = serde_json::to_string(n).map_err(|e| NetError::Invalid(e.to_string()))?;
        if std::fs::read_to_string(&recorded).is_ok_and(|had| had != wanted) {
            // The same number with another subnet or name: the old one's server must go.
            self.stop_dnsmasq(n.vni).await;
        }
        write_file(&recorded, &wanted)?;
        let bridge = bridge_name(n.vni);
        if !link_exists(self.node(), &bridge).await {
            ip(
                self.node(),
                &["link", "add", "name", &bridge, "type", "bridge"],
            )
            .await?;
        }
        ip(self.node(), &["link", "set", "dev", &bridge, "up"]).await?;
        let ns = service_netns(&self.tag, n.vni);
        ensure_netns(&ns).await?;
        self.leg(&bridge, &service_veth(n.vni), SERVICE_INSIDE, &ns)
            .await?;
        let inside = Some(ns.as_str());
        let cidr = format!("{}/{}", n.dns, n.prefix);
        ip(inside, &["addr", "replace", &cidr, "dev", SERVICE_INSIDE]).await?;
        let mac = fabric::service_mac(n.vni);
        ip(
            inside,
            &["link", "set", "dev", SERVICE_INSIDE, "address", &mac],
        )
        .await?;
        ip(inside, &["link", "set", "dev", SERVICE_INSIDE, "up"]).await?;
        ip(inside, &["link", "set", "dev", "lo", "up"]).await?;
        if self.dnsmasq_pid(n.vni).is_none() {
            // dnsmasq watches these for cards added later: they must exist when it starts (a
            // router may bring a network up before any card of this node is on it).
            for sub in ["dhcp", "opts", "names"] {
                let path = dir.join(sub);
                std::fs::create_dir_all(&path).map_err(|source| NetError::Io { path, source })?;
            }
            self.start_dnsmasq(n, &ns, &dir).await?;
        }
        Ok(())
    }

    async fn start_dnsmasq(&self, n: &NetworkSpec, ns: &str, dir: &Path) -> Result<(), NetError> {
        let p = |name: &str| dir.join(name).display().to_string();
        let args = [
            "--conf-file=/dev/null".to_owned(),
            format!("--pid-file={}", p("dnsmasq.pid")),
            format!("--interface={SERVICE_INSIDE}"),
            "--bind-interfaces".to_owned(),
            "--except-interface=lo".to_owned(),
            // Only the pinned leases: a card the control plane did not name gets nothing.
            format!("--dhcp-range={},static,{},12h", n.subnet, n.netmask()),
            format!("--dhcp-hostsdir={}", p("dhcp")),
            format!("--dhcp-optsdir={}", p("opts")),
            format!("--hostsdir={}", p("names")),
            format!("--dhcp-leasefile={}", p("leases")),
            format!("--dhcp-option=option:router,{}", n.gateway),
            // Room for the VXLAN header when the network spans nodes (1500 - 50).
            format!("--dhcp-option=option:mtu,{}", super::fabric::GUEST_MTU),
            format!("--domain={}", n.domain()),
            format!("--local=/{}/", n.domain()),
            "--no-resolv".to_owned(),
            "--no-hosts".to_owned(),
            "--dhcp-authoritative".to_owned(),
            "--user=nobody".to_owned(),
            "--group=nogroup".to_owned(),
            format!("--log-facility={}", p("dnsmasq.log")),
            "--log-dhcp".to_owned(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // dnsmasq forks into the background once its sockets are open, and fails here on a
        // bad option or a socket it cannot bind.
        run::run(Some(ns), "dnsmasq", &args).await
    }

    /// The router's way in and out, when it has port forwards or networks with egress: a veth
    /// from the node's namespace (`su<id>`) to the router's (`wan0`) with a /30 of its own, the
    /// router's default route through it, forwarding on in the node's namespace, and the
    /// node's side of the forwards and egress NAT (`table ip strata_up_<id>`). Removed when
    /// it has neither.
    async fn uplink(&self, spec: &RouterSpec, ns: &str) -> Result<(), NetError> {
        let outer = uplink_outer(&spec.id);
        let table = node_table(&spec.id);
        if !spec.needs_uplink() {
            del_link(self.node(), &outer).await?;
            let _ = run::run(self.node(), "nft", &["delete", "table", "ip", &table]).await;
            return Ok(());
        }
        let (near, far) = uplink_addresses(&spec.id);
        self.veth(&outer, UPLINK_INSIDE, ns).await?;
        let (near_cidr, far_cidr) = (format!("{near}/30"), format!("{far}/30"));
        ip(self.node(), &["addr", "replace", &near_cidr, "dev", &outer]).await?;
        ip(self.node(), &["link", "set", "dev", &outer, "up"]).await?;
        let inside = Some(ns);
        ip(
            inside,
            &["addr", "replace", &far_cidr, "dev", UPLINK_INSIDE],
        )
        .await?;
        ip(inside, &["link", "set", "dev", UPLINK_INSIDE, "up"]).await?;
        let via = near.to_string();
        ip(
            inside,
            &[
                "route",
                "replace",
                "default",
                "via",
                &via,
                "dev",
                UPLINK_INSIDE,
            ],
        )
        .await?;
        run::run(
            self.node(),
            "sh",
            &["-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"],
        )
        .await?;
        let file = self
            .dir
            .join("routers")
            .join(format!("{}.node.nft", spec.id));
        write_file(&file, &spec.node_ruleset())?;
        run::run(self.node(), "nft", &["-f", &file.display().to_string()]).await
    }

    /// Makes the leg `gw` in the router's namespace `ns` hold exactly these service addresses
    /// (each as a /32 beside the gateway's subnet address), so the router answers for them.
    async fn service_addresses(
        &self,
        ns: &str,
        gw: &str,
        wanted: &[std::net::Ipv4Addr],
    ) -> Result<(), NetError> {
        let wanted: Vec<String> = wanted.iter().map(|a| format!("{a}/32")).collect();
        for had in addresses_on(ns, gw).await? {
            if had.ends_with("/32") && !wanted.contains(&had) {
                ip(Some(ns), &["addr", "del", &had, "dev", gw]).await?;
            }
        }
        for a in &wanted {
            ip(Some(ns), &["addr", "replace", a, "dev", gw]).await?;
        }
        Ok(())
    }

    /// Joins the network's bridge to the other nodes that have it (a VXLAN device flooding to
    /// each of them), or leaves the bridge to itself when none has; and makes the remote cards'
    /// names answer here.
    async fn span(&self, n: &NetworkSpec, span: Option<&Span>) -> Result<(), NetError> {
        let vx = fabric::vxlan_dev(n.vni);
        let peers = span.map(|s| s.peers.as_slice()).unwrap_or_default();
        if peers.is_empty() {
            del_link(self.node(), &vx).await?;
        } else {
            // The filter first: no moment where another node's gateway answers here.
            let file = self.net_dir(n.vni).join("fabric.nft");
            write_file(&file, &fabric::filter_ruleset(n))?;
            run::run(self.node(), "nft", &["-f", &file.display().to_string()]).await?;
            if !link_exists(self.node(), &vx).await {
                let (vni, port) = (n.vni.to_string(), fabric::VXLAN_PORT.to_string());
                ip(
                    self.node(),
                    &[
                        "link", "add", "name", &vx, "type", "vxlan", "id", &vni, "dstport", &port,
                    ],
                )
                .await?;
            }
            ip(
                self.node(),
                &[
                    "link",
                    "set",
                    "dev",
                    &vx,
                    "master",
                    &bridge_name(n.vni),
                    "up",
                ],
            )
            .await?;
            self.flood_to(&vx, peers).await?;
        }
        // The remote cards' names, in a file of their own; dnsmasq drops removed lines only
        // on a hangup.
        let file = self.net_dir(n.vni).join("names").join("remote");
        let names = span.map(|s| s.names(n)).unwrap_or_default();
        if std::fs::read_to_string(&file).unwrap_or_default() != names {
            write_entry(&self.net_dir(n.vni).join("names"), "remote", &names)?;
            if let Some(pid) = self.dnsmasq_pid(n.vni) {
                let _ = run::run(None, "kill", &["-HUP", &pid.to_string()]).await;
            }
        }
        Ok(())
    }

    /// The router's leg to the network's cards on other nodes (see [`fabric`]): its own
    /// address and MAC on the network, and a route through it to each remote card; removed
    /// when the network has no remote cards or no leg address here.
    async fn remote_leg(
        &self,
        ns: &str,
        n: &NetworkSpec,
        span: Option<&Span>,
    ) -> Result<(), NetError> {
        let dev = fabric::leg_dev(n.vni);
        let inside = Some(ns);
        let Some((leg, span)) = span.and_then(|s| Some((s.routed_leg()?, s))) else {
            return del_link(inside, &dev).await;
        };
        self.leg(&bridge_name(n.vni), &fabric::leg_outer(n.vni), &dev, ns)
            .await?;
        ip(
            inside,
            &["link", "set", "dev", &dev, "address", &fabric::leg_mac(leg)],
        )
        .await?;
        ip(inside, &["link", "set", "dev", &dev, "up"]).await?;
        let own = format!("{leg}/32");
        for had in addresses_on(ns, &dev).await? {
            if had != own {
                ip(inside, &["addr", "del", &had, "dev", &dev]).await?;
            }
        }
        ip(inside, &["addr", "replace", &own, "dev", &dev]).await?;
        // The routes in one batch: those to cards that left first, then one per remote card.
        let routes =
            run::output(None, "ip", &["-n", ns, "-4", "route", "show", "dev", &dev]).await?;
        let mut batch = String::new();
        for line in routes.lines() {
            let Some(to) = line.split_whitespace().next() else {
                continue;
            };
            let to = to.trim_end_matches("/32");
            if !span.hosts.iter().any(|h| h.address.to_string() == to) {
                batch.push_str(&format!("route del {to}/32 dev {dev}\n"));
            }
        }
        for h in &span.hosts {
            batch.push_str(&format!(
                "route replace {}/32 dev {dev} src {leg}\n",
                h.address
            ));
        }
        let file = self.net_dir(n.vni).join(format!("{ns}.routes"));
        write_file(&file, &batch)?;
        ip(inside, &["-batch", &file.display().to_string()]).await
    }

    /// Makes the VXLAN device's flood list exactly `peers` (broadcasts and unknown MACs go to
    /// each; the device learns where each remote card is from what arrives).
    async fn flood_to(&self, vx: &str, peers: &[std::net::Ipv4Addr]) -> Result<(), NetError> {
        const ALL: &str = "00:00:00:00:00:00";
        let shown = run::output(self.node(), "bridge", &["fdb", "show", "dev", vx]).await?;
        let had: Vec<String> = shown
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(ALL) && words.next() == Some("dst"))
                    .then(|| words.next().map(str::to_owned))
                    .flatten()
            })
            .collect();
        for p in peers {
            let p = p.to_string();
            if !had.contains(&p) {
                let args = ["fdb", "append", ALL, "dev", vx, "dst", &p];
                run::run(self.node(), "bridge", &args).await?;
            }
        }
        for old in had {
            if !peers.iter().any(|p| p.to_string() == old) {
                let args = ["fdb", "del", ALL, "dev", vx, "dst", &old];
                run::run(self.node(), "bridge", &args).await?;
            }
        }
        Ok(())
    }

    /// A veth pair whose `outer` end is on `bridge` in the node's namespace and whose `inner`
    /// end is in namespace `ns`; both up to the bridge's side.
    async fn leg(&self, bridge: &str, outer: &str, inner: &str, ns: &str) -> Result<(), NetError> {
        self.veth(outer, inner, ns).await?;
        ip(
            self.node(),
            &["link", "set", "dev", outer, "master", bridge, "up"],
        )
        .await
    }

    /// A veth pair, `outer` in the node's namespace and `inner` in `ns`, unless it exists.
    async fn veth(&self, outer: &str, inner: &str, ns: &str) -> Result<(), NetError> {
        if link_exists(self.node(), outer).await {
            return Ok(());
        }
        ip(
            self.node(),
            &[
                "link", "add", "name", outer, "type", "veth", "peer", "name", inner, "netns", ns,
            ],
        )
        .await
    }

    /// Kills the network's dnsmasq, if it runs.
    async fn stop_dnsmasq(&self, vni: u32) {
        if let Some(pid) = self.dnsmasq_pid(vni) {
            let _ = run::run(None, "kill", &["-KILL", &pid.to_string()]).await;
        }
    }

    /// The pid of the network's dnsmasq when it runs.
    fn dnsmasq_pid(&self, vni: u32) -> Option<u32> {
        let file = self.net_dir(vni).join("dnsmasq.pid");
        let pid: u32 = std::fs::read_to_string(&file).ok()?.trim().parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        (cmdline.contains("dnsmasq") && cmdline.contains(&file.display().to_string()))
            .then_some(pid)
    }
}

/// The IPv4 addresses (`a.b.c.d/prefix`) of device `dev` in namespace `ns`.
async fn addresses_on(ns: &str, dev: &str) -> Result<Vec<String>, NetError> {
    let shown = run::output(
        None,
        "ip",
        &["-n", ns, "-o", "-4", "addr", "show", "dev", dev],
    )
    .await?;
    Ok(shown
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace().skip_while(|w| *w != "inet");
            words.nth(1).map(str::to_owned)
        })
        .collect())
}

/// Makes a named network namespace unless it exists.
async fn ensure_netns(name: &str) -> Result<(), NetError> {
    if netns_exists(name) {
        Ok(())
    } else {
        run::run(None, "ip", &["netns", "add", name]).await
    }
}

/// Writes one entry file atomically (dnsmasq ignores dot files, and reads the renamed one).
fn write_entry(dir: &Path, name: &str, text: &str) -> Result<(), NetError> {
    std::fs::create_dir_all(dir).map_err(|source| NetError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let tmp = dir.join(format!(".{name}.tmp"));
    write_file(&tmp, text)?;
    let path = dir.join(name);
    std::fs::rename(&tmp, &path).map_err(|source| NetError::Io { path, source })
}

fn write_file(path: &Path, text: &str) -> Result<(), NetError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| NetError::Io {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| NetError::Io {
        path: path.to_owned(),
        source,
    })
}
