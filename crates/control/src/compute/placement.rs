//! Placement: which node a VM runs on, chosen inside the transaction that reserves its room.
//!
//! Room counts only the VMs that should be running (asked to run, or paused): a stopped VM
//! keeps its disk on its node but holds no CPU or memory. A node offers its CPUs and memory
//! times its overcommit ratios; cordoned and unreachable nodes take nothing new. Every
//! placement first locks the nodes' rows (a no-op write: row locks on PostgreSQL, the write
//! lock on SQLite), so concurrent creates see each other's VMs and never oversubscribe a node.

use chrono::{DateTime, Utc};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::states::Desired;
use crate::entities::{node, vm};
use crate::internal;

/// A node whose last heartbeat is older than this is unreachable.
pub const UNREACHABLE_AFTER_SECS: i64 = 15;

/// What a VM needs from its node.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ask {
    /// Only nodes of this region; `None`: any region.
    pub region: Option<String>,
    pub cpus: i64,
    pub memory_mb: i64,
    /// Nodes that already run a sibling (a replica of the same service): chosen only when no
    /// other node has room, so a service's replicas spread.
    pub avoid: Vec<Uuid>,
    /// A service whose replicas' nodes are avoided as `avoid` is. [`place`] reads them after it
    /// locks the nodes, so no caller reads inside the transaction before that first write (on
    /// SQLite such a transaction cannot take the write lock later).
    pub siblings_of: Option<Uuid>,
    /// A VM already counted on its node (starting a stopped VM again does not count it twice).
    pub except: Option<Uuid>,
    /// Whether the VM runs now and so takes free room; a VM created stopped only needs a node
    /// big enough to run it later.
    pub reserve: bool,
}

/// A node and what the VMs that should run on it already take.
#[derive(Clone, Debug)]
pub(crate) struct Room {
    pub node: node::Model,
    pub used_cpus: i64,
    pub used_memory_mb: i64,
}

impl Room {
    /// vCPUs placement may hand out on this node.
    pub fn cpu_capacity(&self) -> i64 {
        i64::from(self.node.cpu_count) * i64::from(self.node.cpu_overcommit_pct) / 100
    }

    /// Memory (MiB) placement may hand out on this node.
    pub fn memory_capacity(&self) -> i64 {
        self.node.memory_mb * i64::from(self.node.memory_overcommit_pct) / 100
    }

    pub fn free_cpus(&self) -> i64 {
        (self.cpu_capacity() - self.used_cpus).max(0)
    }

    pub fn free_memory_mb(&self) -> i64 {
        (self.memory_capacity() - self.used_memory_mb).max(0)
    }

    /// Why this node cannot take `ask` now, or `None` when it can.
    pub fn refusal(&self, ask: &Ask, now: DateTime<Utc>) -> Option<String> {
        let name = &self.node.name;
        if !joined(&self.node) {
            return Some(format!("{name} has not joined yet"));
        }
        if !reachable(&self.node, now) {
            return Some(format!("{name} is unreachable"));
        }
        if self.node.cordoned {
            return Some(format!("{name} is cordoned"));
        }
        let (cpus, memory, how) = if ask.reserve {
            (self.free_cpus(), self.free_memory_mb(), "free")
        } else {
            (self.cpu_capacity(), self.memory_capacity(), "in all")
        };
        match (cpus < ask.cpus, memory < ask.memory_mb) {
            (false, false) => None,
            (false, true) => Some(format!("{name} has {} {how}", show_mib(memory))),
            (true, false) => Some(format!("{name} has {} {how}", vcpus(cpus))),
            (true, true) => Some(format!(
                "{name} has {} and {} {how}",
                vcpus(cpus),
                show_mib(memory)
            )),
        }
    }
}

/// Whether `node` has an identity: the embedded node always; another once its agent joined.
pub fn joined(node: &node::Model) -> bool {
    node.is_local || node.cert_sha256.is_some()
}

/// Whether `node` is in reach: the embedded node always; another one while it heartbeats.
pub fn reachable(node: &node::Model, now: DateTime<Utc>) -> bool {
    node.is_local
        || node
            .last_seen_at
            .is_some_and(|seen| (now - seen).num_seconds() < UNREACHABLE_AFTER_SECS)
}

/// The node for `ask` among `rooms`: one with room, away from its siblings when it can be,
/// then the one with the most free memory; or a sentence saying why none fits.
pub(crate) fn choose<'a>(
    rooms: &'a [Room],
    ask: &Ask,
    now: DateTime<Utc>,
) -> Result<&'a Room, String> {
    let in_region: Vec<&Room> = rooms
        .iter()
        .filter(|r| {
            ask.region
                .as_ref()
                .is_none_or(|want| &r.node.region == want)
        })
        .collect();
    let where_ = match &ask.region {
        Some(region) => format!(" in region `{region}`"),
        None => String::new(),
    };
    if in_region.is_empty() {
        return Err(format!("No node is{where_}."));
    }
    let fitting = in_region
        .iter()
        .copied()
        .filter(|r| r.refusal(ask, now).is_none());
    let best = fitting.min_by_key(|r| {
        (
            ask.avoid.contains(&r.node.id),
            std::cmp::Reverse(r.free_memory_mb()),
            r.node.name.clone(),
        )
    });
    best.ok_or_else(|| {
        let reasons: Vec<String> = in_region
            .iter()
            .filter_map(|r| r.refusal(ask, now))
            .collect();
        let how = if ask.reserve { "free" } else { "in all" };
        format!(
            "No node{where_} has {} and {} {how}: {}.",
            vcpus(ask.cpus),
            show_mib(ask.memory_mb),
            reasons.join(", ")
        )
    })
}

/// Locks every node's row for the rest of `txn` (placements run one after the other).
async fn lock_nodes(txn: &DatabaseTransaction) -> Result<(), AppError> {
    node::Entity::update_many()
        .col_expr(
            node::Column::Cordoned,
            Expr::col(node::Column::Cordoned).into(),
        )
        .exec(txn)
        .await
        .map_err(|e| internal("place vm", e))?;
    Ok(())
}

/// Every node, by name, with what the VMs that should run on it take (`except` one).
pub(crate) async fn rooms<C: ConnectionTrait>(
    conn: &C,
    except: Option<Uuid>,
) -> Result<Vec<Room>, AppError> {
    let fail = |e| internal("place vm", e);
    let nodes = node::Entity::find()
        .order_by_asc(node::Column::Name)
        .all(conn)
        .await
        .map_err(fail)?;
    let mut usage = vm::Entity::find()
        .select_only()
        .column(vm::Column::NodeId)
        .column_as(vm::Column::CpuCount.sum(), "cpus")
        .column_as(vm::Column::MemoryMb.sum(), "memory")
        .filter(vm::Column::DesiredState.is_in(Desired::HOLDING_ROOM.map(Desired::as_str)))
        .group_by(vm::Column::NodeId);
    if let Some(id) = except {
        usage = usage.filter(vm::Column::Id.ne(id));
    }
    let usage: Vec<(Option<Uuid>, Option<i64>, Option<i64>)> =
        usage.into_tuple().all(conn).await.map_err(fail)?;
    Ok(nodes
        .into_iter()
        .map(|node| {
            let (cpus, memory) = usage
                .iter()
                .find(|(id, _, _)| *id == Some(node.id))
                .map(|(_, c, m)| (c.unwrap_or(0), m.unwrap_or(0)))
                .unwrap_or((0, 0));
            Room {
                node,
                used_cpus: cpus,
                used_memory_mb: memory,
            }
        })
        .collect())
}

/// Picks and reserves a node for `ask` inside `txn` (the caller inserts the VM before it
/// commits); a refusal is a conflict that says, node by node, why none fits.
pub(crate) async fn place(
    txn: &DatabaseTransaction,
    ask: &Ask,
    now: DateTime<Utc>,
) -> Result<node::Model, AppError> {
    lock_nodes(txn).await?;
    let mut avoid = ask.avoid.clone();
    if let Some(service) = ask.siblings_of {
        avoid.extend(sibling_nodes(txn, service).await?);
    }
    let ask = Ask {
        avoid,
        ..ask.clone()
    };
    let rooms = rooms(txn, ask.except).await?;
    choose(&rooms, &ask, now)
        .map(|r| r.node.clone())
        .map_err(AppError::Conflict)
}

/// The nodes that run the service's other replicas (not deleted).
async fn sibling_nodes(txn: &DatabaseTransaction, service: Uuid) -> Result<Vec<Uuid>, AppError> {
    let nodes: Vec<Option<Uuid>> = vm::Entity::find()
        .select_only()
        .column(vm::Column::NodeId)
        .filter(vm::Column::ServiceId.eq(service))
        .filter(vm::Column::DesiredState.ne(Desired::Deleted.as_str()))
        .into_tuple()
        .all(txn)
        .await
        .map_err(|e| internal("place vm", e))?;
    Ok(nodes.into_iter().flatten().collect())
}

/// Checks inside `txn` that the node `node_id` has room for `ask` (a VM starting again where
/// its disk is).
pub(crate) async fn check_node(
    txn: &DatabaseTransaction,
    node_id: Uuid,
    ask: &Ask,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    lock_nodes(txn).await?;
    let rooms = rooms(txn, ask.except).await?;
    let room = rooms
        .iter()
        .find(|r| r.node.id == node_id)
        .ok_or_else(|| internal("place vm", "the VM's node is not registered"))?;
    match room.refusal(ask, now) {
        None => Ok(()),
        Some(why) => Err(AppError::Conflict(format!(
            "Its node cannot run it now: {why} (it needs {} and {}).",
            vcpus(ask.cpus),
            show_mib(ask.memory_mb)
        ))),
    }
}

/// "1 vCPU", "4 vCPUs".
fn vcpus(n: i64) -> String {
    if n == 1 {
        "1 vCPU".into()
    } else {
        format!("{n} vCPUs")
    }
}

/// Memory as people read it: "512 MiB", "2 GiB", "2.1 GiB".
pub fn show_mib(mib: i64) -> String {
    if mib < 1024 {
        return format!("{mib} MiB");
    }
    let tenths = (mib * 10 + 512) / 1024;
    if tenths % 10 == 0 {
        format!("{} GiB", tenths / 10)
    } else {
        format!("{}.{} GiB", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap()
    }

    fn room(name: &str, region: &str, memory_mb: i64, used_memory_mb: i64) -> Room {
        Room {
            node: node::Model {
                id: Uuid::new_v4(),
                name: name.into(),
                address: String::new(),
                is_local: false,
                cpu_count: 2,
                memory_mb,
                created_at: now(),
                region: region.into(),
                cordoned: false,
                draining: false,
                cpu_overcommit_pct: 400,
                memory_overcommit_pct: 100,
                last_seen_at: Some(now() - chrono::Duration::seconds(3)),
                cert_sha256: Some(format!("cert-of-{name}")),
                joined_at: Some(now()),
                accel: "tcg".into(),
                qemu_version: None,
                disk_free_gb: 100,
                labels: "{}".into(),
                agent_version: None,
            },
            used_cpus: 0,
            used_memory_mb,
        }
    }

    fn ask(region: Option<&str>, memory_mb: i64) -> Ask {
        Ask {
            region: region.map(str::to_owned),
            cpus: 1,
            memory_mb,
            reserve: true,
            ..Ask::default()
        }
    }

    #[test]
    fn the_node_with_most_free_memory_in_the_region_is_chosen() {
        let rooms = [
            room("a", "eu", 8192, 1024),
            room("b", "eu", 8192, 0),
            room("c", "us", 65536, 0),
        ];
        let got = choose(&rooms, &ask(Some("eu"), 1024), now()).unwrap();
        assert_eq!(got.node.name, "b");
        let anywhere = choose(&rooms, &ask(None, 1024), now()).unwrap();
        assert_eq!(anywhere.node.name, "c");
    }

    #[test]
    fn a_refusal_says_node_by_node_why() {
        let mut rooms = vec![
            room("node-a", "eu", 4096, 1946),
            room("node-b", "eu", 8192, 0),
            room("node-c", "eu", 8192, 0),
        ];
        rooms[1].node.cordoned = true;
        rooms[2].node.last_seen_at = Some(now() - chrono::Duration::seconds(16));
        let err = choose(&rooms, &ask(Some("eu"), 4096), now()).unwrap_err();
        assert_eq!(
            err,
            "No node in region `eu` has 1 vCPU and 4 GiB free: node-a has 2.1 GiB free, \
             node-b is cordoned, node-c is unreachable."
        );
        assert_eq!(
            choose(&rooms, &ask(Some("ap"), 128), now()).unwrap_err(),
            "No node is in region `ap`."
        );
    }

    #[test]
    fn overcommit_ratios_scale_what_a_node_offers() {
        let mut r = room("a", "eu", 4096, 4096);
        r.used_cpus = 8;
        assert_eq!(r.free_cpus(), 0);
        assert!(r.refusal(&ask(None, 0), now()).is_some());
        r.node.cpu_overcommit_pct = 800;
        r.node.memory_overcommit_pct = 150;
        assert_eq!(r.free_cpus(), 8);
        assert_eq!(r.free_memory_mb(), 2048);
        assert_eq!(r.refusal(&ask(None, 2048), now()), None);
        // A VM created stopped needs a node big enough, not free room.
        let mut later = ask(None, 6144);
        later.reserve = false;
        assert_eq!(r.refusal(&later, now()), None);
        later.memory_mb = 8192;
        assert_eq!(r.refusal(&later, now()), Some("a has 6 GiB in all".into()));
    }

    #[test]
    fn siblings_spread_while_another_node_has_room() {
        let rooms = [room("a", "eu", 8192, 0), room("b", "eu", 4096, 0)];
        let mut a = ask(None, 512);
        a.avoid = vec![rooms[0].node.id];
        assert_eq!(choose(&rooms, &a, now()).unwrap().node.name, "b");
        a.avoid = vec![rooms[0].node.id, rooms[1].node.id];
        assert_eq!(choose(&rooms, &a, now()).unwrap().node.name, "a");
    }

    #[test]
    fn memory_reads_as_people_write_it() {
        assert_eq!(show_mib(512), "512 MiB");
        assert_eq!(show_mib(2048), "2 GiB");
        assert_eq!(show_mib(2150), "2.1 GiB");
        assert_eq!(show_mib(12 * 1024), "12 GiB");
    }
}
