//! Server functions, grouped by area. Each is a public HTTP endpoint under `/api` and checks
//! its caller through `context` before calling one `control` use case.

pub mod access;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod authz;
#[cfg(feature = "ssr")]
pub mod context;
pub mod dashboard;
pub mod networks;
pub mod nodes;
pub mod operations;
pub mod orgs;
pub mod security;
pub mod services;
pub mod tokens;
pub mod vms;
