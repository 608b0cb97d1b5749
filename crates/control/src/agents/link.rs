//! Links of joined nodes: a client certificate is a node only while a node row carries its
//! fingerprint, so removing the node refuses its identity at once (its open link is cut, and
//! every later dial is refused and audited). A hello records the agent's inventory; every
//! heartbeat records when the node was last seen, which is what makes it reachable.

use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use agent::proto::Inventory;

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::agents::join::node_actor;
use crate::audit::{self, Action, Entry};
use crate::auth::{Caller, ClientInfo};
use crate::entities::{join_token, node, vm};
use crate::{internal, Control};

/// A node whose link is open in this instance.
#[derive(Debug)]
pub struct LinkedNode {
    pub id: Uuid,
    pub name: String,
    /// Changes when the link must close: the node was removed, or dialed again.
    pub cut: watch::Receiver<crate::agents::LinkState>,
    /// Calls for the agent, to send on the link; their replies go back through
    /// [`crate::agents::Outgoing::reply`].
    pub calls: mpsc::Receiver<crate::agents::Outgoing>,
    running: Arc<Mutex<Vec<String>>>,
}

impl LinkedNode {
    /// Records the VMs a heartbeat says run on the node.
    pub fn set_running(&self, running: Vec<String>) {
        if let Ok(mut list) = self.running.lock() {
            *list = running;
        }
    }
}

/// What a removed node's agent is told.
pub const REMOVED: &str = "this node was removed from the control plane";

fn checked_inventory(inv: &Inventory) -> Result<(), AppError> {
    model::nodes::validate_region(&inv.region).map_err(AppError::Invalid)?;
    if inv.labels.len() > 32
        || inv
            .labels
            .iter()
            .any(|(k, v)| k.len() > 63 || v.len() > 255)
    {
        return Err(AppError::Invalid(
            "at most 32 labels, keys up to 63 and values up to 255 bytes".into(),
        ));
    }
    let short = |s: &Option<String>| s.as_ref().is_none_or(|s| s.len() <= 200);
    if !short(&inv.qemu_version) || inv.agent_version.len() > 64 || inv.accel.len() > 16 {
        return Err(AppError::Invalid(
            "the inventory's versions are too long".into(),
        ));
    }
    Ok(())
}

impl Control {
    /// The node a verified client certificate belongs to, with its link registered here.
    /// Refused and audited when no node has that certificate (removed, or never joined).
    pub async fn open_node_link(
        &self,
        cert_sha256: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<LinkedNode, AppError> {
        let row = node::Entity::find()
            .filter(node::Column::CertSha256.eq(cert_sha256))
            .one(self.db())
            .await
            .map_err(|e| internal("open node link", e))?;
        let Some(row) = row else {
            let entry = Entry::about(Action::NodeLink, "node", "unknown")
                .detail(serde_json::json!({ "cert_sha256": cert_sha256, "reason": REMOVED }));
            audit::record_denied(self.db(), &node_actor("agent", client), entry, now).await?;
            tracing::warn!(from = %client.ip, cert_sha256, "an unknown node identity was refused");
            return Err(AppError::Forbidden(REMOVED.into()));
        };
        let ends = self.links.open(row.id, &row.name);
        Ok(LinkedNode {
            id: row.id,
            name: row.name,
            cut: ends.cut,
            calls: ends.calls,
            running: ends.running,
        })
    }

    /// Records what the node's agent says the host offers, and that it was seen.
    pub async fn node_hello(
        &self,
        node: &LinkedNode,
        inventory: &Inventory,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        checked_inventory(inventory)?;
        let labels = serde_json::to_string(&inventory.labels).unwrap_or_else(|_| "{}".into());
        let done = node::Entity::update_many()
            .col_expr(
                node::Column::CpuCount,
                Expr::value(i32::try_from(inventory.cpus).unwrap_or(i32::MAX)),
            )
            .col_expr(
                node::Column::MemoryMb,
                Expr::value(i64::try_from(inventory.memory_mb).unwrap_or(i64::MAX)),
            )
            .col_expr(
                node::Column::DiskFreeGb,
                Expr::value(i64::try_from(inventory.disk_free_gb).unwrap_or(i64::MAX)),
            )
            .col_expr(node::Column::Region, Expr::value(inventory.region.clone()))
            .col_expr(node::Column::Accel, Expr::value(inventory.accel.clone()))
            .col_expr(
                node::Column::QemuVersion,
                Expr::value(inventory.qemu_version.clone()),
            )
            .col_expr(
                node::Column::AgentVersion,
                Expr::value(Some(inventory.agent_version.clone())),
            )
            .col_expr(node::Column::Labels, Expr::value(labels))
            .col_expr(node::Column::Address, Expr::value(client.ip.clone()))
            .col_expr(node::Column::LastSeenAt, Expr::value(Some(now)))
            .filter(node::Column::Id.eq(node.id))
            .exec(self.db())
            .await
            .map_err(|e| internal("node hello", e))?;
        if done.rows_affected == 0 {
            return Err(AppError::Forbidden(REMOVED.into()));
        }
        tracing::info!(node = %node.id, name = %node.name, cpus = inventory.cpus, memory_mb = inventory.memory_mb, region = %inventory.region, "node linked");
        self.publish_node(node.id).await;
        Ok(())
    }

    /// Records a heartbeat. Refused when the node was removed meanwhile.
    pub async fn node_heartbeat(&self, node: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
        let done = node::Entity::update_many()
            .col_expr(node::Column::LastSeenAt, Expr::value(Some(now)))
            .filter(node::Column::Id.eq(node))
            .exec(self.db())
            .await
            .map_err(|e| internal("node heartbeat", e))?;
        if done.rows_affected == 0 {
            return Err(AppError::Forbidden(REMOVED.into()));
        }
        Ok(())
    }

    /// The link of `node` dropped (the node is unreachable once its last heartbeat is
    /// [`crate::compute::placement::UNREACHABLE_AFTER_SECS`] old; the watch in
    /// [`Control::spawn_node_watch`] says so then).
    pub fn node_link_closed(&self, node: &LinkedNode) {
        self.links.closed(node.id, &node.cut);
    }

    /// Removes a node that runs no VMs: its identity is refused from now on and its link is
    /// cut. The embedded node cannot be removed.
    pub async fn remove_node(
        &self,
        caller: &Caller,
        node_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(node_id, Kind::Node)?;
        let allowed = self
            .authorize_action(
                caller,
                Permission::ManageNodes,
                &Resource::platform(),
                Action::NodeRemove,
            )
            .await?;
        let fail = |e| internal("remove node", e);
        let txn = self.db().begin().await.map_err(fail)?;
        // Cordon first, a write: it takes the node's lock before anything is read, so no
        // placement can put a VM on it while this looks (placement locks nodes the same way).
        let locked = node::Entity::update_many()
            .col_expr(node::Column::Cordoned, Expr::value(true))
            .filter(node::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if locked.rows_affected == 0 {
            return Err(not_found(Kind::Node));
        }
        let row = node::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(fail)?
            .ok_or_else(|| not_found(Kind::Node))?;
        if row.is_local {
            return Err(AppError::Conflict(
                "the node this control plane embeds cannot be removed".into(),
            ));
        }
        let vms = vm::Entity::find()
            .filter(vm::Column::NodeId.eq(id))
            .count(&txn)
            .await
            .map_err(fail)?;
        if vms > 0 {
            return Err(AppError::Conflict(format!(
                "node {} still has {vms} VM(s): delete them or move them first",
                row.name
            )));
        }
        join_token::Entity::delete_many()
            .filter(join_token::Column::NodeId.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        node::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(fail)?;
        let entry = Entry::new(Action::NodeRemove, &Resource::new(Kind::Node, id))
            .detail(serde_json::json!({ "name": row.name }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.links.cut(id);
        self.publish_node(id).await;
        tracing::info!(node = %id, name = %row.name, by = %caller.username, "node removed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inventory_is_checked_at_the_edge() {
        let good = Inventory {
            region: "eu-1".into(),
            agent_version: "0.1.0".into(),
            accel: "tcg".into(),
            ..Inventory::default()
        };
        assert!(checked_inventory(&good).is_ok());
        let bad_region = Inventory {
            region: "EU 1".into(),
            ..good.clone()
        };
        assert!(checked_inventory(&bad_region).is_err());
        let mut many = good;
        for i in 0..33 {
            many.labels.insert(format!("k{i}"), String::new());
        }
        assert!(checked_inventory(&many).is_err());
    }
}
