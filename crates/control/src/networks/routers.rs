//! What an organization's router on a node should be (its networks there and their rules),
//! and bringing the routers up to date on every node that has the organization's VMs when its
//! rules change.

use std::collections::BTreeSet;

use hypervisor::net::{RouterSpec, RuleProtocol as NodeProtocol, RuleSource, RuleSpec};
use model::networks::RuleProtocol;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::rules::{rules_of, Source};
use crate::entities::{network, nic, vm};
use crate::{internal, Control};

/// The router's id: the organization's, shortened (the same on every node).
pub fn router_id(org: Uuid) -> String {
    org.simple().to_string().chars().take(8).collect()
}

/// The router of `org` on `node`: the organization's networks with cards of VMs placed there
/// (and, on a node that tunnels, those with cards on the other nodes that do: see
/// [`super::fabric`]), and their rules. None when it has no VM with a card there.
pub(crate) async fn router_for<C: ConnectionTrait>(
    db: &C,
    org: Uuid,
    node: Option<Uuid>,
) -> Result<Option<RouterSpec>, AppError> {
    let fail = |e| internal("router spec", e);
    let mut vms = vm::Entity::find()
        .select_only()
        .column(vm::Column::Id)
        .filter(vm::Column::OrganizationId.eq(org));
    vms = match node {
        Some(n) => vms.filter(vm::Column::NodeId.eq(n)),
        None => vms.filter(vm::Column::NodeId.is_null()),
    };
    let vm_ids: Vec<Uuid> = vms.into_tuple().all(db).await.map_err(fail)?;
    let vm_ids_here = vm_ids.clone();
    let mut net_ids: BTreeSet<Uuid> = nic::Entity::find()
        .filter(nic::Column::VmId.is_in(vm_ids))
        .all(db)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|c| c.network_id)
        .collect();
    if net_ids.is_empty() {
        return Ok(None);
    }
    let mesh = super::fabric::Mesh::of(db, org).await?;
    net_ids.extend(super::fabric::meshed_networks(&mesh, node));
    // The organization's networks: those with cards here are the router's, the others may
    // still be a rule's source.
    let all_nets = network::Entity::find()
        .filter(network::Column::OrganizationId.eq(org))
        .all(db)
        .await
        .map_err(fail)?;
    let nets: Vec<&network::Model> = all_nets
        .iter()
        .filter(|n| net_ids.contains(&n.id))
        .collect();
    let ids: Vec<Uuid> = nets.iter().map(|n| n.id).collect();
    let mut rules = Vec::new();
    for r in rules_of(db, &ids).await? {
        let Some(to) = nets.iter().find(|n| n.id == r.network) else {
            continue;
        };
        let from = match r.source {
            Source::Cidr(addr, prefix) => RuleSource::Cidr { addr, prefix },
            Source::Network(id) => match all_nets.iter().find(|n| n.id == id) {
                Some(src) => RuleSource::Network {
                    vni: u32::try_from(src.vni).unwrap_or(0),
                },
                None => continue,
            },
            Source::Tag(tag) => RuleSource::Addresses {
                list: tagged_addresses(db, org, &tag).await?,
            },
        };
        rules.push(RuleSpec {
            to: u32::try_from(to.vni).unwrap_or(0),
            protocol: node_protocol(r.protocol),
            ports: r.ports,
            from,
        });
    }
    let networks = nets
        .iter()
        .copied()
        .map(super::cards::network_spec)
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| internal("router spec", e))?;
    Ok(Some(RouterSpec {
        id: router_id(org),
        networks,
        rules,
        fabric: super::fabric::spans(db, &mesh, &nets, node).await?,
        services: super::pools::pools(db, &nets).await?,
        forwards: super::forwards::forwards_for(db, &vm_ids_here).await?,
        egress: nets
            .iter()
            .filter(|n| n.egress)
            .map(|n| u32::try_from(n.vni).unwrap_or(0))
            .collect(),
    }))
}

/// A rule's protocol as the node's firewall takes it.
pub(crate) fn node_protocol(p: RuleProtocol) -> NodeProtocol {
    match p {
        RuleProtocol::Tcp => NodeProtocol::Tcp,
        RuleProtocol::Udp => NodeProtocol::Udp,
        RuleProtocol::Icmp => NodeProtocol::Icmp,
        RuleProtocol::Any => NodeProtocol::Any,
    }
}

/// The addresses, on every network, of the organization's VMs with `tag`.
async fn tagged_addresses<C: ConnectionTrait>(
    db: &C,
    org: Uuid,
    tag: &str,
) -> Result<Vec<std::net::Ipv4Addr>, AppError> {
    let fail = |e| internal("tagged addresses", e);
    let tagged: Vec<Uuid> = vm::Entity::find()
        .filter(vm::Column::OrganizationId.eq(org))
        .filter(vm::Column::Tags.ne(""))
        .all(db)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|v| model::vms::split_tags(&v.tags).iter().any(|t| t == tag))
        .map(|v| v.id)
        .collect();
    let mut list: Vec<std::net::Ipv4Addr> = nic::Entity::find()
        .filter(nic::Column::VmId.is_in(tagged))
        .all(db)
        .await
        .map_err(fail)?
        .iter()
        .filter_map(|c| c.address.parse().ok())
        .collect();
    list.sort_unstable();
    Ok(list)
}

impl Control {
    /// Brings the organization's router up to date on every node where its VMs should run
    /// (best effort: a node that cannot be reached, or one whose VMs are stopped, gets it with
    /// its next VM start).
    pub(crate) async fn push_routers(&self, org: Uuid) {
        self.push_routers_skipping(org, None).await;
    }

    /// The same, but for the node `skip` (which just got its router another way).
    pub(crate) async fn push_routers_except(&self, org: Uuid, skip: Option<Uuid>) {
        self.push_routers_skipping(org, Some(skip)).await;
    }

    async fn push_routers_skipping(&self, org: Uuid, skip: Option<Option<Uuid>>) {
        let nodes: Vec<Option<Uuid>> = match vm::Entity::find()
            .select_only()
            .column(vm::Column::NodeId)
            .filter(vm::Column::OrganizationId.eq(org))
            .filter(vm::Column::DesiredState.eq(crate::entities::states::Desired::Running))
            .distinct()
            .into_tuple()
            .all(self.db())
            .await
        {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the nodes of an organization's VMs");
                return;
            }
        };
        for node in nodes.into_iter().filter(|n| Some(*n) != skip) {
            let spec = match router_for(self.db(), org, node).await {
                Ok(Some(spec)) => spec,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot build a router");
                    continue;
                }
            };
            let applied = match self.node_driver(node) {
                Ok(driver) => driver.apply_router(&spec).await,
                Err(e) => Err(e),
            };
            if let Err(e) = applied {
                tracing::warn!(router = %spec.id, node = ?node, error = %e, "router not brought up to date");
            }
        }
    }
}
