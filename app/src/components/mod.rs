//! Small building blocks shared by pages.

pub mod empty_state;
pub mod error_notice;
pub mod page_header;
