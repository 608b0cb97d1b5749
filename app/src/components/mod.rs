//! Small building blocks shared by pages.

pub mod access_panel;
pub mod auth_card;
pub mod empty_state;
pub mod error_notice;
pub mod loaded;
pub mod operations_list;
pub mod page_header;
pub mod refresh;
pub mod serial_console;
pub mod ui;
pub mod vm_state;
