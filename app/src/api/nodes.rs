//! Nodes: the hypervisor hosts with their capacity, cordoning and draining (platform admins
//! only).

use leptos::prelude::*;
use model::nodes::{DrainReport, JoinTicket, NodeView};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now, respond};

#[server(prefix = "/api/nodes", endpoint = "list")]
pub async fn list_nodes() -> Result<Vec<NodeView>, AppError> {
    respond(async move { control()?.list_nodes(&caller()?, now()).await }.await)
}

#[server(prefix = "/api/nodes", endpoint = "cordon")]
pub async fn set_node_cordoned(node_id: String, cordoned: bool) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .set_node_cordoned(&caller()?, &node_id, cordoned, now())
                .await
        }
        .await,
    )
}

/// Cordons a node and moves its service replicas elsewhere; says what moves and what stays.
#[server(prefix = "/api/nodes", endpoint = "drain")]
pub async fn drain_node(node_id: String) -> Result<DrainReport, AppError> {
    respond(async move { control()?.drain_node(&caller()?, &node_id, now()).await }.await)
}

/// Adds a node and returns its single-use join token with the command to paste on the host.
#[server(prefix = "/api/nodes", endpoint = "add")]
pub async fn add_node(name: String) -> Result<JoinTicket, AppError> {
    respond(async move { control()?.add_node(&caller()?, &name, now()).await }.await)
}

/// Removes a node that runs no VMs; its agent is refused from then on.
#[server(prefix = "/api/nodes", endpoint = "remove")]
pub async fn remove_node(node_id: String) -> Result<(), AppError> {
    respond(async move { control()?.remove_node(&caller()?, &node_id, now()).await }.await)
}
