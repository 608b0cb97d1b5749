//! A network across nodes: on each node that has its VMs, the network's bridge gets a VXLAN
//! device (the network's number as its VNI, UDP 4789 over the nodes' own addresses) that
//! floods to the other nodes of the network and learns where each remote card is. Every node
//! keeps its own gateway and DHCP/DNS server on the network, at the same addresses and the
//! same MACs (derived from the network's number): a bridge filter keeps them, and DHCP, off
//! the tunnel, so each node answers its own VMs and VM-to-VM traffic is all that crosses.
//!
//! Traffic between two networks is routed by the router of the node it starts on. When it
//! goes to a card on another node, it leaves by the router's *leg* on the destination network:
//! a second link with an address and a MAC of this node's own, the source rewritten to that
//! address. The answer then comes back over the tunnel to the router that saw the connection
//! open (a router on the other node would hold no state for it and drop it), and no packet ever
//! crosses with the gateway's shared MAC.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::NetworkSpec;

/// The MTU guests are given by DHCP: a 1,500-byte underlay less the 50 bytes VXLAN adds.
pub const GUEST_MTU: u16 = 1450;

/// The VXLAN port (IANA's).
pub const VXLAN_PORT: u16 = 4789;

/// What a node needs to join one of its networks to the other nodes that have it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// The network, by number.
    pub vni: u32,
    /// The other nodes with cards on it, by their address (where their VXLAN traffic goes).
    pub peers: Vec<Ipv4Addr>,
    /// The cards on those nodes, so that this node's DNS server answers their names too.
    pub hosts: Vec<RemoteHost>,
    /// This node's router address on the network for traffic to those cards; None: traffic
    /// from other networks does not reach them from here.
    #[serde(default)]
    pub leg: Option<Ipv4Addr>,
}

/// A card of the network on another node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteHost {
    pub address: Ipv4Addr,
    /// Its VM's name on the network (a DNS label).
    pub hostname: String,
}

impl Span {
    /// Refuses what would reach a command line or dnsmasq's files malformed.
    pub fn check(&self) -> Result<(), String> {
        for p in &self.peers {
            if p.is_unspecified() || p.is_broadcast() || p.is_multicast() {
                return Err(format!("{p} is not a node's address"));
            }
        }
        for h in &self.hosts {
            if !super::names::is_label(&h.hostname) {
                return Err(format!("{:?} is not a DNS label", h.hostname));
            }
        }
        if self
            .leg
            .is_some_and(|l| self.hosts.iter().any(|h| h.address == l))
        {
            return Err("the router's leg has a card's address".into());
        }
        Ok(())
    }

    /// The router's leg address, when it has one and there is a card to reach through it.
    pub fn routed_leg(&self) -> Option<Ipv4Addr> {
        self.leg.filter(|_| !self.hosts.is_empty())
    }

    /// The network's `names/` entry for the remote cards: `address fqdn name` per line.
    pub fn names(&self, n: &NetworkSpec) -> String {
        self.hosts
            .iter()
            .map(|h| {
                format!(
                    "{} {}.{} {}\n",
                    h.address,
                    h.hostname,
                    n.domain(),
                    h.hostname
                )
            })
            .collect()
    }
}

/// The network's VXLAN device on a node.
pub fn vxlan_dev(vni: u32) -> String {
    format!("svx{vni:06x}")
}

/// The router's leg to the network's cards on other nodes (in the router's namespace).
pub fn leg_dev(vni: u32) -> String {
    format!("x{vni:06x}")
}

/// The bridge's side of that leg.
pub fn leg_outer(vni: u32) -> String {
    format!("sxt{vni:06x}")
}

/// The leg's MAC, from its address (which no other card or leg of the network has):
/// `02:54:<address>`.
pub fn leg_mac(address: Ipv4Addr) -> String {
    let [a, b, c, d] = address.octets();
    format!("02:54:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}

/// The MAC of the router's leg holding the gateway: the same on every node.
pub fn gateway_mac(vni: u32) -> String {
    anycast_mac(1, vni)
}

/// The MAC of the DHCP and DNS server's leg: the same on every node.
pub fn service_mac(vni: u32) -> String {
    anycast_mac(2, vni)
}

/// Locally administered, unicast: `02:53:<role>:<vni>`.
fn anycast_mac(role: u8, vni: u32) -> String {
    let [_, a, b, c] = vni.to_be_bytes();
    format!("02:53:{role:02x}:{a:02x}:{b:02x}:{c:02x}")
}

/// The nftables table keeping the node's own gateway and DHCP/DNS server off the tunnel.
pub fn filter_table(vni: u32) -> String {
    format!("strata_vx{vni:06x}")
}

/// The bridge filter of a network, replacing the one before (one `nft -f` transaction).
pub fn filter_ruleset(n: &NetworkSpec) -> String {
    let table = filter_table(n.vni);
    let vx = vxlan_dev(n.vni);
    let (gw, svc) = (gateway_mac(n.vni), service_mac(n.vni));
    format!(
        "table bridge {table} {{}}\n\
         delete table bridge {table}\n\
         table bridge {table} {{\n\
         \x20   chain forward {{\n\
         \x20       type filter hook forward priority filter; policy accept;\n\
         \x20       oifname \"{vx}\" ether saddr {{ {gw}, {svc} }} drop\n\
         \x20       iifname \"{vx}\" ether saddr {{ {gw}, {svc} }} drop\n\
         \x20       oifname \"{vx}\" arp daddr ip {{ {}, {} }} drop\n\
         \x20       iifname \"{vx}\" arp daddr ip {{ {}, {} }} drop\n\
         \x20       oifname \"{vx}\" udp dport {{ 67, 68 }} drop\n\
         \x20       iifname \"{vx}\" udp dport {{ 67, 68 }} drop\n\
         \x20   }}\n\
         }}\n",
        n.gateway, n.dns, n.gateway, n.dns
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blue() -> NetworkSpec {
        NetworkSpec {
            vni: 0x01_02_2a,
            name: "blue".into(),
            subnet: Ipv4Addr::new(10, 0, 0, 0),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 0, 0, 1),
            dns: Ipv4Addr::new(10, 0, 0, 2),
        }
    }

    #[test]
    fn the_gateway_and_dns_server_have_one_mac_on_every_node_and_stay_off_the_tunnel() {
        assert_eq!(gateway_mac(0x01_02_2a), "02:53:01:01:02:2a");
        assert_eq!(service_mac(0x01_02_2a), "02:53:02:01:02:2a");
        assert_eq!(vxlan_dev(0xff_ffff), "svxffffff");
        let text = filter_ruleset(&blue());
        assert!(text.starts_with("table bridge strata_vx01022a {}\ndelete table"));
        assert!(
            text.contains(
                "oifname \"svx01022a\" ether saddr { 02:53:01:01:02:2a, 02:53:02:01:02:2a } drop"
            ),
            "{text}"
        );
        assert!(
            text.contains("oifname \"svx01022a\" arp daddr ip { 10.0.0.1, 10.0.0.2 } drop"),
            "{text}"
        );
        assert!(text.contains("iifname \"svx01022a\" udp dport { 67, 68 } drop"));
    }

    #[test]
    fn remote_cards_answer_by_name_and_bad_spans_are_refused() {
        let span = Span {
            vni: 0x01_02_2a,
            peers: vec![Ipv4Addr::new(192, 168, 1, 12)],
            hosts: vec![RemoteHost {
                address: Ipv4Addr::new(10, 0, 0, 11),
                hostname: "db".into(),
            }],
            leg: Some(Ipv4Addr::new(10, 0, 0, 12)),
        };
        assert_eq!(span.check(), Ok(()));
        assert_eq!(span.names(&blue()), "10.0.0.11 db.blue.internal db\n");
        assert_eq!(span.routed_leg(), Some(Ipv4Addr::new(10, 0, 0, 12)));
        assert_eq!(leg_mac(Ipv4Addr::new(10, 0, 0, 12)), "02:54:0a:00:00:0c");
        let mut bad = span.clone();
        bad.leg = Some(Ipv4Addr::new(10, 0, 0, 11));
        assert!(bad.check().is_err());
        let mut bad = span.clone();
        bad.peers.push(Ipv4Addr::UNSPECIFIED);
        assert!(bad.check().is_err());
        let mut bad = span;
        bad.hosts[0].hostname = "no name".into();
        assert!(bad.check().is_err());
    }
}
