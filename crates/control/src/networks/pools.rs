//! A service's address and the pool behind it: the address is taken on the service's network
//! with its first replica and kept for the service's life; the pool is the replicas that run
//! (a replica joins once its guest booted and leaves before it is stopped), and every router of
//! the organization spreads new connections to the address over it.

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use hypervisor::net::ServiceSpec;
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use crate::access::Authorized;
use crate::entities::states::Desired;
use crate::entities::{network, nic, service, vm};
use crate::internal;

/// The network of the service's replicas (the organization's default, chosen with its first
/// replica), with the service's address on it taken if it had none yet. Runs inside a
/// replica's create transaction.
pub(crate) async fn service_network<C: ConnectionTrait>(
    txn: &C,
    allowed: &Authorized,
    svc: &service::Model,
    now: DateTime<Utc>,
) -> Result<Uuid, AppError> {
    let fail = |e| internal("service address", e);
    // Read again: an earlier replica of this rollout may have chosen them.
    let row = service::Entity::find_by_id(svc.id)
        .one(txn)
        .await
        .map_err(fail)?
        .unwrap_or_else(|| svc.clone());
    let net = match row.network_id {
        Some(id) => network::Entity::find_by_id(id)
            .one(txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| AppError::Conflict("The service's network was deleted.".into()))?,
        None => super::ensure_default(txn, allowed, row.organization_id, now).await?,
    };
    if row.address.is_none() || row.network_id != Some(net.id) {
        let address = super::cards::free_address(txn, &net).await?;
        service::ActiveModel {
            id: Set(row.id),
            network_id: Set(Some(net.id)),
            address: Set(Some(address.to_string())),
            ..Default::default()
        }
        .update(txn)
        .await
        .map_err(fail)?;
    }
    Ok(net.id)
}

/// The services with an address on `nets` (a router's networks) and the addresses of their
/// running replicas there.
pub(crate) async fn pools<C: ConnectionTrait>(
    db: &C,
    nets: &[&network::Model],
) -> Result<Vec<ServiceSpec>, AppError> {
    let fail = |e| internal("service pools", e);
    let ids: Vec<Uuid> = nets.iter().map(|n| n.id).collect();
    let services = service::Entity::find()
        .filter(service::Column::NetworkId.is_in(ids))
        .filter(service::Column::Address.is_not_null())
        .all(db)
        .await
        .map_err(fail)?;
    let mut out = Vec::with_capacity(services.len());
    for svc in services {
        let (Some(net_id), Some(Ok(address))) = (
            svc.network_id,
            svc.address.as_deref().map(str::parse::<Ipv4Addr>),
        ) else {
            continue;
        };
        let Some(net) = nets.iter().find(|n| n.id == net_id) else {
            continue;
        };
        let ready: Vec<Uuid> = vm::Entity::find()
            .filter(vm::Column::ServiceId.eq(svc.id))
            .filter(vm::Column::ObservedState.eq(VmState::Running.as_str()))
            .filter(vm::Column::DesiredState.eq(Desired::Running))
            .all(db)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut backends: Vec<Ipv4Addr> = nic::Entity::find()
            .filter(nic::Column::VmId.is_in(ready))
            .filter(nic::Column::NetworkId.eq(net_id))
            .all(db)
            .await
            .map_err(fail)?
            .iter()
            .filter_map(|c| c.address.parse().ok())
            .collect();
        backends.sort_unstable();
        out.push(ServiceSpec {
            vni: u32::try_from(net.vni).unwrap_or(0),
            address,
            backends,
        });
    }
    Ok(out)
}
