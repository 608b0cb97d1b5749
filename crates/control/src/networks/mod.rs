//! VM networks: every organization's networks (a default one from the start), the cards that
//! put VMs on them with pinned addresses, and what nodes are told to build (`hypervisor::net`).
//! Overlapping subnets of different organizations are fine (each network is its own bridge);
//! within one organization they are refused, so its networks can be routed to each other.

pub mod cards;
pub mod detail;
pub mod explain;
pub mod fabric;
pub mod forwards;
pub mod ipam;
pub mod pools;
pub mod routers;
pub mod rules;
pub mod tags;

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use model::networks::{
    overlap, parse_cidr, validate_network_name, NetworkView, NewNetwork, DEFAULT_CIDR,
    DEFAULT_NETWORK,
};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id, tuples, Authorized};
use crate::audit::{self, Action, Entry};
use crate::auth::{show_time, Caller};
use crate::entities::{network, nic};
use crate::{internal, Control};

impl Control {
    /// The networks of an organization the caller may see, by name.
    pub async fn networks(&self, caller: &Caller, org: &str) -> Result<Vec<NetworkView>, AppError> {
        let org_id = parse_id(org, Kind::Organization)?;
        self.authorize(caller, Permission::View, &Resource::organization(org_id))
            .await?;
        let visible = self
            .visible(caller, Permission::Read, Kind::Network)
            .await?;
        let ids: Vec<Uuid> = visible.iter().filter_map(|id| id.parse().ok()).collect();
        let fail = |e| internal("list networks", e);
        let rows = network::Entity::find()
            .filter(network::Column::OrganizationId.eq(org_id))
            .filter(network::Column::Id.is_in(ids))
            .order_by_asc(network::Column::Name)
            .all(self.db())
            .await
            .map_err(fail)?;
        // The cards on them, in one query: which network each is on.
        let on: Vec<Uuid> = nic::Entity::find()
            .select_only()
            .column(nic::Column::NetworkId)
            .filter(nic::Column::NetworkId.is_in(rows.iter().map(|r| r.id)))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(fail)?;
        Ok(rows
            .iter()
            .map(|row| {
                let cards = on.iter().filter(|n| **n == row.id).count();
                view(row, u32::try_from(cards).unwrap_or(u32::MAX))
            })
            .collect())
    }

    /// Makes a network in an organization: a name unique there and a private subnet that
    /// overlaps none of the organization's others.
    pub async fn create_network(
        &self,
        caller: &Caller,
        new: &NewNetwork,
        now: DateTime<Utc>,
    ) -> Result<NetworkView, AppError> {
        let org_id = parse_id(&new.organization_id, Kind::Organization)?;
        let allowed = self
            .authorize_action(
                caller,
                Permission::CreateNetwork,
                &Resource::organization(org_id),
                Action::NetworkCreate,
            )
            .await?;
        let name = new.name.trim();
        validate_network_name(name).map_err(AppError::Invalid)?;
        let subnet = parse_cidr(&new.cidr).map_err(AppError::Invalid)?;
        let description = new.description.trim();
        if description.chars().count() > model::vms::MAX_DESCRIPTION {
            return Err(AppError::Invalid("The description is too long.".into()));
        }
        let fail = |e| internal("create network", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = insert_network(&txn, &allowed, org_id, name, description, subnet, now).await?;
        let res = Resource::new(Kind::Network, row.id);
        let entry = Entry::new(Action::NetworkCreate, &res).org(org_id).detail(
            serde_json::json!({ "name": name, "cidr": format!("{}/{}", row.subnet, row.prefix) }),
        );
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(network = %name, by = %caller.username, "network created");
        Ok(view(&row, 0))
    }

    /// Removes a network that no VM has a card on.
    pub async fn delete_network(
        &self,
        caller: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(id, Kind::Network)?;
        let res = Resource::new(Kind::Network, id);
        let allowed = self
            .authorize_action(caller, Permission::Delete, &res, Action::NetworkDelete)
            .await?;
        let fail = |e| internal("delete network", e);
        let txn = self.db().begin().await.map_err(fail)?;
        let row = network::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Network))?;
        let cards = nic::Entity::find()
            .filter(nic::Column::NetworkId.eq(id))
            .count(&txn)
            .await
            .map_err(fail)?;
        if cards > 0 {
            return Err(AppError::Conflict(format!(
                "Network {} still has {cards} VM card(s) on it: delete those VMs first.",
                row.name
            )));
        }
        network::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(fail)?;
        tuples::delete_object(&txn, &allowed, &res.object()).await?;
        let entry = Entry::new(Action::NetworkDelete, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        Ok(())
    }

    /// Checks the networks a new VM asks for: each is the organization's and the caller may
    /// attach to it. None stays None (the default network).
    pub(crate) async fn chosen_networks(
        &self,
        caller: &Caller,
        org_id: Uuid,
        asked: Option<&[String]>,
    ) -> Result<Option<Vec<Uuid>>, AppError> {
        let Some(asked) = asked else {
            return Ok(None);
        };
        if asked.len() > hypervisor::net::MAX_NICS {
            return Err(AppError::Invalid(format!(
                "A VM may have at most {} network cards.",
                hypervisor::net::MAX_NICS
            )));
        }
        let mut ids = Vec::with_capacity(asked.len());
        for text in asked {
            let id = parse_id(text, Kind::Network)?;
            if ids.contains(&id) {
                return Err(AppError::Invalid("A network is chosen twice.".into()));
            }
            self.authorize(
                caller,
                Permission::Attach,
                &Resource::new(Kind::Network, id),
            )
            .await?;
            let org = self
                .organization_of(&Resource::new(Kind::Network, id))
                .await?;
            if org != Some(org_id) {
                return Err(AppError::Invalid(
                    "A chosen network is not one of the VM's organization.".into(),
                ));
            }
            ids.push(id);
        }
        Ok(Some(ids))
    }
}

/// The organization's default network, made when it has none (new organizations get it at
/// once; older ones when their first VM asks).
pub(crate) async fn ensure_default<C: ConnectionTrait>(
    txn: &C,
    allowed: &Authorized,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> Result<network::Model, AppError> {
    let fail = |e| internal("default network", e);
    let existing = network::Entity::find()
        .filter(network::Column::OrganizationId.eq(org_id))
        .filter(network::Column::Name.eq(DEFAULT_NETWORK))
        .one(txn)
        .await
        .map_err(fail)?;
    if let Some(net) = existing {
        return Ok(net);
    }
    let subnet = parse_cidr(DEFAULT_CIDR).map_err(|e| internal("default network", e))?;
    insert_network(txn, allowed, org_id, DEFAULT_NETWORK, "", subnet, now).await
}

/// Inserts a network with the next free number and its tuple.
async fn insert_network<C: ConnectionTrait>(
    txn: &C,
    allowed: &Authorized,
    org_id: Uuid,
    name: &str,
    description: &str,
    subnet: ([u8; 4], u8),
    now: DateTime<Utc>,
) -> Result<network::Model, AppError> {
    let fail = |e| internal("create network", e);
    let others = network::Entity::find()
        .filter(network::Column::OrganizationId.eq(org_id))
        .all(txn)
        .await
        .map_err(fail)?;
    for other in &others {
        if other.name == name {
            return Err(AppError::Conflict(format!(
                "There is already a network called {name}."
            )));
        }
        let theirs = parse_cidr(&format!("{}/{}", other.subnet, other.prefix));
        if theirs.is_ok_and(|t| overlap(t, subnet)) {
            return Err(AppError::Conflict(format!(
                "The subnet overlaps network {} ({}/{}).",
                other.name, other.subnet, other.prefix
            )));
        }
    }
    let highest: Option<Option<i32>> = network::Entity::find()
        .select_only()
        .column_as(network::Column::Vni.max(), "vni")
        .into_tuple()
        .one(txn)
        .await
        .map_err(fail)?;
    let vni = highest.flatten().unwrap_or(0) + 1;
    let first = Ipv4Addr::from(subnet.0);
    let (gateway, dns) = ipam::service_addresses(first);
    let id = Uuid::new_v4();
    let row = network::ActiveModel {
        id: Set(id),
        organization_id: Set(org_id),
        name: Set(name.to_owned()),
        description: Set(description.to_owned()),
        vni: Set(vni),
        subnet: Set(first.to_string()),
        prefix: Set(i32::from(subnet.1)),
        gateway: Set(gateway.to_string()),
        dns: Set(dns.to_string()),
        created_at: Set(now),
        egress: Set(false),
    }
    .insert(txn)
    .await
    .map_err(|e| {
        crate::error::unique_or(
            e,
            AppError::Conflict("Another network was made at the same moment: try again.".into()),
            "create network",
        )
    })?;
    let res = Resource::new(Kind::Network, id);
    tuples::write(
        txn,
        allowed,
        &[tuples::points_to(
            &res,
            crate::access::model::Rel::Organization,
            Kind::Organization,
            &org_id.to_string(),
        )],
        now,
    )
    .await?;
    Ok(row)
}

fn view(row: &network::Model, cards: u32) -> NetworkView {
    NetworkView {
        id: row.id.to_string(),
        organization_id: row.organization_id.to_string(),
        name: row.name.clone(),
        description: row.description.clone(),
        cidr: format!("{}/{}", row.subnet, row.prefix),
        gateway: row.gateway.clone(),
        dns: row.dns.clone(),
        domain: format!("{}.internal", row.name),
        cards,
        created_at: show_time(row.created_at),
        egress: row.egress,
    }
}
