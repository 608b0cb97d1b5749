//! The names of a network's devices on a node (at most 15 bytes, the kernel's limit), and the
//! checks of the names and addresses that reach command lines and dnsmasq's files.

/// The most network cards a VM may have: the tap's name has one digit for the card.
pub const MAX_NICS: usize = 8;

/// The network's bridge: `sbr` and the network's number in hex.
pub fn bridge_name(vni: u32) -> String {
    format!("sbr{vni:06x}")
}

/// The bridge's side of the veth pair that reaches the network's DHCP and DNS namespace.
pub fn service_veth(vni: u32) -> String {
    format!("sdh{vni:06x}")
}

/// The other side, inside that namespace.
pub const SERVICE_INSIDE: &str = "svc0";

/// The namespace holding the network's dnsmasq on this node; `tag` tells apart several nodes
/// on one machine (the tests).
pub fn service_netns(tag: &str, vni: u32) -> String {
    format!("{tag}-n{vni:x}")
}

/// A node's tag (see [`service_netns`]) from the directory it keeps its networks in: `s` and
/// eight hex digits of a hash of the path, the same after a restart, different for every node
/// directory on a machine.
pub fn tag_for(dir: &std::path::Path) -> String {
    format!("s{:08x}", fnv1a(dir.to_string_lossy().as_bytes()))
}

/// FNV-1a, 32 bits: small, stable across Rust versions (unlike the standard library's
/// hasher), so names and addresses made from it stay the same after an upgrade.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// The tap of a VM's card: `st`, the first 11 letters and digits of the VM's id, the card's
/// index. Stable, so a restarted node finds it again.
pub fn tap_name(vm_id: &str, index: usize) -> String {
    let short: String = vm_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(11)
        .collect();
    format!("st{short}{}", index % 10)
}

/// A DNS label: 1 to 63 of a-z, 0-9 and `-`, not starting or ending with `-`.
pub fn is_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `xx:xx:xx:xx:xx:xx` in lower-case hex, unicast.
pub fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts.iter().all(|p| {
            p.len() == 2
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        && u8::from_str_radix(parts[0], 16).is_ok_and(|first| first & 1 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_fit_the_kernels_limit() {
        assert_eq!(bridge_name(0xff_ffff), "sbrffffff");
        assert_eq!(service_veth(42), "sdh00002a");
        let tap = tap_name("4f1c2b7e-0d3a-4c55-9a9e-2f6d8b1c0e7a", 7);
        assert_eq!(tap, "st4f1c2b7e0d37");
        for name in [bridge_name(0xff_ffff), service_veth(0xff_ffff), tap] {
            assert!(name.len() <= 15, "{name}");
        }
    }

    #[test]
    fn a_nodes_tag_comes_from_its_directory() {
        let a = tag_for(std::path::Path::new("/var/lib/strata/networks"));
        assert_eq!(a, tag_for(std::path::Path::new("/var/lib/strata/networks")));
        assert_ne!(a, tag_for(std::path::Path::new("/tmp/other/networks")));
        assert_eq!(a.len(), 9);
    }

    #[test]
    fn labels_and_macs_are_checked() {
        assert!(is_label("web-1"));
        for bad in ["", "-a", "a-", "A", "a.b", "a b", &"a".repeat(64)] {
            assert!(!is_label(bad), "{bad}");
        }
        assert!(is_mac("52:54:00:ab:cd:ef"));
        for bad in [
            "52:54:00:ab:cd",
            "52:54:00:AB:CD:EF",
            "53:54:00:ab:cd:ef",
            "52-54-00-ab-cd-ef",
        ] {
            assert!(!is_mac(bad), "{bad}");
        }
    }
}
