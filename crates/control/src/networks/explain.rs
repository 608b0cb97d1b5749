//! "Can VM A reach VM B on tcp/5432?": allowed or denied, with the rule or default that
//! decides, the way the Access panel explains permissions. Decided from the records the nodes
//! are built from: VMs of different organizations are on separate switches; within one, a
//! network takes inbound traffic from its own VMs, and from other networks only through a
//! rule (rules come with the organization's router; until then there is none).

use model::networks::{Protocol, ReachQuery, Reachability};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::EntityTrait;

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
    /// The networks its cards are on: (id, name).
    pub networks: Vec<(Uuid, String)>,
}

/// The decision, from the two VMs alone.
pub fn decide(from: &Side, to: &Side, protocol: Protocol, port: Option<u16>) -> Reachability {
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
    if let Some((_, net)) = to
        .networks
        .iter()
        .find(|(id, _)| from.networks.iter().any(|(other, _)| other == id))
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
    let theirs: Vec<&str> = to.networks.iter().map(|(_, n)| n.as_str()).collect();
    deny(
        "default-deny",
        format!(
            "{} cannot reach {} on {what}: {} is only on {}, where inbound traffic from other networks is denied by default and no rule allows it.",
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
        Ok(decide(&from, &to, q.protocol, q.port))
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
            name: row.name,
            organization: row.organization_id,
            networks: cards
                .into_iter()
                .filter_map(|c| Some((c.network_id.parse().ok()?, c.network)))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(name: &str, org: u128, nets: &[(u128, &str)]) -> Side {
        Side {
            name: name.into(),
            organization: Uuid::from_u128(org),
            networks: nets
                .iter()
                .map(|(id, n)| (Uuid::from_u128(*id), (*n).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn the_same_network_is_allowed_and_everything_else_says_why_not() {
        let web = side("web", 1, &[(10, "default")]);
        let db = side("db", 1, &[(10, "default"), (11, "back")]);
        let back_only = side("vault", 1, &[(11, "back")]);
        let spy = side("spy", 2, &[(20, "default")]);
        let island = side("island", 1, &[]);

        let r = decide(&web, &db, Protocol::Tcp, Some(5432));
        assert!(r.allowed);
        assert_eq!(r.decided_by, "same-network");
        assert!(
            r.reason.contains("tcp/5432") && r.reason.contains("default"),
            "{}",
            r.reason
        );

        let r = decide(&web, &back_only, Protocol::Tcp, Some(5432));
        assert!(!r.allowed);
        assert_eq!(r.decided_by, "default-deny");
        assert!(r.reason.contains("only on back"), "{}", r.reason);

        let r = decide(&spy, &web, Protocol::Icmp, None);
        assert_eq!(
            (r.allowed, r.decided_by.as_str()),
            (false, "other-organization")
        );

        let r = decide(&web, &island, Protocol::Udp, Some(53));
        assert_eq!((r.allowed, r.decided_by.as_str()), (false, "no-card"));
        assert!(
            r.reason.contains("island has no network card"),
            "{}",
            r.reason
        );
    }
}
