//! Strata's domain layer: the database, the use cases and the facts about this installation.
//!
//! Server functions and HTTP handlers call into here and nowhere else for data. Every use case
//! takes the current time as a parameter so tests control it, and returns [`model::AppError`]
//! with a message safe for the browser; internal detail is logged here, never returned.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

/// `Display` as the type's `as_str()`: the text states and actions are stored and shown as.
macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

pub mod access;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod compute;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod entities;
pub mod error;
pub mod events;
pub mod gauges;
mod locking;
pub mod networks;
pub mod operations;
pub mod orgs;
pub mod services;
// Test support, compiled always (no feature): a `testing` feature made the test build compile
// `control`, `app` and `server` a second time. Nothing outside tests calls it.
#[doc(hidden)]
pub mod testing;

pub use config::{ComputeConfig, ControlConfig};
pub use db::Control;
pub use error::internal;
