//! Services: named workloads run as replica VMs, with numbered configuration versions and
//! rolling deployments whose logs stream live.
//!
//! [`create`] and [`requests`] are a person's requests, which [`changes`] turns into a deployment and an
//! operation; [`rollout`] is
//! that operation, replica by replica; [`catalog`] is what pages read; [`config`] checks,
//! shows and diffs configurations; [`logs`] is each deployment's log; [`replicas`] keeps
//! replicas the service's own; [`lost`] replaces the replicas of a node that stayed lost.

mod catalog;
pub(crate) mod changes;
pub mod config;
mod create;
mod logs;
mod lost;
mod replicas;
mod requests;
mod rollout;

pub use catalog::derive_status;
pub use lost::REPLACE_AFTER;
pub use replicas::repair_replica_grants;
pub(crate) use replicas::replica_grants;
