//! The Access panel: who can do what on a resource, and why.

use leptos::prelude::*;
use model::access::{AccessOverview, Explanation, PanelKind};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, respond};

#[cfg(feature = "ssr")]
fn resource(kind: PanelKind, id: &str) -> Result<control::access::model::Resource, AppError> {
    use control::access::model::{Kind, Resource};
    let kind = match kind {
        PanelKind::Organization => Kind::Organization,
        PanelKind::Vm => Kind::Vm,
        PanelKind::Service => Kind::Service,
    };
    let id = id
        .trim()
        .parse()
        .map_err(|_| control::access::not_found(kind))?;
    Ok(Resource::new(kind, id))
}

#[server(prefix = "/api/access", endpoint = "overview")]
pub async fn get_access_overview(kind: PanelKind, id: String) -> Result<AccessOverview, AppError> {
    respond(
        async move {
            control()?
                .access_overview(&caller()?, &resource(kind, &id)?)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/access", endpoint = "explain")]
pub async fn explain_access(
    kind: PanelKind,
    id: String,
    username: String,
    permission: String,
) -> Result<Explanation, AppError> {
    respond(
        async move {
            control()?
                .explain_access(&caller()?, &resource(kind, &id)?, &username, &permission)
                .await
        }
        .await,
    )
}
