//! Network cards: given to a VM in its create's transaction (the organization's default network
//! unless the request names others), turned into what the node needs, and shown.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use hypervisor::{NetworkSpec, NicSpec};
use model::networks::NicView;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::ipam;
use crate::access::Authorized;
use crate::entities::{network, network_leg, nic, service, vm};
use crate::internal;

/// Gives a new VM one card on each of `networks` (already checked: the organization's, and
/// the caller may attach to them), or on the organization's default network when None (made
/// first if the organization has none yet). Runs inside the VM's create transaction, after
/// placement has locked the nodes, so concurrent creates never pick the same address. The
/// organization's routers on nodes that tunnel get their legs on those networks (see
/// [`super::fabric`]).
pub(crate) async fn attach_new<C: ConnectionTrait>(
    txn: &C,
    allowed: &Authorized,
    org_id: Uuid,
    vm_id: Uuid,
    networks: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> Result<Vec<nic::Model>, AppError> {
    let chosen: Vec<network::Model> = match networks {
        None => vec![super::ensure_default(txn, allowed, org_id, now).await?],
        Some(ids) => {
            let mut all = Vec::with_capacity(ids.len());
            for id in ids {
                let net = network::Entity::find_by_id(*id)
                    .one(txn)
                    .await
                    .map_err(|e| internal("read network", e))?
                    .filter(|n| n.organization_id == org_id)
                    .ok_or_else(|| {
                        AppError::Invalid(
                            "A chosen network is not one of the VM's organization.".into(),
                        )
                    })?;
                all.push(net);
            }
            all
        }
    };
    let mut cards = Vec::with_capacity(chosen.len());
    for (slot, net) in chosen.iter().enumerate() {
        let address = free_address(txn, net).await?;
        let row = nic::ActiveModel {
            id: Set(Uuid::new_v4()),
            vm_id: Set(vm_id),
            network_id: Set(net.id),
            slot: Set(i32::try_from(slot).unwrap_or(0)),
            mac: Set(ipam::random_mac()),
            address: Set(address.to_string()),
            created_at: Set(now),
        }
        .insert(txn)
        .await
        .map_err(|e| internal("insert network card", e))?;
        cards.push(row);
    }
    super::fabric::ensure_legs(txn, org_id, now).await?;
    Ok(cards)
}

/// The network's lowest address that no card, no service and no router leg holds.
pub(crate) async fn free_address<C: ConnectionTrait>(
    txn: &C,
    net: &network::Model,
) -> Result<Ipv4Addr, AppError> {
    let mut taken: HashSet<Ipv4Addr> = nic::Entity::find()
        .filter(nic::Column::NetworkId.eq(net.id))
        .all(txn)
        .await
        .map_err(|e| internal("read network cards", e))?
        .iter()
        .filter_map(|c| c.address.parse().ok())
        .collect();
    taken.extend(
        service::Entity::find()
            .filter(service::Column::NetworkId.eq(net.id))
            .all(txn)
            .await
            .map_err(|e| internal("read service addresses", e))?
            .iter()
            .filter_map(|s| s.address.as_deref()?.parse::<Ipv4Addr>().ok()),
    );
    taken.extend(
        network_leg::Entity::find()
            .filter(network_leg::Column::NetworkId.eq(net.id))
            .all(txn)
            .await
            .map_err(|e| internal("read router legs", e))?
            .iter()
            .filter_map(|l| l.address.parse::<Ipv4Addr>().ok()),
    );
    let subnet: Ipv4Addr = net
        .subnet
        .parse()
        .map_err(|e| internal("network subnet", e))?;
    let prefix = u8::try_from(net.prefix).unwrap_or(24);
    ipam::next_address(subnet, prefix, &taken).ok_or_else(|| {
        AppError::Conflict(format!(
            "Network {} has no free address left ({}/{}).",
            net.name, net.subnet, net.prefix
        ))
    })
}

/// The network as a node needs it.
pub(crate) fn network_spec(net: &network::Model) -> Result<NetworkSpec, String> {
    let parse = |s: &str| {
        s.parse::<Ipv4Addr>()
            .map_err(|e| format!("network {}: {e}", net.name))
    };
    Ok(NetworkSpec {
        vni: u32::try_from(net.vni).map_err(|e| e.to_string())?,
        name: net.name.clone(),
        subnet: parse(&net.subnet)?,
        prefix: u8::try_from(net.prefix).map_err(|e| e.to_string())?,
        gateway: parse(&net.gateway)?,
        dns: parse(&net.dns)?,
    })
}

/// A VM's cards with their networks, eth0 first.
pub(crate) async fn cards_of<C: ConnectionTrait>(
    db: &C,
    vm_id: Uuid,
) -> Result<Vec<(nic::Model, network::Model)>, AppError> {
    let cards = nic::Entity::find()
        .filter(nic::Column::VmId.eq(vm_id))
        .order_by_asc(nic::Column::Slot)
        .all(db)
        .await
        .map_err(|e| internal("read network cards", e))?;
    let ids: Vec<Uuid> = cards.iter().map(|c| c.network_id).collect();
    let nets = network::Entity::find()
        .filter(network::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(|e| internal("read networks", e))?;
    Ok(cards
        .into_iter()
        .filter_map(|c| {
            let net = nets.iter().find(|n| n.id == c.network_id)?.clone();
            Some((c, net))
        })
        .collect())
}

/// What the node needs to give the VM its cards.
pub(crate) async fn specs<C: ConnectionTrait>(
    db: &C,
    row: &vm::Model,
) -> Result<Vec<NicSpec>, String> {
    let cards = cards_of(db, row.id).await.map_err(|e| e.to_string())?;
    cards
        .iter()
        .map(|(card, net)| {
            Ok(NicSpec {
                mac: card.mac.clone(),
                address: card
                    .address
                    .parse()
                    .map_err(|e| format!("card address: {e}"))?,
                hostname: row.name.clone(),
                network: network_spec(net)?,
            })
        })
        .collect()
}

/// A VM's cards as people see them.
pub(crate) async fn views<C: ConnectionTrait>(
    db: &C,
    vm_id: Uuid,
    vm_name: &str,
) -> Result<Vec<NicView>, AppError> {
    Ok(cards_of(db, vm_id)
        .await?
        .into_iter()
        .map(|(card, net)| NicView {
            slot: u32::try_from(card.slot).unwrap_or(0),
            network_id: net.id.to_string(),
            hostname: format!("{vm_name}.{}.internal", net.name),
            network: net.name,
            mac: card.mac,
            address: card.address,
        })
        .collect())
}
