//! Small building blocks shared by pages.

pub mod access_panel;
pub mod auth_card;
pub mod empty_state;
pub mod error_notice;
pub mod human;
pub mod loaded;
pub mod metrics_chart;
pub mod metrics_feed;
pub mod operations_list;
pub mod page_header;
pub mod service_status;
pub mod sparkline;
pub mod ui;
pub mod vm_state;
