//! The Access panel: who can do what on a resource, and why.

use leptos::prelude::*;
use model::access::{AccessOverview, Explanation};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, respond};

#[cfg(feature = "ssr")]
fn resource(kind: &str, id: &str) -> Result<control::access::model::Resource, AppError> {
    use control::access::model::{Kind, Resource};
    let kind = Kind::parse(kind)
        .filter(|k| matches!(k, Kind::Organization | Kind::Vm | Kind::Service))
        .ok_or_else(|| AppError::NotFound("No such resource.".into()))?;
    let id = id
        .trim()
        .parse()
        .map_err(|_| control::access::not_found(kind))?;
    Ok(Resource::new(kind, id))
}

#[server(prefix = "/api/access", endpoint = "overview")]
pub async fn get_access_overview(kind: String, id: String) -> Result<AccessOverview, AppError> {
    respond(
        async move {
            control()?
                .access_overview(&caller()?, &resource(&kind, &id)?)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/access", endpoint = "explain")]
pub async fn explain_access(
    kind: String,
    id: String,
    username: String,
    permission: String,
) -> Result<Explanation, AppError> {
    respond(
        async move {
            control()?
                .explain_access(&caller()?, &resource(&kind, &id)?, &username, &permission)
                .await
        }
        .await,
    )
}
