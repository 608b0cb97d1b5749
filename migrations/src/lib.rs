//! Strata's database schema, one SeaORM migration per change, applied in order on start.
//!
//! A landed migration is never edited: later changes add a new file.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_identity;
mod m20261122_000003_access;
mod m20261122_000004_audit;
mod m20261122_000005_compute;
mod m20261122_000006_services;
mod m20261122_000007_session_verified;
mod m20261203_000008_placement;
mod m20261204_000009_agents;
mod m20261207_000010_replica_serial;
mod m20261207_000011_node_drain;
mod m20261207_000012_api_tokens;
mod m20261207_000013_networks;
mod m20261207_000014_service_addresses;
mod m20261207_000015_vm_tags;
mod m20261207_000016_port_forwards;
mod m20261208_000017_network_legs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_identity::Migration),
            Box::new(m20261122_000003_access::Migration),
            Box::new(m20261122_000004_audit::Migration),
            Box::new(m20261122_000005_compute::Migration),
            Box::new(m20261122_000006_services::Migration),
            Box::new(m20261122_000007_session_verified::Migration),
            Box::new(m20261203_000008_placement::Migration),
            Box::new(m20261204_000009_agents::Migration),
            Box::new(m20261207_000010_replica_serial::Migration),
            Box::new(m20261207_000011_node_drain::Migration),
            Box::new(m20261207_000012_api_tokens::Migration),
            Box::new(m20261207_000013_networks::Migration),
            Box::new(m20261207_000014_service_addresses::Migration),
            Box::new(m20261207_000015_vm_tags::Migration),
            Box::new(m20261207_000016_port_forwards::Migration),
            Box::new(m20261208_000017_network_legs::Migration),
        ]
    }
}
