//! A node's share of the VM networks: what a VM's network card needs ([`NicSpec`], carried
//! in the [`crate::MachineSpec`]) and the [`NetPlane`] that makes it on this node.
//!
//! On a node, each network is a Linux bridge without an address (so networks of different
//! organizations may use the same subnet side by side), one tap per network card of a running
//! VM on it, and a namespace of its own holding the network's DHCP and DNS server (dnsmasq),
//! joined to the bridge by a veth pair. dnsmasq hands out only the pinned addresses the
//! control plane chose (one file per card in a directory it watches) and answers
//! `<vm>.<network>.internal`. No address of a VM network exists in the node's own namespace:
//! nothing routes between networks, or from the node into one, unless a later rule says so.

pub mod fabric;
mod names;
mod plane;
pub mod router;
pub(crate) mod run;

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

pub use fabric::{RemoteHost, Span};
pub use names::{bridge_name, tag_for, tap_name, MAX_NICS};
pub use plane::NetPlane;
pub use router::{ForwardSpec, RouterSpec, RuleProtocol, RuleSource, RuleSpec, ServiceSpec};
pub use run::NetError;

/// A network as a node needs it. Ids and addresses are the control plane's choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// The network's number, unique in the installation (its VXLAN id across nodes): names its
    /// devices on every node. 1 to 16,777,215.
    pub vni: u32,
    /// A DNS label: the VMs are `<vm>.<name>.internal`.
    pub name: String,
    /// The subnet's first address and its prefix length.
    pub subnet: Ipv4Addr,
    pub prefix: u8,
    /// Given to guests as their default route.
    pub gateway: Ipv4Addr,
    /// Where the network's DHCP and DNS server answers.
    pub dns: Ipv4Addr,
}

impl NetworkSpec {
    /// `<name>.internal`.
    pub fn domain(&self) -> String {
        format!("{}.internal", self.name)
    }

    /// The subnet mask, dotted.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask(self.prefix))
    }

    /// Whether `addr` lies in the subnet.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & mask(self.prefix) == u32::from(self.subnet) & mask(self.prefix)
    }

    /// Refuses what would make a broken or dangerous network on the node.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=0x00ff_ffff).contains(&self.vni) {
            return Err(format!("network number {} is out of range", self.vni));
        }
        if !names::is_label(&self.name) {
            return Err(format!("{:?} is not a DNS label", self.name));
        }
        if !(8..=30).contains(&self.prefix) {
            return Err(format!("prefix /{} is not between /8 and /30", self.prefix));
        }
        if u32::from(self.subnet) & !mask(self.prefix) != 0 {
            return Err(format!(
                "{}/{} is not a subnet's first address",
                self.subnet, self.prefix
            ));
        }
        for (what, addr) in [("gateway", self.gateway), ("DNS server", self.dns)] {
            if !self.contains(addr) || !self.is_host(addr) {
                return Err(format!("the {what} {addr} is not a host of the subnet"));
            }
        }
        Ok(())
    }

    /// Neither the subnet's first nor its last (broadcast) address.
    fn is_host(&self, addr: Ipv4Addr) -> bool {
        let host = u32::from(addr) & !mask(self.prefix);
        host != 0 && host != !mask(self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// One network card of a VM: on a network, with a stable MAC and the address pinned to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicSpec {
    /// `52:54:00:xx:xx:xx`, lower case.
    pub mac: String,
    pub address: Ipv4Addr,
    /// The VM's name on the network (a DNS label).
    pub hostname: String,
    pub network: NetworkSpec,
}

impl NicSpec {
    /// Refuses a card the node could not set up as asked.
    pub fn check(&self) -> Result<(), String> {
        self.network.check()?;
        if !names::is_mac(&self.mac) {
            return Err(format!(
                "{:?} is not a MAC address like 52:54:00:12:34:56",
                self.mac
            ));
        }
        if !names::is_label(&self.hostname) {
            return Err(format!("{:?} is not a DNS label", self.hostname));
        }
        let n = &self.network;
        if !n.contains(self.address)
            || !n.is_host(self.address)
            || self.address == n.gateway
            || self.address == n.dns
        {
            return Err(format!(
                "{} is not a free host address of {}/{}",
                self.address, n.subnet, n.prefix
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blue() -> NetworkSpec {
        NetworkSpec {
            vni: 42,
            name: "blue".into(),
            subnet: Ipv4Addr::new(10, 0, 0, 0),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 0, 0, 1),
            dns: Ipv4Addr::new(10, 0, 0, 2),
        }
    }

    #[test]
    fn a_network_is_checked_before_anything_is_made() {
        assert_eq!(blue().check(), Ok(()));
        assert_eq!(blue().netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(blue().domain(), "blue.internal");
        let bad = [
            NetworkSpec { vni: 0, ..blue() },
            NetworkSpec {
                vni: 1 << 24,
                ..blue()
            },
            NetworkSpec {
                name: "Blue net".into(),
                ..blue()
            },
            NetworkSpec {
                prefix: 31,
                ..blue()
            },
            NetworkSpec {
                subnet: Ipv4Addr::new(10, 0, 0, 4),
                ..blue()
            },
            NetworkSpec {
                gateway: Ipv4Addr::new(10, 0, 1, 1),
                ..blue()
            },
            NetworkSpec {
                dns: Ipv4Addr::new(10, 0, 0, 255),
                ..blue()
            },
        ];
        for n in bad {
            assert!(n.check().is_err(), "{n:?}");
        }
    }

    #[test]
    fn a_card_needs_a_free_host_address_of_its_network() {
        let nic = |address, mac: &str| NicSpec {
            mac: mac.into(),
            address,
            hostname: "web-1".into(),
            network: blue(),
        };
        assert_eq!(
            nic(Ipv4Addr::new(10, 0, 0, 10), "52:54:00:0a:0b:0c").check(),
            Ok(())
        );
        for (addr, mac) in [
            (Ipv4Addr::new(10, 0, 0, 1), "52:54:00:0a:0b:0c"),
            (Ipv4Addr::new(10, 0, 0, 2), "52:54:00:0a:0b:0c"),
            (Ipv4Addr::new(10, 0, 0, 255), "52:54:00:0a:0b:0c"),
            (Ipv4Addr::new(10, 0, 1, 10), "52:54:00:0a:0b:0c"),
            (Ipv4Addr::new(10, 0, 0, 10), "52:54:00:0A:0B:0C"),
            (Ipv4Addr::new(10, 0, 0, 10), "52:54:00:0a:0b"),
        ] {
            assert!(nic(addr, mac).check().is_err(), "{addr} {mac}");
        }
    }
}
