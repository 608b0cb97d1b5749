//! One module per page.

pub mod admin_users;
pub mod audit;
pub mod dashboard;
pub mod images;
pub mod network;
pub mod nodes;
pub mod not_found;
pub mod operations;
pub mod organization;
pub mod organizations;
pub mod recover;
pub mod service;
pub mod services;
pub mod settings;
pub mod signin;
pub mod signup;
pub mod vm;
pub mod vms;
