//! The `strata` server: configuration, start-up, the HTTP router and its middleware.
//!
//! `main.rs` only parses the command line and calls [`run`]; tests build the router with
//! [`router::build`] and drive it without a socket.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod agent_cmd;
pub mod agents;
pub mod audit_export;
pub mod authz_cli;
pub mod client;
pub mod client_ip;
pub mod config;
pub mod console;
pub mod fn_errors;
pub mod guard;
pub mod health;
pub mod layered;
pub mod live;
pub mod logging;
pub mod metrics;
pub mod ratelimit;
pub mod rest;
pub mod retention;
pub mod router;
pub mod serve;
pub mod state;
pub mod ws;

pub use config::{Cli, Command, Config};
pub use serve::run;
pub use state::AppState;
