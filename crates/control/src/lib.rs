//! Strata's domain layer: the database, the use cases and the facts about this installation.
//!
//! Server functions and HTTP handlers call into here and nowhere else for data. Every use case
//! takes the current time as a parameter so tests control it, and returns [`model::AppError`]
//! with a message safe for the browser; internal detail is logged here, never returned.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod entities;
pub mod error;
pub mod events;
pub mod gauges;
pub mod images;
mod live;
pub mod nodes;
pub mod operations;
pub mod orgs;
mod reconcile;
pub mod services;
#[cfg(feature = "testing")]
pub mod testing;
pub mod usage;
pub mod vm_console;
pub mod vm_lifecycle;
pub mod vms;

pub use config::{ComputeConfig, ControlConfig};
pub use db::Control;
pub use error::internal;
