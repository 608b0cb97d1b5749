//! "Can VM A reach VM B on tcp/5432?": allowed or denied, with the rule or default that
//! decides, the way the Access panel explains permissions. Decided from the records the nodes
//! are built from: VMs of different organizations are on separate switches; within one, a
//! network takes inbound traffic from its own VMs, and from its organization's other networks
//! only what one of its rules allows (the router's firewall is compiled from the same rules).

use std::net::Ipv4Addr;

use model::networks::{Protocol, ReachQuery, Reachability, RuleProtocol};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::EntityTrait;

use super::rules::Rule;
use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::auth::Caller;
use crate::entities::vm;
use crate::{internal, Control};

/// What the decision needs of one VM.
#[derive(Clone, Debug)]
pub struct Side {
    pub name: String,
    pub organization: Uuid,
    /// Its cards: the network (id, name) and the address there.
    pub networks: Vec<(Uuid, String, Ipv4Addr)>,
    pub tags: Vec<String>,
}

/// Whether a rule lets this protocol and port in.
fn covers(rule: &Rule, protocol: Protocol, port: Option<u16>) -> bool {
    let proto = match (rule.protocol, protocol) {
        (RuleProtocol::Any, _) => return true,
        (RuleProtocol::Icmp, Protocol::Icmp) => return true,
        (RuleProtocol::Tcp, Protocol::Tcp) | (RuleProtocol::Udp, Protocol::Udp) => true,
        _ => false,
    };
    proto
        && match (rule.ports, port) {
            (None, _) => true,
            (Some((a, b)), Some(p)) => (a..=b).contains(&p),
            (Some(_), None) => false,
        }
}

/// The decision, from the two VMs and the rules of the networks `to` is on.
pub fn decide(
    from: &Side,
    to: &Side,
    rules: &[Rule],
    protocol: Protocol,
    port: Option<u16>,
) -> Reachability {
    let what = match (protocol, port) {
        (Protocol::Icmp, _) => "icmp".to_owned(),
        (p, Some(port)) => format!("{}/{port}", proto(p)),
        (p, None) => proto(p).to_owned(),
    };
    let deny = |decided_by: &str, reason: String| Reachability {
        allowed: false,
        decided_by: decided_by.to_owned(),
        reason,
    };
    for side in [from, to] {
        if side.networks.is_empty() {
            return deny(
                "no-card",
                format!(
                    "{} cannot reach {} on {what}: {} has no network card.",
                    from.name, to.name, side.name
                ),
            );
        }
    }
    if from.organization != to.organization {
        return deny(
            "other-organization",
            format!(
                "{} cannot reach {} on {what}: VMs of different organizations are on separate networks, even with the same subnet.",
                from.name, to.name
            ),
        );
    }
    if let Some((_, net, _)) = to
        .networks
        .iter()
        .find(|(id, _, _)| from.networks.iter().any(|(other, _, _)| other == id))
    {
        return Reachability {
            allowed: true,
            decided_by: "same-network".into(),
            reason: format!(
                "{} may reach {} on {what}: both are on network {net}, and a network takes inbound traffic from its own VMs.",
                from.name, to.name
            ),
        };
    }
    for (net, net_name, _) in &to.networks {
        for rule in rules.iter().filter(|r| r.network == *net) {
            let source = from
                .networks
                .iter()
                .find(|(id, _, addr)| rule.source.admits(*id, *addr, &from.tags));
            if let (Some((_, src_name, addr)), true) = (source, covers(rule, protocol, port)) {
                let whence = match rule.source {
                    super::rules::Source::Network(_) => format!("network {src_name}"),
                    super::rules::Source::Cidr(a, p) => format!("{a}/{p} (which holds {addr})"),
                    super::rules::Source::Tag(ref t) => {
                        format!("VMs tagged {t} (which {} is)", from.name)
                    }
                };
                return Reachability {
                    allowed: true,
                    decided_by: format!("rule:{}", rule.id),
                    reason: format!(
                        "{} may reach {} on {what}: network {net_name} has a rule letting in {} from {whence}.",
                        from.name,
                        to.name,
                        rule.what()
                    ),
                };
            }
        }
    }
    let theirs: Vec<&str> = to.networks.iter().map(|(_, n, _)| n.as_str()).collect();
    deny(
        "default-deny",
        format!(
            "{} cannot reach {} on {what}: {} is only on {}, which takes no traffic from other networks unless a rule lets it in, and no rule does.",
            from.name,
            to.name,
            to.name,
            theirs.join(" and ")
        ),
    )
}

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Icmp => "icmp",
    }
}

impl Control {
    /// Explains whether one VM reaches another; the caller must see both.
    pub async fn explain_reach(
        &self,
        caller: &Caller,
        q: &ReachQuery,
    ) -> Result<Reachability, AppError> {
        if matches!(q.protocol, Protocol::Tcp | Protocol::Udp) && q.port.is_none_or(|p| p == 0) {
            return Err(AppError::Invalid(
                "Name a port from 1 to 65535 for tcp and udp.".into(),
            ));
        }
        let from = self.side(caller, &q.from).await?;
        let to = self.side(caller, &q.to).await?;
        let nets: Vec<Uuid> = to.networks.iter().map(|(id, _, _)| *id).collect();
        let rules = super::rules::rules_of(self.db(), &nets).await?;
        Ok(decide(&from, &to, &rules, q.protocol, q.port))
    }

    async fn side(&self, caller: &Caller, id: &str) -> Result<Side, AppError> {
        let id = parse_id(id, Kind::Vm)?;
        self.authorize(caller, Permission::Read, &Resource::vm(id))
            .await?;
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("read vm", e))?
            .ok_or_else(|| not_found(Kind::Vm))?;
        let cards = super::cards::views(self.db(), id, &row.name).await?;
        Ok(Side {
            tags: model::vms::split_tags(&row.tags),
            name: row.name,
            organization: row.organization_id,
            networks: cards
                .into_iter()
                .filter_map(|c| {
                    Some((
                        c.network_id.parse().ok()?,
                        c.network,
                        c.address.parse().ok()?,
                    ))
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::Source;
    use super::*;

    fn side(name: &str, org: u128, nets: &[(u128, &str)]) -> Side {
        Side {
            name: name.into(),
            organization: Uuid::from_u128(org),
            networks: nets
                .iter()
                .map(|(id, n)| {
                    let third = u8::try_from(*id).unwrap();
                    (
                        Uuid::from_u128(*id),
                        (*n).to_owned(),
                        Ipv4Addr::new(10, third, 0, 10),
                    )
                })
                .collect(),
            tags: Vec::new(),
        }
    }

    fn rule(to: u128, protocol: RuleProtocol, ports: Option<(u16, u16)>, source: Source) -> Rule {
        Rule {
            id: Uuid::from_u128(77),
            network: Uuid::from_u128(to),
            protocol,
            ports,
            source,
        }
    }

    #[test]
    fn the_same_network_is_allowed_and_everything_else_says_why_not() {
        let web = side("web", 1, &[(10, "default")]);
        let db = side("db", 1, &[(10, "default"), (11, "back")]);
        let back_only = side("vault", 1, &[(11, "back")]);
        let spy = side("spy", 2, &[(20, "default")]);
        let island = side("island", 1, &[]);

        let r = decide(&web, &db, &[], Protocol::Tcp, Some(5432));
        assert!(r.allowed);
        assert_eq!(r.decided_by, "same-network");
        assert!(
            r.reason.contains("tcp/5432") && r.reason.contains("default"),
            "{}",
            r.reason
        );

        let r = decide(&web, &back_only, &[], Protocol::Tcp, Some(5432));
        assert!(!r.allowed);
        assert_eq!(r.decided_by, "default-deny");
        assert!(r.reason.contains("only on back"), "{}", r.reason);

        // A rule of back: tcp/5432 from network default lets web in on that port only.
        let rules = [rule(
            11,
            RuleProtocol::Tcp,
            Some((5432, 5432)),
            Source::Network(Uuid::from_u128(10)),
        )];
        let r = decide(&web, &back_only, &rules, Protocol::Tcp, Some(5432));
        assert_eq!(
            (r.allowed, r.decided_by.as_str()),
            (true, "rule:00000000-0000-0000-0000-00000000004d"),
            "{}",
            r.reason
        );
        assert!(
            r.reason.contains("tcp/5432 from network default"),
            "{}",
            r.reason
        );
        assert!(!decide(&web, &back_only, &rules, Protocol::Tcp, Some(22)).allowed);
        assert!(!decide(&web, &back_only, &rules, Protocol::Icmp, None).allowed);
        // By subnet: web's address 10.10.0.10 is in 10.10.0.0/16; 10.9.0.0/16 is not.
        let by_cidr = [rule(
            11,
            RuleProtocol::Icmp,
            None,
            Source::Cidr(Ipv4Addr::new(10, 10, 0, 0), 16),
        )];
        assert!(decide(&web, &back_only, &by_cidr, Protocol::Icmp, None).allowed);
        let elsewhere = [rule(
            11,
            RuleProtocol::Any,
            None,
            Source::Cidr(Ipv4Addr::new(10, 9, 0, 0), 16),
        )];
        assert!(!decide(&web, &back_only, &elsewhere, Protocol::Icmp, None).allowed);

        // By tag: only a VM with the tag is let in.
        let by_tag = [rule(
            11,
            RuleProtocol::Tcp,
            Some((5432, 5432)),
            Source::Tag("db-client".into()),
        )];
        assert!(!decide(&web, &back_only, &by_tag, Protocol::Tcp, Some(5432)).allowed);
        let tagged = Side {
            tags: vec!["db-client".into()],
            ..web.clone()
        };
        let r = decide(&tagged, &back_only, &by_tag, Protocol::Tcp, Some(5432));
        assert!(r.allowed, "{}", r.reason);
        assert!(r.reason.contains("VMs tagged db-client"), "{}", r.reason);

        let r = decide(&spy, &web, &[], Protocol::Icmp, None);
        assert_eq!(
            (r.allowed, r.decided_by.as_str()),
            (false, "other-organization")
        );

        let r = decide(&web, &island, &[], Protocol::Udp, Some(53));
        assert_eq!((r.allowed, r.decided_by.as_str()), (false, "no-card"));
        assert!(
            r.reason.contains("island has no network card"),
            "{}",
            r.reason
        );
    }
}
