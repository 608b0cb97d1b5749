//! Durable operations: work that outlives a request (disks, boots, stops, deployments).
//!
//! A use case enqueues an operation in the same transaction as the change that asks for it, so
//! the request and its work commit together. [`runner`] claims queued operations with a lease
//! (a conditional update, so two instances never run one at once), reports progress as steps,
//! retries transient failures with backoff up to a limit, and resumes operations whose lease
//! ran out because their runner died. [`views`] lists them for pages and cancels them.

pub mod queue;
pub mod runner;
pub mod views;

pub use queue::{NewOperation, OpError};
pub use runner::StepContext;
