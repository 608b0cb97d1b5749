//! An organization's networks across nodes. Every node that tunnels (an agent's host: the
//! embedded node has no underlay) and runs a VM of the organization with a card joins every
//! network of the organization that has cards on such nodes: its router can then route to any
//! of them, sending what goes to a card on another node out by its own leg on that network
//! (see `hypervisor::net::fabric`). This module says, for a node's router, which networks it
//! joins, the other nodes their VXLAN traffic goes to, the remote cards' names and the leg
//! addresses; gives the routers their legs; and brings the other nodes up to date when a VM
//! starts somewhere new.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use hypervisor::net::{RemoteHost, Span};
use hypervisor::MachineSpec;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use crate::entities::{network, network_leg, nic, node, vm};
use crate::{internal, Control};

/// A node's address for the tunnels between nodes: the address its agent links from. The
/// embedded node has none (its networks stay on this host).
fn underlay(row: &node::Model) -> Option<Ipv4Addr> {
    if row.is_local {
        return None;
    }
    row.address.parse().ok()
}

/// The organization's VMs with cards on nodes that tunnel: those nodes (with their address),
/// the VMs and their cards. Read once per router built.
pub(crate) struct Mesh {
    nodes: Vec<(Uuid, Ipv4Addr)>,
    vms: Vec<vm::Model>,
    cards: Vec<nic::Model>,
}

impl Mesh {
    pub(crate) async fn of<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Self, AppError> {
        let fail = |e| internal("network mesh", e);
        let tunnels: Vec<(Uuid, Ipv4Addr)> = node::Entity::find()
            .all(db)
            .await
            .map_err(fail)?
            .iter()
            .filter_map(|n| Some((n.id, underlay(n)?)))
            .collect();
        let vms = vm::Entity::find()
            .filter(vm::Column::OrganizationId.eq(org))
            .filter(vm::Column::NodeId.is_in(tunnels.iter().map(|(id, _)| *id)))
            .all(db)
            .await
            .map_err(fail)?;
        let cards = nic::Entity::find()
            .filter(nic::Column::VmId.is_in(vms.iter().map(|v| v.id)))
            .all(db)
            .await
            .map_err(fail)?;
        let used: BTreeSet<Option<Uuid>> = vms
            .iter()
            .filter(|v| cards.iter().any(|c| c.vm_id == v.id))
            .map(|v| v.node_id)
            .collect();
        let nodes = tunnels
            .into_iter()
            .filter(|(id, _)| used.contains(&Some(*id)))
            .collect();
        Ok(Self { nodes, vms, cards })
    }

    fn has(&self, node: Uuid) -> bool {
        self.nodes.iter().any(|(id, _)| *id == node)
    }

    /// The networks with cards in the mesh.
    fn networks(&self) -> BTreeSet<Uuid> {
        self.cards.iter().map(|c| c.network_id).collect()
    }

    fn node_of(&self, card: &nic::Model) -> Option<Uuid> {
        self.vms.iter().find(|v| v.id == card.vm_id)?.node_id
    }
}

/// The networks of the organization (its `mesh`) that a router on `node` joins besides those of
/// its own VMs' cards: every network with cards on nodes that tunnel, when `node` is one of them.
pub(crate) fn meshed_networks(mesh: &Mesh, node: Option<Uuid>) -> BTreeSet<Uuid> {
    match node {
        Some(node) if mesh.has(node) => mesh.networks(),
        _ => BTreeSet::new(),
    }
}

/// For each of `nets` (the networks of a router of the organization with `mesh` on `here`), the
/// other nodes its traffic goes to, the cards on them and the router's leg. Empty when `here`
/// does not tunnel.
pub(crate) async fn spans<C: ConnectionTrait>(
    db: &C,
    mesh: &Mesh,
    nets: &[&network::Model],
    here: Option<Uuid>,
) -> Result<Vec<Span>, AppError> {
    let Some(here) = here else {
        return Ok(Vec::new());
    };
    if !mesh.has(here) {
        return Ok(Vec::new());
    }
    let peers: Vec<Ipv4Addr> = mesh
        .nodes
        .iter()
        .filter(|(id, _)| *id != here)
        .map(|(_, addr)| *addr)
        .collect();
    if peers.is_empty() {
        return Ok(Vec::new());
    }
    let legs = network_leg::Entity::find()
        .filter(network_leg::Column::NodeId.eq(here))
        .filter(network_leg::Column::NetworkId.is_in(nets.iter().map(|n| n.id)))
        .all(db)
        .await
        .map_err(|e| internal("router legs", e))?;
    let mut spans = Vec::new();
    for net in nets {
        let mut hosts: Vec<RemoteHost> = mesh
            .cards
            .iter()
            .filter(|c| c.network_id == net.id)
            .filter(|c| mesh.node_of(c).is_some_and(|n| n != here))
            .filter_map(|c| {
                let vm = mesh.vms.iter().find(|v| v.id == c.vm_id)?;
                Some(RemoteHost {
                    address: c.address.parse().ok()?,
                    hostname: vm.name.clone(),
                })
            })
            .collect();
        hosts.sort_by_key(|h| h.address);
        spans.push(Span {
            vni: u32::try_from(net.vni).unwrap_or(0),
            peers: peers.clone(),
            hosts,
            leg: legs
                .iter()
                .find(|l| l.network_id == net.id)
                .and_then(|l| l.address.parse().ok()),
        });
    }
    Ok(spans)
}

/// Gives every router of the organization's mesh a leg on every network of the mesh it has
/// none on yet (an address of the network's own, taken like a card's). Runs in the
/// transaction that adds a card, after the card and its VM are written.
pub(crate) async fn ensure_legs<C: ConnectionTrait>(
    txn: &C,
    org: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fail = |e| internal("router legs", e);
    let mesh = Mesh::of(txn, org).await?;
    if mesh.nodes.len() < 2 {
        return Ok(());
    }
    let nets = network::Entity::find()
        .filter(network::Column::Id.is_in(mesh.networks()))
        .all(txn)
        .await
        .map_err(fail)?;
    let had = network_leg::Entity::find()
        .filter(network_leg::Column::NetworkId.is_in(nets.iter().map(|n| n.id)))
        .all(txn)
        .await
        .map_err(fail)?;
    for net in &nets {
        for (node, _) in &mesh.nodes {
            if had
                .iter()
                .any(|l| l.network_id == net.id && l.node_id == *node)
            {
                continue;
            }
            let address = super::cards::free_address(txn, net).await?;
            network_leg::ActiveModel {
                id: Set(Uuid::new_v4()),
                network_id: Set(net.id),
                node_id: Set(*node),
                address: Set(address.to_string()),
                created_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(fail)?;
        }
    }
    Ok(())
}

impl Control {
    /// After a VM with cards started on a node: the organization's other nodes learn that its
    /// networks now reach this one too (best effort, like every router update).
    pub(crate) async fn spread_networks(&self, row: &vm::Model, spec: &MachineSpec) {
        if spec.router.as_ref().is_some_and(|r| !r.fabric.is_empty()) {
            self.push_routers_except(row.organization_id, row.node_id)
                .await;
        }
    }
}
