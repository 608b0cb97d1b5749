//! A network's rules: what it lets in from elsewhere in its organization (a subnet, another
//! network or the VMs with a tag; a protocol, a port range). Changing them rebuilds the organization's routers on the
//! nodes that have its VMs.

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use model::networks::{parse_any_cidr, prefix_mask, NewRule, RuleProtocol, RuleView};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::audit::{self, Action, Entry};
use crate::auth::Caller;
use crate::entities::{network, network_rule};
use crate::{internal, Control};

/// The most rules a network may have.
pub const MAX_RULES: usize = 256;

/// A rule's source, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Cidr(Ipv4Addr, u8),
    Network(Uuid),
    /// The organization's VMs with this tag.
    Tag(String),
}

impl Source {
    /// Whether `addr` (on network `net`, of a VM with `tags`) is one this source names.
    pub fn admits(&self, net: Uuid, addr: Ipv4Addr, tags: &[String]) -> bool {
        match self {
            Source::Network(id) => *id == net,
            Source::Tag(tag) => tags.contains(tag),
            Source::Cidr(first, prefix) => {
                let mask = prefix_mask(*prefix);
                u32::from(addr) & mask == u32::from(*first) & mask
            }
        }
    }
}

/// A rule row, parsed (rows that do not parse are skipped: they were checked when written).
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: Uuid,
    pub network: Uuid,
    pub protocol: RuleProtocol,
    pub ports: Option<(u16, u16)>,
    pub source: Source,
}

impl Rule {
    pub fn from_row(row: &network_rule::Model) -> Option<Self> {
        let protocol = RuleProtocol::parse(&row.protocol)?;
        let ports = match (row.port_from, row.port_to) {
            (Some(a), Some(b)) => Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?)),
            _ => None,
        };
        let source = match row.source_kind.as_str() {
            "cidr" => {
                let (a, p) = parse_any_cidr(&row.source).ok()?;
                Source::Cidr(a, p)
            }
            "network" => Source::Network(row.source.parse().ok()?),
            "tag" => Source::Tag(row.source.clone()),
            _ => return None,
        };
        Some(Self {
            id: row.id,
            network: row.network_id,
            protocol,
            ports,
            source,
        })
    }

    /// "tcp/5432", "udp/1000-2000", "icmp", "all traffic".
    pub fn what(&self) -> String {
        match (self.protocol, self.ports) {
            (RuleProtocol::Any, _) => "all traffic".into(),
            (RuleProtocol::Icmp, _) => "icmp".into(),
            (p, None) => format!("{} on every port", p.as_str()),
            (p, Some((a, b))) if a == b => format!("{}/{a}", p.as_str()),
            (p, Some((a, b))) => format!("{}/{a}-{b}", p.as_str()),
        }
    }
}

/// Every rule of these networks, oldest first.
pub(crate) async fn rules_of<C: ConnectionTrait>(
    db: &C,
    networks: &[Uuid],
) -> Result<Vec<Rule>, AppError> {
    Ok(network_rule::Entity::find()
        .filter(network_rule::Column::NetworkId.is_in(networks.to_vec()))
        .order_by_asc(network_rule::Column::CreatedAt)
        .all(db)
        .await
        .map_err(|e| internal("read network rules", e))?
        .iter()
        .filter_map(Rule::from_row)
        .collect())
}

impl Control {
    /// A network's rules, oldest first.
    pub async fn network_rules(
        &self,
        caller: &Caller,
        network_id: &str,
    ) -> Result<Vec<RuleView>, AppError> {
        let net = self.readable_network(caller, network_id).await?;
        let rows = network_rule::Entity::find()
            .filter(network_rule::Column::NetworkId.eq(net.id))
            .order_by_asc(network_rule::Column::CreatedAt)
            .all(self.db())
            .await
            .map_err(|e| internal("read network rules", e))?;
        let names = self.network_names(net.organization_id).await?;
        Ok(rows.iter().map(|r| view(r, &names)).collect())
    }

    /// Adds a rule to a network and rebuilds its organization's routers.
    pub async fn add_network_rule(
        &self,
        caller: &Caller,
        network_id: &str,
        new: &NewRule,
        now: DateTime<Utc>,
    ) -> Result<RuleView, AppError> {
        let id = parse_id(network_id, Kind::Network)?;
        let res = Resource::new(Kind::Network, id);
        let allowed = self
            .authorize_action(caller, Permission::Update, &res, Action::NetworkRuleAdd)
            .await?;
        let fail = |e| internal("add network rule", e);
        let description = new.description.trim();
        model::text::check_text("A rule's description", description, 200, false)
            .map_err(AppError::Invalid)?;
        let ports = checked_ports(new)?;
        // Read and checked before the transaction, which starts with its write: on SQLite a
        // transaction that reads first cannot write once another connection has written.
        let net = network::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Network))?;
        let (kind, source) = checked_source(self.db(), &net, new).await?;
        let txn = self.db().begin().await.map_err(fail)?;
        let row = network_rule::ActiveModel {
            id: Set(Uuid::new_v4()),
            network_id: Set(id),
            protocol: Set(new.protocol.as_str().to_owned()),
            port_from: Set(ports.map(|(a, _)| i32::from(a))),
            port_to: Set(ports.map(|(_, b)| i32::from(b))),
            source_kind: Set(kind.to_owned()),
            source: Set(source),
            description: Set(description.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(fail)?;
        let count = network_rule::Entity::find()
            .filter(network_rule::Column::NetworkId.eq(id))
            .count(&txn)
            .await
            .map_err(fail)?;
        if usize::try_from(count).unwrap_or(usize::MAX) > MAX_RULES {
            return Err(AppError::Conflict(format!(
                "Network {} has {MAX_RULES} rules, the most it may have.",
                net.name
            )));
        }
        let names = self.network_names_in(&txn, net.organization_id).await?;
        let shown = view(&row, &names);
        let entry = Entry::new(Action::NetworkRuleAdd, &res)
            .org(net.organization_id)
            .detail(serde_json::json!({ "network": net.name, "rule": shown.summary }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.push_routers(net.organization_id).await;
        Ok(shown)
    }

    /// Removes a rule from a network and rebuilds its organization's routers.
    pub async fn remove_network_rule(
        &self,
        caller: &Caller,
        network_id: &str,
        rule_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(network_id, Kind::Network)?;
        let res = Resource::new(Kind::Network, id);
        let allowed = self
            .authorize_action(caller, Permission::Update, &res, Action::NetworkRuleRemove)
            .await?;
        let rule_id: Uuid = rule_id
            .trim()
            .parse()
            .map_err(|_| AppError::NotFound("No such rule.".into()))?;
        let fail = |e| internal("remove network rule", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let net = network::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Network))?;
        let row = network_rule::Entity::find_by_id(rule_id)
            .one(&txn)
            .await
            .map_err(fail)?
            .filter(|r| r.network_id == id)
            .ok_or_else(|| AppError::NotFound("No such rule.".into()))?;
        let names = self.network_names_in(&txn, net.organization_id).await?;
        let summary = view(&row, &names).summary;
        network_rule::Entity::delete_by_id(rule_id)
            .exec(&txn)
            .await
            .map_err(fail)?;
        let entry = Entry::new(Action::NetworkRuleRemove, &res)
            .org(net.organization_id)
            .detail(serde_json::json!({ "network": net.name, "rule": summary }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.push_routers(net.organization_id).await;
        Ok(())
    }

    /// The network, when the caller may read it (otherwise not found).
    pub(super) async fn readable_network(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<network::Model, AppError> {
        let id = parse_id(id, Kind::Network)?;
        self.authorize(caller, Permission::Read, &Resource::new(Kind::Network, id))
            .await?;
        network::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("read network", e))?
            .ok_or_else(|| not_found(Kind::Network))
    }

    async fn network_names(&self, org: Uuid) -> Result<Vec<(Uuid, String)>, AppError> {
        self.network_names_in(self.db(), org).await
    }

    async fn network_names_in<C: ConnectionTrait>(
        &self,
        db: &C,
        org: Uuid,
    ) -> Result<Vec<(Uuid, String)>, AppError> {
        Ok(network::Entity::find()
            .filter(network::Column::OrganizationId.eq(org))
            .all(db)
            .await
            .map_err(|e| internal("read networks", e))?
            .into_iter()
            .map(|n| (n.id, n.name))
            .collect())
    }
}

/// The source a new rule names: exactly one of a subnet and another network of the
/// organization.
async fn checked_source<C: ConnectionTrait>(
    db: &C,
    net: &network::Model,
    new: &NewRule,
) -> Result<(&'static str, String), AppError> {
    let cidr = new
        .from_cidr
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let other = new
        .from_network
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let tag = new
        .from_tag
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (cidr, other, tag) {
        (None, None, Some(t)) => {
            model::vms::validate_tags(&[t.to_owned()]).map_err(AppError::Invalid)?;
            Ok(("tag", t.to_owned()))
        }
        (Some(c), None, None) => {
            let (a, p) = parse_any_cidr(c).map_err(AppError::Invalid)?;
            Ok(("cidr", format!("{a}/{p}")))
        }
        (None, Some(o), None) => {
            let bad = || {
                AppError::Invalid(
                    "The source network is not another network of this organization.".into(),
                )
            };
            let id: Uuid = o.parse().map_err(|_| bad())?;
            let src = network::Entity::find_by_id(id)
                .one(db)
                .await
                .map_err(|e| internal("read network", e))?
                .filter(|s| s.organization_id == net.organization_id && s.id != net.id)
                .ok_or_else(bad)?;
            Ok(("network", src.id.to_string()))
        }
        _ => Err(AppError::Invalid(
            "Name where the traffic comes from: a subnet, another network or a tag (one of the three)."
                .into(),
        )),
    }
}

fn checked_ports(new: &NewRule) -> Result<Option<(u16, u16)>, AppError> {
    match (new.protocol, new.port_from, new.port_to) {
        (_, None, None) => Ok(None),
        (RuleProtocol::Tcp | RuleProtocol::Udp, Some(a), b) => {
            let b = b.unwrap_or(a);
            if a == 0 || b < a {
                Err(AppError::Invalid(
                    "Ports run from 1 to 65535, the first no higher than the last.".into(),
                ))
            } else {
                Ok(Some((a, b)))
            }
        }
        (RuleProtocol::Tcp | RuleProtocol::Udp, None, Some(_)) => Err(AppError::Invalid(
            "Give the first port of the range.".into(),
        )),
        _ => Err(AppError::Invalid(
            "Only tcp and udp rules have ports.".into(),
        )),
    }
}

fn view(row: &network_rule::Model, names: &[(Uuid, String)]) -> RuleView {
    let source = if row.source_kind == "network" {
        names
            .iter()
            .find(|(id, _)| id.to_string() == row.source)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| "a removed network".into())
    } else {
        row.source.clone()
    };
    let what = Rule::from_row(row)
        .map(|r| r.what())
        .unwrap_or_else(|| row.protocol.clone());
    let from = match row.source_kind.as_str() {
        "network" => format!("network {source}"),
        "tag" => format!("VMs tagged {source}"),
        _ => source.clone(),
    };
    RuleView {
        id: row.id.to_string(),
        network_id: row.network_id.to_string(),
        protocol: RuleProtocol::parse(&row.protocol).unwrap_or(RuleProtocol::Any),
        port_from: row.port_from.and_then(|p| u16::try_from(p).ok()),
        port_to: row.port_to.and_then(|p| u16::try_from(p).ok()),
        source_kind: row.source_kind.clone(),
        source,
        description: row.description.clone(),
        summary: format!("{what} from {from}"),
    }
}
