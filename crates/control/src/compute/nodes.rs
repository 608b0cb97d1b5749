//! The node registry; at start the server registers the node it embeds.

use chrono::{DateTime, Utc};
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect,
};

use crate::entities::{node, vm};

/// Name of the node embedded in every server.
pub const LOCAL_NODE: &str = "local";

/// Registers the embedded node once (safe on every start and from several instances) and
/// returns its id.
pub async fn ensure_local_node(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Uuid, DbErr> {
    let row = node::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        name: Set(LOCAL_NODE.to_owned()),
        address: Set("local".to_owned()),
        is_local: Set(true),
        cpu_count: Set(host_cpus()),
        memory_mb: Set(host_memory_mb()),
        created_at: Set(now),
        region: Set(LOCAL_NODE.to_owned()),
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

/// Memory (MiB) that the VMs placed on `node` ask for, read through `conn` (inside the
/// transaction that just inserted one, so the count includes it).
pub(crate) async fn memory_in_use<C: ConnectionTrait>(conn: &C, node: Uuid) -> Result<i64, DbErr> {
    let used: Option<Option<i64>> = vm::Entity::find()
        .select_only()
        .column_as(vm::Column::MemoryMb.sum(), "used")
        .filter(vm::Column::NodeId.eq(node))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(used.flatten().unwrap_or(0))
}

fn host_cpus() -> i32 {
    std::thread::available_parallelism()
        .map(|n| i32::try_from(n.get()).unwrap_or(i32::MAX))
        .unwrap_or(1)
}

/// Total memory from /proc/meminfo; 0 where that file does not exist.
fn host_memory_mb() -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| parse_mem_total_kib(&text))
        .map(|kib| kib / 1024)
        .unwrap_or(0)
}

fn parse_mem_total_kib(meminfo: &str) -> Option<i64> {
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_total_is_read_from_meminfo() {
        let text = "MemTotal:       24573468 kB\nMemFree:         1000 kB\n";
        assert_eq!(parse_mem_total_kib(text), Some(24_573_468));
        assert_eq!(parse_mem_total_kib("MemFree: 1 kB"), None);
    }
}
