//! Server functions, grouped by area. Each is a public HTTP endpoint under `/api`.

#[cfg(feature = "ssr")]
pub mod context;
pub mod dashboard;
