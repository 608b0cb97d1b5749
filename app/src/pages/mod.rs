//! One module per page.

pub mod dashboard;
pub mod not_found;
pub mod organizations;
pub mod services;
pub mod settings;
pub mod vms;
