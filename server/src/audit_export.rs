//! `GET /api/audit/export?format=csv|jsonl&actor=…`: the filtered audit rows as a download,
//! for the signed-in caller's view of the log (the same rules as the Audit page).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use control::audit::log::ExportFormat;
use control::auth::Caller;
use model::audit::AuditFilter;
use model::AppError;
use serde::Deserialize;

use crate::guard::error;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    format: String,
    actor: String,
    organization: String,
    resource_type: String,
    resource_id: String,
    action: String,
    outcome: String,
    from: String,
    to: String,
}

pub async fn export(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(Extension(caller)) = caller else {
        return error(AppError::Unauthenticated);
    };
    let Ok(Query(q)) = query else {
        return error(AppError::Invalid("The export address is malformed.".into()));
    };
    let (format, content_type, extension) = match q.format.as_str() {
        "" | "jsonl" => (ExportFormat::JsonLines, "application/x-ndjson", "jsonl"),
        "csv" => (ExportFormat::Csv, "text/csv; charset=utf-8", "csv"),
        _ => return error(AppError::Invalid("`format` must be jsonl or csv.".into())),
    };
    let filter = AuditFilter {
        actor: q.actor,
        organization: q.organization,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        action: q.action,
        outcome: q.outcome,
        from: q.from,
        to: q.to,
        before: None,
        limit: None,
    };
    match state.control.audit_export(&caller, &filter, format).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"strata-audit.{extension}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            body,
        )
            .into_response(),
        Err(e) => error(e),
    }
}
