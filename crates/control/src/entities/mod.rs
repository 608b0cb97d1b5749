//! SeaORM entities, one module per table.

pub mod api_token;
pub mod audit;
pub mod ceremony;
pub mod deployment;
pub mod deployment_log;
pub mod image;
pub mod join_token;
pub mod link;
pub mod network;
pub mod network_rule;
pub mod nic;
pub mod node;
pub mod node_authority;
pub mod operation;
pub mod organization;
pub mod passkey;
pub mod port_forward;
pub mod quota;
pub mod relation_tuple;
pub mod service;
pub mod service_config;
pub mod session;
pub mod states;
pub mod user;
pub mod vm;
pub mod vm_event;
