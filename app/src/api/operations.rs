//! Durable operations: the list the caller may see, and cancel.

use leptos::prelude::*;
use model::operations::OperationView;
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now, respond};

#[server(prefix = "/api/operations", endpoint = "list")]
pub async fn list_operations() -> Result<Vec<OperationView>, AppError> {
    respond(async move { control()?.list_operations(&caller()?, None).await }.await)
}

#[server(prefix = "/api/operations", endpoint = "cancel")]
pub async fn cancel_operation(id: String) -> Result<(), AppError> {
    respond(async move { control()?.cancel_operation(&caller()?, &id, now()).await }.await)
}
