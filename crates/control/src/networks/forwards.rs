//! A way in and out: ports of a node's addresses forwarded to a VM's port (on whichever node
//! the VM runs, to its first card's address), and egress NAT per network. Both open the
//! organization's networks to the world outside, so only those who manage a network
//! (`update`) change them; each change is audited and rebuilds the organization's routers.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use hypervisor::net::ForwardSpec;
use model::networks::{ForwardView, NewForward, RuleProtocol};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id, Authorized};
use crate::audit::{self, Action, Entry};
use crate::auth::Caller;
use crate::entities::{network, nic, node, port_forward, vm};
use crate::{internal, Control};

/// The most forwards a VM may have.
pub const MAX_FORWARDS: usize = 32;

impl Control {
    /// A VM's port forwards, by node port.
    pub async fn vm_forwards(
        &self,
        caller: &Caller,
        vm_id: &str,
    ) -> Result<Vec<ForwardView>, AppError> {
        let id = parse_id(vm_id, Kind::Vm)?;
        self.authorize(caller, Permission::Read, &Resource::vm(id))
            .await?;
        let fail = |e| internal("read port forwards", e);
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Vm))?;
        let rows = port_forward::Entity::find()
            .filter(port_forward::Column::VmId.eq(id))
            .order_by_asc(port_forward::Column::HostPort)
            .all(self.db())
            .await
            .map_err(fail)?;
        let address = first_card(self.db(), id)
            .await?
            .map(|c| c.address)
            .unwrap_or_default();
        let node = node_of(self.db(), row.node_id).await?;
        Ok(rows
            .iter()
            .map(|f| view(f, &address, node.as_ref()))
            .collect())
    }

    /// Forwards a port of the node's addresses to a port of the VM.
    pub async fn add_forward(
        &self,
        caller: &Caller,
        vm_id: &str,
        new: &NewForward,
        now: DateTime<Utc>,
    ) -> Result<ForwardView, AppError> {
        let (row, card, net, allowed) = self
            .forward_target(caller, vm_id, Action::ForwardAdd)
            .await?;
        if !matches!(new.protocol, RuleProtocol::Tcp | RuleProtocol::Udp) {
            return Err(AppError::Invalid("Forward tcp or udp ports.".into()));
        }
        if new.host_port == 0 || new.vm_port == 0 {
            return Err(AppError::Invalid("Ports run from 1 to 65535.".into()));
        }
        let description = new.description.trim();
        model::text::check_text("A forward's description", description, 200, false)
            .map_err(AppError::Invalid)?;
        let fail = |e| internal("add port forward", e);
        // Read before the transaction, which starts with its write: on SQLite a transaction
        // that reads first cannot write once another connection has written meanwhile (the
        // unique index still decides between two concurrent adds).
        let taken = port_forward::Entity::find()
            .filter(port_forward::Column::Protocol.eq(new.protocol.as_str()))
            .filter(port_forward::Column::HostPort.eq(i32::from(new.host_port)))
            .one(self.db())
            .await
            .map_err(fail)?;
        if taken.is_some() {
            return Err(AppError::Conflict(format!(
                "Node port {}/{} is already forwarded to a VM.",
                new.protocol.as_str(),
                new.host_port
            )));
        }
        let count = port_forward::Entity::find()
            .filter(port_forward::Column::VmId.eq(row.id))
            .all(self.db())
            .await
            .map_err(fail)?
            .len();
        if count >= MAX_FORWARDS {
            return Err(AppError::Conflict(format!(
                "VM {} has {MAX_FORWARDS} port forwards, the most it may have.",
                row.name
            )));
        }
        let txn = self.db().begin().await.map_err(fail)?;
        let fwd = port_forward::ActiveModel {
            id: Set(Uuid::new_v4()),
            vm_id: Set(row.id),
            protocol: Set(new.protocol.as_str().to_owned()),
            host_port: Set(i32::from(new.host_port)),
            vm_port: Set(i32::from(new.vm_port)),
            description: Set(description.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            crate::error::unique_or(
                e,
                AppError::Conflict("That node port was forwarded at the same moment.".into()),
                "add port forward",
            )
        })?;
        let node = node_of(&txn, row.node_id).await?;
        let shown = view(&fwd, &card.address, node.as_ref());
        let entry = Entry::new(Action::ForwardAdd, &Resource::vm(row.id))
            .org(row.organization_id)
            .detail(serde_json::json!({
                "name": row.name,
                "network": net.name,
                "forward": format!("{}/{} -> {}:{}", new.protocol.as_str(), new.host_port, card.address, new.vm_port),
            }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.push_routers(row.organization_id).await;
        Ok(shown)
    }

    /// Removes one of a VM's port forwards.
    pub async fn remove_forward(
        &self,
        caller: &Caller,
        vm_id: &str,
        forward_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let (row, _, _, allowed) = self
            .forward_target(caller, vm_id, Action::ForwardRemove)
            .await?;
        let missing = || AppError::NotFound("No such port forward.".into());
        let fid: Uuid = forward_id.trim().parse().map_err(|_| missing())?;
        let fail = |e| internal("remove port forward", e);
        let fwd = port_forward::Entity::find_by_id(fid)
            .one(self.db())
            .await
            .map_err(fail)?
            .filter(|f| f.vm_id == row.id)
            .ok_or_else(missing)?;
        let txn = self.db().begin().await.map_err(fail)?;
        let gone = port_forward::Entity::delete_many()
            .filter(port_forward::Column::Id.eq(fid))
            .filter(port_forward::Column::VmId.eq(row.id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if gone.rows_affected == 0 {
            return Err(missing());
        }
        let entry = Entry::new(Action::ForwardRemove, &Resource::vm(row.id))
            .org(row.organization_id)
            .detail(serde_json::json!({
                "name": row.name,
                "forward": format!("{}/{} -> {}", fwd.protocol, fwd.host_port, fwd.vm_port),
            }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.push_routers(row.organization_id).await;
        Ok(())
    }

    /// Turns a network's egress NAT on or off.
    pub async fn set_network_egress(
        &self,
        caller: &Caller,
        network_id: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(network_id, Kind::Network)?;
        let res = Resource::new(Kind::Network, id);
        let allowed = self
            .authorize_action(caller, Permission::Update, &res, Action::NetworkEgress)
            .await?;
        let fail = |e| internal("network egress", e);
        // The write first (see `add_forward`).
        let txn = self.db().begin().await.map_err(fail)?;
        let done = network::Entity::update_many()
            .col_expr(network::Column::Egress, Expr::value(enabled))
            .filter(network::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if done.rows_affected == 0 {
            return Err(not_found(Kind::Network));
        }
        let net = network::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Network))?;
        let entry = Entry::new(Action::NetworkEgress, &res)
            .org(net.organization_id)
            .detail(serde_json::json!({ "network": net.name, "enabled": enabled }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.push_routers(net.organization_id).await;
        Ok(())
    }

    /// The VM a forward goes to, its first card and that card's network; the caller must see
    /// the VM and manage that network.
    async fn forward_target(
        &self,
        caller: &Caller,
        vm_id: &str,
        action: Action,
    ) -> Result<(vm::Model, nic::Model, network::Model, Authorized), AppError> {
        let id = parse_id(vm_id, Kind::Vm)?;
        self.authorize(caller, Permission::Read, &Resource::vm(id))
            .await?;
        let fail = |e| internal("port forward", e);
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Vm))?;
        let Some((card, net)) = super::cards::cards_of(self.db(), id)
            .await?
            .into_iter()
            .next()
        else {
            return Err(AppError::Invalid(format!(
                "VM {} has no network card to forward to.",
                row.name
            )));
        };
        let allowed = self
            .authorize_action(
                caller,
                Permission::Update,
                &Resource::new(Kind::Network, net.id),
                action,
            )
            .await?;
        Ok((row, card, net, allowed))
    }
}

async fn first_card<C: ConnectionTrait>(db: &C, vm: Uuid) -> Result<Option<nic::Model>, AppError> {
    nic::Entity::find()
        .filter(nic::Column::VmId.eq(vm))
        .order_by_asc(nic::Column::Slot)
        .one(db)
        .await
        .map_err(|e| internal("read network card", e))
}

/// The node a VM is placed on, if any.
async fn node_of<C: ConnectionTrait>(
    db: &C,
    node: Option<Uuid>,
) -> Result<Option<node::Model>, AppError> {
    match node {
        Some(n) => node::Entity::find_by_id(n)
            .one(db)
            .await
            .map_err(|e| internal("read node", e)),
        None => Ok(None),
    }
}

fn view(f: &port_forward::Model, address: &str, node: Option<&node::Model>) -> ForwardView {
    ForwardView {
        id: f.id.to_string(),
        vm_id: f.vm_id.to_string(),
        protocol: RuleProtocol::parse(&f.protocol).unwrap_or(RuleProtocol::Tcp),
        host_port: u16::try_from(f.host_port).unwrap_or(0),
        vm_port: u16::try_from(f.vm_port).unwrap_or(0),
        address: address.to_owned(),
        node: node.map(|n| n.name.clone()),
        node_address: node.map(|n| n.address.clone()),
        description: f.description.clone(),
    }
}

/// The forwards of the VMs in `vms` (the organization's on one node), to their first cards.
pub(crate) async fn forwards_for<C: ConnectionTrait>(
    db: &C,
    vms: &[Uuid],
) -> Result<Vec<ForwardSpec>, AppError> {
    let fail = |e| internal("port forwards", e);
    let rows = port_forward::Entity::find()
        .filter(port_forward::Column::VmId.is_in(vms.to_vec()))
        .order_by_asc(port_forward::Column::HostPort)
        .all(db)
        .await
        .map_err(fail)?;
    let with: BTreeSet<Uuid> = rows.iter().map(|f| f.vm_id).collect();
    let mut out = Vec::with_capacity(rows.len());
    for vm in with {
        let Some(card) = first_card(db, vm).await? else {
            continue;
        };
        let Ok(to) = card.address.parse::<Ipv4Addr>() else {
            continue;
        };
        for f in rows.iter().filter(|f| f.vm_id == vm) {
            let (Ok(host_port), Ok(to_port)) =
                (u16::try_from(f.host_port), u16::try_from(f.vm_port))
            else {
                continue;
            };
            out.push(ForwardSpec {
                protocol: super::routers::node_protocol(
                    RuleProtocol::parse(&f.protocol).unwrap_or(RuleProtocol::Tcp),
                ),
                host_port,
                to,
                to_port,
            });
        }
    }
    Ok(out)
}
