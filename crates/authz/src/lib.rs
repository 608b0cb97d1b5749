//! Strata's permission engine, in the spirit of Zanzibar, SpiceDB and Permify.
//!
//! Three layers, as in SpiceDB and OpenFGA: the [`schema`] compiler turns Permify-style text
//! into a checked [`Schema`]; a [`TupleStore`] answers questions about stored relation tuples
//! (the database in production, [`MemoryStore`] for tests and `strata authz validate`); the
//! [`Engine`] evaluates `check`, `lookup_resources`, `lookup_subjects` and `explain` over a
//! store. A [`TupleCache`] wraps any store and is keyed by the store's revision, so it never
//! answers from before the last committed write.
//!
//! This crate knows nothing about databases, users or HTTP, and must never panic on input:
//! a bad schema or tuple is an error value with a location.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cache;
mod engine;
mod explain;
mod lookup;
mod memory;
pub mod schema;
mod store;
mod tuple;
pub mod validate;

pub use cache::{Cached, TupleCache};
pub use engine::{Engine, EvalError, DEFAULT_MAX_DEPTH};
pub use explain::Trace;
pub use memory::MemoryStore;
pub use schema::{Schema, SchemaError};
pub use store::{StoreError, TupleStore};
pub use tuple::{subject_relation, Object, Subject, Tuple, TupleParseError, ELLIPSIS};
