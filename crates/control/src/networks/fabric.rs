//! Where a network's cards are across nodes: for a node's router, the other nodes its
//! networks must reach (their addresses carry the VXLAN traffic) and the remote cards' names,
//! and bringing the other nodes up to date when a VM starts somewhere new.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use hypervisor::net::{RemoteHost, Span};
use hypervisor::MachineSpec;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{network, nic, node, vm};
use crate::{internal, Control};

/// A node's address for the tunnels between nodes: the address its agent links from. The
/// embedded node has none (its networks stay on this host).
fn underlay(row: &node::Model) -> Option<Ipv4Addr> {
    if row.is_local {
        return None;
    }
    row.address.parse().ok()
}

/// For each of `nets` (the networks of a router on `here`), the other nodes with cards on
/// it and those cards. Empty when `here` has no address to tunnel from.
pub(crate) async fn spans<C: ConnectionTrait>(
    db: &C,
    nets: &[&network::Model],
    here: Option<Uuid>,
) -> Result<Vec<Span>, AppError> {
    let fail = |e| internal("network spans", e);
    let Some(here) = here else {
        return Ok(Vec::new());
    };
    let nodes = node::Entity::find().all(db).await.map_err(fail)?;
    if nodes
        .iter()
        .find(|n| n.id == here)
        .and_then(underlay)
        .is_none()
    {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = nets.iter().map(|n| n.id).collect();
    let cards = nic::Entity::find()
        .filter(nic::Column::NetworkId.is_in(ids))
        .all(db)
        .await
        .map_err(fail)?;
    let vm_ids: BTreeSet<Uuid> = cards.iter().map(|c| c.vm_id).collect();
    let vms = vm::Entity::find()
        .filter(vm::Column::Id.is_in(vm_ids))
        .filter(vm::Column::NodeId.ne(here))
        .all(db)
        .await
        .map_err(fail)?;
    let mut spans = Vec::new();
    for net in nets {
        let mut peers = BTreeSet::new();
        let mut hosts = Vec::new();
        for card in cards.iter().filter(|c| c.network_id == net.id) {
            let Some(vm) = vms.iter().find(|v| v.id == card.vm_id) else {
                continue;
            };
            let Some(addr) = vm
                .node_id
                .and_then(|id| nodes.iter().find(|n| n.id == id))
                .and_then(underlay)
            else {
                continue;
            };
            let Ok(address) = card.address.parse() else {
                continue;
            };
            peers.insert(addr);
            hosts.push(RemoteHost {
                address,
                hostname: vm.name.clone(),
            });
        }
        if !peers.is_empty() {
            hosts.sort_by_key(|h| h.address);
            spans.push(Span {
                vni: u32::try_from(net.vni).unwrap_or(0),
                peers: peers.into_iter().collect(),
                hosts,
            });
        }
    }
    Ok(spans)
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
