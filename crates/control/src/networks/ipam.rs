//! Addresses and MACs for network cards: the lowest free host address of a subnet, leaving
//! the first ten to the network itself (gateway, DNS server, and room for what comes later),
//! and random locally administered MACs under QEMU's prefix.

use std::collections::HashSet;
use std::net::Ipv4Addr;

/// Host addresses below this offset are the network's own: .1 the gateway, .2 the DNS server.
pub const FIRST_CARD: u32 = 10;

/// The gateway and DNS server addresses of a subnet.
pub fn service_addresses(subnet: Ipv4Addr) -> (Ipv4Addr, Ipv4Addr) {
    let base = u32::from(subnet);
    (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2))
}

/// The lowest address of the subnet from [`FIRST_CARD`] on that is not taken and not the
/// broadcast address; None when the subnet is full.
pub fn next_address(subnet: Ipv4Addr, prefix: u8, taken: &HashSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let size = 1u32.checked_shl(32 - u32::from(prefix))?;
    let base = u32::from(subnet);
    (FIRST_CARD..size.saturating_sub(1))
        .map(|offset| Ipv4Addr::from(base + offset))
        .find(|a| !taken.contains(a))
}

/// `52:54:00:xx:xx:xx` from three random bytes.
pub fn random_mac() -> String {
    let b = uuid::Uuid::new_v4().into_bytes();
    format!("52:54:00:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_get_the_lowest_free_address_after_the_networks_own() {
        let net = Ipv4Addr::new(10, 0, 0, 0);
        let mut taken = HashSet::new();
        assert_eq!(
            next_address(net, 24, &taken),
            Some(Ipv4Addr::new(10, 0, 0, 10))
        );
        taken.insert(Ipv4Addr::new(10, 0, 0, 10));
        taken.insert(Ipv4Addr::new(10, 0, 0, 12));
        assert_eq!(
            next_address(net, 24, &taken),
            Some(Ipv4Addr::new(10, 0, 0, 11))
        );
        // A /28 has 16 addresses: .10 to .14 for cards, .15 is the broadcast.
        let small: HashSet<_> = (10..15).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
        assert_eq!(next_address(net, 28, &small), None);
        assert_eq!(
            service_addresses(net),
            (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2))
        );
    }

    #[test]
    fn macs_are_qemus_and_unicast() {
        let mac = random_mac();
        assert!(mac.starts_with("52:54:00:"));
        assert_eq!(mac.len(), 17);
    }
}
