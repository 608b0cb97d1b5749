//! An organization's router on a node: a namespace joined to each of the organization's
//! networks there by a veth holding the network's gateway address, forwarding between them
//! through an nftables firewall compiled from the networks' rules. A network takes inbound
//! traffic from its own VMs (that never passes the router) and, from anywhere else, only what a
//! rule allows; answers to allowed traffic pass back.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::NetworkSpec;

/// What an organization's router on a node should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterSpec {
    /// Names the router on every node: 1 to 8 of a-z and 0-9, one per organization.
    pub id: String,
    /// The organization's networks on this node (the router joins each).
    pub networks: Vec<NetworkSpec>,
    pub rules: Vec<RuleSpec>,
    /// Of those networks, the ones that also have cards on other nodes, and where those are.
    #[serde(default)]
    pub fabric: Vec<super::fabric::Span>,
    /// The services with an address on those networks.
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// Ports of this node's addresses forwarded to VMs of the organization here.
    #[serde(default)]
    pub forwards: Vec<ForwardSpec>,
    /// The networks (by number) whose VMs may open connections out of the node (egress NAT).
    #[serde(default)]
    pub egress: Vec<u32>,
}

/// A port of the node's addresses forwarded to a port of a VM's address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardSpec {
    /// `tcp` or `udp`.
    pub protocol: RuleProtocol,
    pub host_port: u16,
    pub to: Ipv4Addr,
    pub to_port: u16,
}

/// The router's end of its link to the node's namespace (the way in and out).
pub const UPLINK_INSIDE: &str = "wan0";

/// The node's end of that link.
pub fn uplink_outer(id: &str) -> String {
    format!("su{id}")
}

/// The node namespace's nftables table for a router's way in and out.
pub fn node_table(id: &str) -> String {
    format!("strata_up_{id}")
}

/// The link's two addresses (node side, router side), a /30 in 100.64.0.0/10 chosen by a hash
/// of the router's id: the same on every node, different for each organization (but for a
/// collision of the hash, one in a million).
pub fn uplink_addresses(id: &str) -> (Ipv4Addr, Ipv4Addr) {
    let hash = super::names::fnv1a(id.as_bytes());
    let block = (hash & 0x000f_ffff) << 2;
    let base = u32::from(Ipv4Addr::new(100, 64, 0, 0)) | block;
    (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2))
}

fn l4(p: RuleProtocol) -> &'static str {
    if p == RuleProtocol::Udp {
        "udp"
    } else {
        "tcp"
    }
}

/// A service's address on a network and the replicas behind it: the router answers for the
/// address and sends each new connection to the next replica in turn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// The network, by number.
    pub vni: u32,
    pub address: Ipv4Addr,
    /// The running replicas' addresses on it; none: connections to the address are refused.
    pub backends: Vec<Ipv4Addr>,
}

/// One rule: traffic into network `to` that it allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSpec {
    /// The network the traffic enters, by number.
    pub to: u32,
    pub protocol: RuleProtocol,
    /// A destination port range for tcp and udp; None: every port.
    pub ports: Option<(u16, u16)>,
    pub from: RuleSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleProtocol {
    Tcp,
    Udp,
    Icmp,
    Any,
}

/// Where allowed traffic may come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleSource {
    /// Any address in a subnet (of the organization's networks).
    Cidr { addr: Ipv4Addr, prefix: u8 },
    /// Any VM of another network of the organization, by number.
    Network { vni: u32 },
    /// These addresses (the VMs with a tag, resolved by the control plane); none: nothing.
    Addresses { list: Vec<Ipv4Addr> },
}

/// The router's side of the veth to a network: it holds the gateway address.
pub fn gateway_dev(vni: u32) -> String {
    format!("g{vni:06x}")
}

/// The bridge's side of that veth.
pub fn uplink_dev(vni: u32) -> String {
    format!("srt{vni:06x}")
}

/// The router's namespace on this node.
pub fn router_netns(tag: &str, id: &str) -> String {
    format!("{tag}-r{id}")
}

impl RouterSpec {
    /// Refuses what could make a broken router or a rule file nft would misread.
    pub fn check(&self) -> Result<(), String> {
        let id_ok = (1..=8).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !id_ok {
            return Err(format!("{:?} is not a router id", self.id));
        }
        for n in &self.networks {
            n.check()?;
        }
        for span in &self.fabric {
            span.check()?;
            if let (Some(leg), Some(n)) =
                (span.leg, self.networks.iter().find(|n| n.vni == span.vni))
            {
                if !n.contains(leg) || leg == n.gateway || leg == n.dns {
                    return Err(format!("{leg} cannot be the router's leg on {}", n.name));
                }
            }
        }
        for f in &self.forwards {
            if !matches!(f.protocol, RuleProtocol::Tcp | RuleProtocol::Udp)
                || f.host_port == 0
                || f.to_port == 0
            {
                return Err(format!("{f:?} is not a tcp or udp port forward"));
            }
            if !self.networks.iter().any(|n| n.contains(f.to)) {
                return Err(format!("{} is on no network here", f.to));
            }
        }
        for svc in &self.services {
            let Some(n) = self.networks.iter().find(|n| n.vni == svc.vni) else {
                return Err(format!(
                    "service address {} is on no network here",
                    svc.address
                ));
            };
            for a in std::iter::once(&svc.address).chain(&svc.backends) {
                if !n.contains(*a) {
                    return Err(format!("{a} is not in {}/{}", n.subnet, n.prefix));
                }
            }
        }
        for r in &self.rules {
            if let Some((lo, hi)) = r.ports {
                if lo == 0
                    || lo > hi
                    || !matches!(r.protocol, RuleProtocol::Tcp | RuleProtocol::Udp)
                {
                    return Err(format!(
                        "ports {lo}-{hi} do not fit a {:?} rule",
                        r.protocol
                    ));
                }
            }
            if let RuleSource::Cidr { prefix, .. } = r.from {
                if prefix > 32 {
                    return Err(format!("/{prefix} is not a prefix"));
                }
            }
        }
        Ok(())
    }

    /// The nftables rule set of the router's namespace, replacing whatever was there (nft
    /// applies a file in one transaction: no moment without a firewall).
    pub fn ruleset(&self) -> String {
        let mut forward = String::new();
        let mut chains = String::new();
        let legs = self.legs();
        for n in &self.networks {
            let dev = gateway_dev(n.vni);
            forward.push_str(&format!(
                "        oifname \"{dev}\" jump into_{:06x}\n",
                n.vni
            ));
            if legs.contains(&n.vni) {
                // Into the network's cards on other nodes: the same rules.
                forward.push_str(&format!(
                    "        oifname \"{}\" jump into_{:06x}\n",
                    super::fabric::leg_dev(n.vni),
                    n.vni
                ));
            }
            chains.push_str(&format!("    chain into_{:06x} {{\n", n.vni));
            for r in self.rules.iter().filter(|r| r.to == n.vni) {
                if let Some(line) = self.rule_line(r) {
                    chains.push_str(&format!("        {line}\n"));
                }
            }
            chains.push_str("    }\n");
        }
        let (mut dnat, mut snat, mut hairpin) = (String::new(), String::new(), String::new());
        for svc in &self.services {
            let Some(n) = self.networks.iter().find(|n| n.vni == svc.vni) else {
                continue;
            };
            let dev = gateway_dev(n.vni);
            // Replies and the service's own network reaching its address pass; the rest is
            // decided by the rules of the network it enters.
            hairpin.push_str(&format!(
                "        ct status dnat iifname \"{dev}\" oifname \"{dev}\" accept\n"
            ));
            if legs.contains(&n.vni) {
                // A replica on another node, reached through the leg.
                hairpin.push_str(&format!(
                    "        ct status dnat iifname \"{dev}\" oifname \"{}\" accept\n",
                    super::fabric::leg_dev(n.vni)
                ));
            }
            let to = match svc.backends.as_slice() {
                // No rewrite: the router holds the address itself and refuses the connection.
                [] => continue,
                [one] => one.to_string(),
                many => {
                    let map: Vec<String> = many
                        .iter()
                        .enumerate()
                        .map(|(i, a)| format!("{i} : {a}"))
                        .collect();
                    format!("numgen inc mod {} map {{ {} }}", many.len(), map.join(", "))
                }
            };
            dnat.push_str(&format!(
                "        ip daddr {} dnat ip to {to}\n",
                svc.address
            ));
            // A client on the service's own network gets its answer through the router too
            // (postrouting knows no input device: the client's subnet tells).
            snat.push_str(&format!(
                "        ct status dnat oifname \"{dev}\" ip saddr {}/{} masquerade\n",
                n.subnet, n.prefix
            ));
        }
        let nat = if dnat.is_empty() {
            String::new()
        } else {
            nat_table("strata_services", &dnat, &dedup_lines(&snat))
        };
        // What leaves by a leg takes the leg's address, so its answer comes back here.
        let leg_nat: String = legs
            .iter()
            .map(|vni| {
                format!(
                    "        oifname \"{}\" masquerade\n",
                    super::fabric::leg_dev(*vni)
                )
            })
            .collect();
        let nat = if leg_nat.is_empty() {
            nat
        } else {
            nat + &nat_table("strata_legs", "", &leg_nat)
        };
        let hairpin = dedup_lines(&hairpin);
        let (edge_forward, edge) = self.edge();
        format!(
            "flush ruleset\n\
             table inet strata {{\n\
             \x20   chain forward {{\n\
             \x20       type filter hook forward priority filter; policy drop;\n\
             \x20       ct state established,related accept\n\
             \x20       ct state invalid drop\n\
             {hairpin}\
             {edge_forward}\
             {forward}\
             \x20   }}\n\
             {chains}\
             }}\n\
             {nat}\
             {edge}"
        )
    }

    /// The networks (by number) whose cards on other nodes the router reaches by its own leg.
    pub fn legs(&self) -> Vec<u32> {
        self.fabric
            .iter()
            .filter(|s| s.routed_leg().is_some() && self.networks.iter().any(|n| n.vni == s.vni))
            .map(|s| s.vni)
            .collect()
    }

    /// Whether the router needs its link to the node's namespace.
    pub fn needs_uplink(&self) -> bool {
        !self.forwards.is_empty() || !self.egress.is_empty()
    }

    /// The way in and out: forwarded ports arriving on the uplink go to their VMs, and the
    /// networks with egress go out through it, their sources rewritten to the router's.
    /// Returns the forward chain's accepts and the nat table.
    fn edge(&self) -> (String, String) {
        if !self.needs_uplink() {
            return (String::new(), String::new());
        }
        let mut accept = format!("        iifname \"{UPLINK_INSIDE}\" ct status dnat accept\n");
        for vni in &self.egress {
            accept.push_str(&format!(
                "        iifname \"{}\" oifname \"{UPLINK_INSIDE}\" accept\n",
                gateway_dev(*vni)
            ));
        }
        let mut dnat = String::new();
        for f in &self.forwards {
            dnat.push_str(&format!(
                "        iifname \"{UPLINK_INSIDE}\" {} dport {} dnat ip to {}:{}\n",
                l4(f.protocol),
                f.host_port,
                f.to,
                f.to_port
            ));
        }
        let out = format!("        oifname \"{UPLINK_INSIDE}\" masquerade\n");
        (accept, nat_table("strata_edge", &dnat, &out))
    }

    /// The node namespace's side of the way in and out: each forwarded port of the node's own
    /// addresses goes to the router, and what the router sends out leaves with the node's
    /// address. Replaces the one before (one `nft -f` transaction); the table is named for
    /// the router.
    pub fn node_ruleset(&self) -> String {
        let table = node_table(&self.id);
        let (_, router) = uplink_addresses(&self.id);
        let mut dnat = String::new();
        for f in &self.forwards {
            dnat.push_str(&format!(
                "        fib daddr type local {} dport {} dnat ip to {router}\n",
                l4(f.protocol),
                f.host_port
            ));
        }
        let out = if self.egress.is_empty() {
            String::new()
        } else {
            format!(
                "        ip saddr {router} oifname != \"{}\" masquerade\n",
                uplink_outer(&self.id)
            )
        };
        // Not the only table of the node's namespace: this one is replaced, nothing else.
        format!(
            "table ip {table} {{}}\n\
             delete table ip {table}\n\
             {}",
            nat_table(&table, &dnat, &out)
        )
    }

    /// The addresses the router answers for on the network, besides its gateway.
    pub fn service_addresses(&self, vni: u32) -> Vec<Ipv4Addr> {
        self.services
            .iter()
            .filter(|s| s.vni == vni)
            .map(|s| s.address)
            .collect()
    }

    fn rule_line(&self, r: &RuleSpec) -> Option<String> {
        let from = match &r.from {
            RuleSource::Cidr { addr, prefix } => format!("ip saddr {addr}/{prefix}"),
            RuleSource::Network { vni } => {
                // A network the router does not join sends nothing through it.
                self.networks.iter().find(|n| n.vni == *vni)?;
                format!("iifname \"{}\"", gateway_dev(*vni))
            }
            RuleSource::Addresses { list } if list.is_empty() => return None,
            RuleSource::Addresses { list } => {
                let all: Vec<String> = list.iter().map(Ipv4Addr::to_string).collect();
                format!("ip saddr {{ {} }}", all.join(", "))
            }
        };
        let what = match (r.protocol, r.ports) {
            (RuleProtocol::Tcp, Some((lo, hi))) if lo == hi => format!(" tcp dport {lo}"),
            (RuleProtocol::Tcp, Some((lo, hi))) => format!(" tcp dport {lo}-{hi}"),
            (RuleProtocol::Udp, Some((lo, hi))) if lo == hi => format!(" udp dport {lo}"),
            (RuleProtocol::Udp, Some((lo, hi))) => format!(" udp dport {lo}-{hi}"),
            (RuleProtocol::Tcp, None) => " meta l4proto tcp".into(),
            (RuleProtocol::Udp, None) => " meta l4proto udp".into(),
            (RuleProtocol::Icmp, _) => " meta l4proto icmp".into(),
            (RuleProtocol::Any, _) => String::new(),
        };
        Some(format!("{from}{what} accept"))
    }
}

/// An `ip` nat table: `dnat` lines in its prerouting chain, `snat` lines in its postrouting.
fn nat_table(name: &str, dnat: &str, snat: &str) -> String {
    format!(
        "table ip {name} {{\n\
         \x20   chain prerouting {{\n\
         \x20       type nat hook prerouting priority dstnat; policy accept;\n\
         {dnat}\
         \x20   }}\n\
         \x20   chain postrouting {{\n\
         \x20       type nat hook postrouting priority srcnat; policy accept;\n\
         {snat}\
         \x20   }}\n\
         }}\n"
    )
}

/// The lines of `text` without repeats, in their first order.
fn dedup_lines(text: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter(|l| seen.insert(*l))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(vni: u32, name: &str, third: u8) -> NetworkSpec {
        NetworkSpec {
            vni,
            name: name.into(),
            subnet: Ipv4Addr::new(10, third, 0, 0),
            prefix: 24,
            gateway: Ipv4Addr::new(10, third, 0, 1),
            dns: Ipv4Addr::new(10, third, 0, 2),
        }
    }

    #[test]
    fn rules_compile_into_one_chain_per_network_behind_a_default_drop() {
        let spec = RouterSpec {
            id: "ab12".into(),
            networks: vec![net(1, "front", 0), net(2, "back", 1)],
            // back also has a card on another node, reached by the router's own leg.
            fabric: vec![crate::net::Span {
                vni: 2,
                peers: vec![Ipv4Addr::new(192, 168, 1, 12)],
                hosts: vec![crate::net::RemoteHost {
                    address: Ipv4Addr::new(10, 1, 0, 20),
                    hostname: "db".into(),
                }],
                leg: Some(Ipv4Addr::new(10, 1, 0, 11)),
            }],
            services: vec![],
            forwards: vec![ForwardSpec {
                protocol: RuleProtocol::Tcp,
                host_port: 8080,
                to: Ipv4Addr::new(10, 1, 0, 10),
                to_port: 80,
            }],
            egress: vec![1],
            rules: vec![
                RuleSpec {
                    to: 2,
                    protocol: RuleProtocol::Tcp,
                    ports: Some((5432, 5432)),
                    from: RuleSource::Network { vni: 1 },
                },
                RuleSpec {
                    to: 2,
                    protocol: RuleProtocol::Udp,
                    ports: Some((1000, 2000)),
                    from: RuleSource::Cidr {
                        addr: Ipv4Addr::new(10, 0, 0, 0),
                        prefix: 28,
                    },
                },
                RuleSpec {
                    to: 1,
                    protocol: RuleProtocol::Icmp,
                    ports: None,
                    from: RuleSource::Addresses {
                        list: vec![Ipv4Addr::new(10, 1, 0, 10), Ipv4Addr::new(10, 1, 0, 11)],
                    },
                },
                // Rules that allow nothing leave no line.
                RuleSpec {
                    to: 1,
                    protocol: RuleProtocol::Any,
                    ports: None,
                    from: RuleSource::Addresses { list: vec![] },
                },
                RuleSpec {
                    to: 1,
                    protocol: RuleProtocol::Any,
                    ports: None,
                    from: RuleSource::Network { vni: 99 },
                },
            ],
        };
        assert_eq!(spec.check(), Ok(()));
        let text = spec.ruleset();
        assert!(
            text.starts_with("flush ruleset\ntable inet strata {\n"),
            "{text}"
        );
        assert!(text.contains("policy drop;"));
        assert!(text.contains("ct state established,related accept"));
        assert!(text.contains("oifname \"g000002\" jump into_000002"));
        assert!(
            text.contains("iifname \"g000001\" tcp dport 5432 accept"),
            "{text}"
        );
        assert!(
            text.contains("ip saddr 10.0.0.0/28 udp dport 1000-2000 accept"),
            "{text}"
        );
        assert!(
            text.contains("ip saddr { 10.1.0.10, 10.1.0.11 } meta l4proto icmp accept"),
            "{text}"
        );
        assert!(!text.contains("g000063"), "{text}");
        assert!(
            text.contains("oifname \"x000002\" jump into_000002"),
            "{text}"
        );
        assert!(text.contains("oifname \"x000002\" masquerade"), "{text}");
        assert!(!text.contains("x000001"), "{text}");
        assert_eq!(spec.legs(), vec![2]);
        // The way in and out: the forwarded port and front's egress.
        assert!(
            text.contains("iifname \"wan0\" tcp dport 8080 dnat ip to 10.1.0.10:80"),
            "{text}"
        );
        assert!(
            text.contains("iifname \"g000001\" oifname \"wan0\" accept"),
            "{text}"
        );
        assert!(text.contains("oifname \"wan0\" masquerade"), "{text}");
        let node = spec.node_ruleset();
        let (_, router) = uplink_addresses("ab12");
        assert!(
            node.contains(&format!(
                "fib daddr type local tcp dport 8080 dnat ip to {router}"
            )),
            "{node}"
        );
        assert!(node.contains("oifname != \"suab12\" masquerade"), "{node}");
        assert_eq!(text.matches(" accept\n").count(), 6, "{text}");
    }

    #[test]
    fn bad_routers_are_refused() {
        let mut spec = RouterSpec {
            id: "Org".into(),
            networks: vec![],
            rules: vec![],
            fabric: vec![],
            services: vec![],
            forwards: vec![],
            egress: vec![],
        };
        assert!(spec.check().is_err());
        spec.id = "ab".into();
        spec.rules.push(RuleSpec {
            to: 1,
            protocol: RuleProtocol::Icmp,
            ports: Some((1, 2)),
            from: RuleSource::Network { vni: 1 },
        });
        assert!(spec.check().is_err());
        spec.rules[0] = RuleSpec {
            to: 1,
            protocol: RuleProtocol::Tcp,
            ports: Some((9, 2)),
            from: RuleSource::Network { vni: 1 },
        };
        assert!(spec.check().is_err());
    }
}
