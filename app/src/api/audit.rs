//! The audit log, one page at a time (exports are a plain GET, `/api/audit/export`).

use leptos::prelude::*;
use model::audit::{AuditFilter, AuditPage};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, respond};

#[server(prefix = "/api/audit", endpoint = "page")]
pub async fn list_audit(filter: AuditFilter) -> Result<AuditPage, AppError> {
    respond(async move { control()?.audit_page(&caller()?, &filter).await }.await)
}
