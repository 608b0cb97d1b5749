//! An organization's VM networks: list, create, delete.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use model::networks::{NetworkView, NewNetwork};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now, respond};

#[server(prefix = "/api/networks", endpoint = "list")]
pub async fn list_networks(org_id: String) -> Result<Vec<NetworkView>, AppError> {
    respond(async move { control()?.networks(&caller()?, &org_id).await }.await)
}

#[server(prefix = "/api/networks", endpoint = "create", input = Json)]
pub async fn create_network(new: NewNetwork) -> Result<NetworkView, AppError> {
    respond(async move { control()?.create_network(&caller()?, &new, now()).await }.await)
}

#[server(prefix = "/api/networks", endpoint = "delete")]
pub async fn delete_network(id: String) -> Result<(), AppError> {
    respond(async move { control()?.delete_network(&caller()?, &id, now()).await }.await)
}
