//! VM networks as people see them: an organization's networks, a VM's network cards, and the
//! checks of what the create forms send.

use serde::{Deserialize, Serialize};

/// One network of an organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkView {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub description: String,
    /// `10.0.0.0/24`.
    pub cidr: String,
    /// The guests' default route.
    pub gateway: String,
    /// The network's DHCP and DNS server.
    pub dns: String,
    /// VMs are `<vm>.<domain>`.
    pub domain: String,
    /// Network cards on it.
    pub cards: u32,
    pub created_at: String,
    /// Its VMs may open connections out of their node (egress NAT).
    #[serde(default)]
    pub egress: bool,
}

/// Turns a network's egress NAT on or off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Egress {
    pub enabled: bool,
}

/// A port of a node's addresses to forward to a VM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewForward {
    /// `tcp` or `udp`.
    pub protocol: RuleProtocol,
    /// The port on the node's addresses, 1 to 65535; one VM's in the installation.
    pub host_port: u16,
    /// The VM's port (on its first card's address).
    pub vm_port: u16,
    #[serde(default)]
    pub description: String,
}

/// A port forward as people see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForwardView {
    pub id: String,
    pub vm_id: String,
    pub protocol: RuleProtocol,
    pub host_port: u16,
    pub vm_port: u16,
    /// The VM's address the traffic goes to.
    pub address: String,
    /// The node the VM is on, and its address (where the port is open), when placed.
    pub node: Option<String>,
    pub node_address: Option<String>,
    pub description: String,
}

/// A VM's network card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NicView {
    /// 0 for the guest's eth0, 1 for eth1, ...
    pub slot: u32,
    pub network_id: String,
    pub network: String,
    pub mac: String,
    pub address: String,
    /// `<vm>.<network>.internal`.
    pub hostname: String,
}

/// One network's page: the network, the VMs on it the caller may read, and what the caller
/// may change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkDetail {
    pub network: NetworkView,
    /// Its VMs' cards, by VM name.
    pub vms: Vec<NetworkMember>,
    /// Whether the caller may change its rules.
    pub can_update: bool,
}

/// A VM's card on a network, as the network's page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkMember {
    pub vm_id: String,
    pub vm_name: String,
    pub address: String,
    /// `<vm>.<network>.internal`.
    pub hostname: String,
    pub mac: String,
}

/// What the create form sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewNetwork {
    pub organization_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A private IPv4 subnet from /16 to /28, like `10.1.0.0/24`.
    pub cidr: String,
}

/// "Can VM A reach VM B on this protocol and port?"
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReachQuery {
    /// The VM the traffic leaves, by id.
    pub from: String,
    /// The VM it should reach, by id.
    pub to: String,
    pub protocol: Protocol,
    /// For tcp and udp: the destination port.
    #[serde(default)]
    pub port: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
}

/// The answer, with what decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reachability {
    pub allowed: bool,
    /// The rule or default that decided, in a word: `same-network`, `default-deny`,
    /// `other-organization`, `no-card`.
    pub decided_by: String,
    /// A sentence for people.
    pub reason: String,
}

/// What a rule lets in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RuleProtocol {
    Tcp,
    Udp,
    Icmp,
    Any,
}

impl RuleProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Icmp => "icmp",
            Self::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Tcp, Self::Udp, Self::Icmp, Self::Any]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A rule letting traffic into a network: from a subnet or from another network of the
/// organization, on a protocol and, for tcp and udp, a port range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRule {
    pub protocol: RuleProtocol,
    /// The first port (tcp and udp only); None: every port.
    #[serde(default)]
    pub port_from: Option<u16>,
    /// The last port; None: the first one only.
    #[serde(default)]
    pub port_to: Option<u16>,
    /// Traffic from this subnet (`10.0.0.0/24`, `10.0.0.5/32`)...
    #[serde(default)]
    pub from_cidr: Option<String>,
    /// ...or from this network of the organization, by id...
    #[serde(default)]
    pub from_network: Option<String>,
    /// ...or from the organization's VMs with this tag (exactly one of the three).
    #[serde(default)]
    pub from_tag: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// A rule as people see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub id: String,
    pub network_id: String,
    pub protocol: RuleProtocol,
    pub port_from: Option<u16>,
    pub port_to: Option<u16>,
    /// `cidr`, `network` or `tag`.
    pub source_kind: String,
    /// The subnet, the source network's name, or the tag.
    pub source: String,
    pub description: String,
    /// "tcp/5432 from network front".
    pub summary: String,
}

/// Every organization's first network.
pub const DEFAULT_NETWORK: &str = "default";
pub const DEFAULT_CIDR: &str = "10.0.0.0/24";

/// A network's name: part of its VMs' DNS names.
pub fn validate_network_name(name: &str) -> Result<(), String> {
    let ok = (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err("A network name needs 1 to 40 lowercase letters, digits and hyphens, starting with a letter, like `backend`.".into())
    }
}

/// The netmask of a prefix length, as a number (`/0` is no mask at all).
pub fn prefix_mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// `a.b.c.d/n` taken apart; None when it is not that shape (or `n` is not a number up to 255).
fn split_cidr(text: &str) -> Option<(std::net::Ipv4Addr, u8)> {
    let (addr, prefix) = text.trim().split_once('/')?;
    Some((addr.parse().ok()?, prefix.parse().ok()?))
}

/// Refuses a subnet not written by its first address.
fn first_address(addr: std::net::Ipv4Addr, prefix: u8) -> Result<(), String> {
    let mask = prefix_mask(prefix);
    if u32::from(addr) & !mask == 0 {
        Ok(())
    } else {
        let first = std::net::Ipv4Addr::from(u32::from(addr) & mask);
        Err(format!(
            "Write the subnet by its first address: {first}/{prefix}."
        ))
    }
}

/// A subnet as `a.b.c.d/n`: its first address and prefix. Private ranges only (RFC 1918 and
/// 100.64.0.0/10), /16 to /28, given by its first address.
pub fn parse_cidr(text: &str) -> Result<([u8; 4], u8), String> {
    let (addr, prefix) =
        split_cidr(text).ok_or_else(|| format!("{text:?} is not a subnet like 10.1.0.0/24."))?;
    if !(16..=28).contains(&prefix) {
        return Err("A network's subnet must be between /16 and /28.".into());
    }
    let o = addr.octets();
    let private = o[0] == 10
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 100 && (64..128).contains(&o[1]));
    if !private {
        return Err(
            "Use a private subnet: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10."
                .into(),
        );
    }
    first_address(addr, prefix)?;
    Ok((o, prefix))
}

/// Any IPv4 subnet (or one address, `/32`) by its first address, `/0` to `/32`: where a
/// rule's traffic may come from.
pub fn parse_any_cidr(text: &str) -> Result<(std::net::Ipv4Addr, u8), String> {
    let bad = || format!("{text:?} is not an address or subnet like 10.0.0.0/24.");
    let (addr, prefix) = split_cidr(text).ok_or_else(bad)?;
    if prefix > 32 {
        return Err(bad());
    }
    first_address(addr, prefix)?;
    Ok((addr, prefix))
}

/// Whether two subnets share an address.
pub fn overlap(a: ([u8; 4], u8), b: ([u8; 4], u8)) -> bool {
    let mask = prefix_mask(a.1.min(b.1));
    u32::from_be_bytes(a.0) & mask == u32::from_be_bytes(b.0) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_are_private_aligned_and_sized() {
        assert_eq!(parse_cidr("10.0.0.0/24"), Ok(([10, 0, 0, 0], 24)));
        assert_eq!(parse_cidr(" 192.168.4.0/22 "), Ok(([192, 168, 4, 0], 22)));
        for bad in [
            "10.0.0.0",
            "10.0.0.0/8",
            "10.0.0.0/29",
            "8.8.8.0/24",
            "10.0.0.1/24",
            "x/24",
            "10.0.0.0/x",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
        assert!(parse_cidr("10.0.0.1/24")
            .unwrap_err()
            .contains("10.0.0.0/24"));
    }

    #[test]
    fn overlapping_subnets_are_found() {
        let p = |s| parse_cidr(s).unwrap();
        assert!(overlap(p("10.0.0.0/16"), p("10.0.5.0/24")));
        assert!(overlap(p("10.0.5.0/24"), p("10.0.0.0/16")));
        assert!(!overlap(p("10.0.0.0/24"), p("10.0.1.0/24")));
    }

    #[test]
    fn names_are_dns_labels() {
        assert!(validate_network_name("backend-2").is_ok());
        for bad in ["", "2net", "Net", "a_b", "a-", &"a".repeat(41)] {
            assert!(validate_network_name(bad).is_err(), "{bad}");
        }
    }
}
