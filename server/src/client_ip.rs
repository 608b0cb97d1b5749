//! The client's address: the socket peer, or, when that peer is a trusted proxy (a load
//! balancer), the address it reports in `X-Forwarded-For`.
//!
//! `X-Forwarded-For` is a list each proxy appends its own peer to, so only its right end is
//! written by proxies we trust: walking from the right past trusted hops, the first untrusted
//! address is the client. A peer that is not trusted is the client, whatever it sends.

use axum::http::HeaderMap;
use std::fmt;
use std::net::IpAddr;

/// One trusted network: an address and how many leading bits must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IP address or CIDR (e.g. 10.0.0.0/8)");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// An IPv4 address a dual-stack socket reports as `::ffff:a.b.c.d` is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed; empty (the default) believes nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Net>);

impl TrustedProxies {
    /// A comma-separated list of IP addresses and CIDRs, e.g. `10.0.0.0/8, 192.168.1.5`.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Net::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client behind a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop we cannot read was not written by a proxy we trust: stop at the last
            // address we could vouch for.
            let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(Net::to_string).collect();
        f.write_str(&list.join(","))
    }
}

impl serde::Serialize for TrustedProxies {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn lists_parse_and_print() {
        let p = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.5 ,fd00::/8,").unwrap();
        assert_eq!(p.to_string(), "10.0.0.0/8,192.168.1.5,fd00::/8");
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("::1/129").is_err());
    }

    #[test]
    fn networks_match_by_prefix() {
        let p = TrustedProxies::parse("10.0.0.0/8,192.168.1.5,fd00::/8,0.0.0.0/0").unwrap();
        assert!(p.trusts(ip("10.200.3.4")));
        assert!(p.trusts(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        assert!(p.trusts(ip("fd12::1")));
        let p = TrustedProxies::parse("10.0.0.0/8,192.168.1.5").unwrap();
        assert!(!p.trusts(ip("11.0.0.1")));
        assert!(!p.trusts(ip("192.168.1.6")));
        assert!(!p.trusts(ip("fe80::1")));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), &xff("1.2.3.4")),
            ip("203.0.113.9"),
            "nobody trusted: the header is ignored"
        );
        let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            p.client(ip("203.0.113.9"), &xff("1.2.3.4")),
            ip("203.0.113.9"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(p.client(ip("10.0.0.2"), &xff("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(
            p.client(ip("10.0.0.2"), &xff("6.6.6.6, 1.2.3.4, 10.0.0.7")),
            ip("1.2.3.4"),
            "a spoofed left part is skipped"
        );
        assert_eq!(
            p.client(ip("10.0.0.2"), &xff("garbage, 10.0.0.7")),
            ip("10.0.0.7"),
            "stops at an unreadable hop"
        );
        assert_eq!(
            p.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2"),
            "no header: the proxy itself"
        );
        let mut two = HeaderMap::new();
        two.append("x-forwarded-for", "6.6.6.6".parse().unwrap());
        two.append("x-forwarded-for", "1.2.3.4".parse().unwrap());
        assert_eq!(p.client(ip("10.0.0.2"), &two), ip("1.2.3.4"));
    }
}
