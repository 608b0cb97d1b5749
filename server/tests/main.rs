//! The integration tests of the `strata` server: over HTTP and WebSockets, the binary as a process, two instances, the CLI.
//!
//! Each module was once its own test binary; as modules of one they link once.
// Allowed here: tests build their worlds at today's time and wait for real processes.
#![allow(clippy::disallowed_methods)]

mod agents;
mod api;
mod api_fuzz;
mod authz_cli;
mod authz_matrix;
mod cli;
mod common;
mod crash;
mod live;
mod passkeys;
mod process;
mod router;
mod two_instances;
