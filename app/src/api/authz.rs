//! Operators' questions about anyone's grants (`strata authz ... --server`); platform admins.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use model::access::AuthzQuery;
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, respond};

#[server(prefix = "/api/admin/authz", endpoint = "query", input = Json)]
pub async fn ask_authz(query: AuthzQuery) -> Result<Vec<String>, AppError> {
    respond(async move { control()?.inspect_access(&caller()?, &query).await }.await)
}
