//! Nodes: the hypervisor hosts with their capacity, and cordoning (platform admins only).

use leptos::prelude::*;
use model::nodes::NodeView;
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
