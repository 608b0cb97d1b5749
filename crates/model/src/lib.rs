//! Types shared by the server and the browser: DTOs, enums and the one error type.
//!
//! Everything here compiles for wasm32; nothing here touches a database, a clock or the network.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod networks;
pub mod nodes;
pub mod operations;
pub mod orgs;
pub mod quotas;
pub mod redirect;
pub mod services;
pub mod text;
pub mod tokens;
pub mod vms;

pub use dashboard::{Counts, DashboardInfo, DatabaseBackend, EventTransport};
pub use error::AppError;
