//! The node registry: at start the server registers the node it embeds; platform
//! administrators list nodes with their capacity and cordon or uncordon them (draining is
//! [`crate::compute::drain`]).

use chrono::{DateTime, Utc};
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use model::nodes::{NodeStatus, NodeView};
use model::AppError;
use sea_orm::sea_query::Expr;
use sea_orm::{QuerySelect, TransactionTrait};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::audit::{self, Action, Entry};
use crate::auth::{show_time, Caller};
use crate::compute::placement;
use crate::entities::states::Desired;
use crate::entities::{node, vm};
use crate::{internal, Control};

/// Name of the node embedded in every server.
pub const LOCAL_NODE: &str = "local";

/// vCPUs handed out per 100 host CPUs: 16 per CPU, OpenStack Nova's long-standing
/// `cpu_allocation_ratio` (test guests idle; an operator lowers it for busy ones).
pub const DEFAULT_CPU_OVERCOMMIT_PCT: i32 = 1600;
/// Memory is not overcommitted unless an operator says so.
pub const DEFAULT_MEMORY_OVERCOMMIT_PCT: i32 = 100;

/// Registers the embedded node once (safe on every start and from several instances) and
/// returns its id.
pub async fn ensure_local_node(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Uuid, DbErr> {
    let row = node::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        name: Set(LOCAL_NODE.to_owned()),
        address: Set("local".to_owned()),
        is_local: Set(true),
        cpu_count: Set(i32::try_from(agent::inventory::cpus()).unwrap_or(i32::MAX)),
        memory_mb: Set(i64::try_from(agent::inventory::memory_mb()).unwrap_or(i64::MAX)),
        created_at: Set(now),
        region: Set(LOCAL_NODE.to_owned()),
        cordoned: Set(false),
        cpu_overcommit_pct: Set(DEFAULT_CPU_OVERCOMMIT_PCT),
        memory_overcommit_pct: Set(DEFAULT_MEMORY_OVERCOMMIT_PCT),
        last_seen_at: Set(None),
        ..Default::default()
    };
    node::Entity::insert(row)
        .on_conflict(
            OnConflict::column(node::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    node::Entity::find()
        .filter(node::Column::Name.eq(LOCAL_NODE))
        .one(db)
        .await?
        .map(|n| n.id)
        .ok_or_else(|| DbErr::RecordNotFound("the local node".into()))
}

impl Control {
    /// Every node with its status, capacity and use (platform administrators).
    pub async fn list_nodes(
        &self,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Vec<NodeView>, AppError> {
        self.authorize(caller, Permission::ManageNodes, &Resource::platform())
            .await?;
        let fail = |e| internal("list nodes", e);
        let rooms = placement::rooms(self.db(), None).await?;
        let placed: Vec<(Option<Uuid>, i64)> = vm::Entity::find()
            .select_only()
            .column(vm::Column::NodeId)
            .column_as(vm::Column::Id.count(), "vms")
            .filter(vm::Column::DesiredState.ne(Desired::Deleted.as_str()))
            .group_by(vm::Column::NodeId)
            .into_tuple()
            .all(self.db())
            .await
            .map_err(fail)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(rooms
            .iter()
            .map(|r| NodeView {
                id: r.node.id.to_string(),
                name: r.node.name.clone(),
                region: r.node.region.clone(),
                is_local: r.node.is_local,
                status: status(&r.node, now),
                cpus: u32::try_from(r.node.cpu_count).unwrap_or(0),
                vcpu_capacity: count(r.cpu_capacity()),
                vcpus_used: count(r.used_cpus),
                memory_capacity_mb: count(r.memory_capacity()),
                memory_used_mb: count(r.used_memory_mb),
                vms: placed
                    .iter()
                    .find(|(id, _)| *id == Some(r.node.id))
                    .map_or(0, |(_, n)| count(*n)),
                last_seen: r.node.last_seen_at.map(show_time),
                accel: r.node.accel.clone(),
                qemu_version: r.node.qemu_version.clone(),
                disk_free_gb: u64::try_from(r.node.disk_free_gb).unwrap_or(0),
                labels: labels(&r.node.labels),
                address: r.node.address.clone(),
            })
            .collect())
    }

    /// Cordons a node (it takes no new VMs; its VMs stay) or lets it take VMs again.
    pub async fn set_node_cordoned(
        &self,
        caller: &Caller,
        node_id: &str,
        cordoned: bool,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let id = parse_id(node_id, Kind::Node)?;
        let action = if cordoned {
            Action::NodeCordon
        } else {
            Action::NodeUncordon
        };
        let allowed = self
            .authorize_action(
                caller,
                Permission::ManageNodes,
                &Resource::platform(),
                action,
            )
            .await?;
        let fail = |e| internal("cordon node", e);
        let txn = self.db().begin().await.map_err(fail)?;
        // Uncordoning also ends a drain.
        let done = node::Entity::update_many()
            .col_expr(node::Column::Cordoned, Expr::value(cordoned))
            .col_expr(node::Column::Draining, Expr::value(false))
            .filter(node::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if done.rows_affected == 0 {
            return Err(not_found(Kind::Node));
        }
        let entry = Entry::new(action, &Resource::new(Kind::Node, id));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        self.publish_node(id).await;
        tracing::info!(node = %id, cordoned, by = %caller.username, "node cordon changed");
        Ok(())
    }
}

/// What the Nodes page says of a node.
fn status(node: &node::Model, now: DateTime<Utc>) -> NodeStatus {
    if !placement::joined(node) {
        NodeStatus::Pending
    } else if !placement::reachable(node, now) {
        NodeStatus::Unreachable
    } else if node.draining {
        NodeStatus::Draining
    } else if node.cordoned {
        NodeStatus::Cordoned
    } else {
        NodeStatus::Ready
    }
}

/// A node's labels as `key=value` lines.
fn labels(json: &str) -> Vec<String> {
    serde_json::from_str::<std::collections::BTreeMap<String, String>>(json)
        .map(|m| m.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
        .unwrap_or_default()
}
