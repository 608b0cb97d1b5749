//! SeaORM entities, one module per table.

pub mod node;
pub mod organization;
pub mod service;
pub mod user;
pub mod vm;
