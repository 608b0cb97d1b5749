//! An organization's VM networks: list, create, delete; one network with its VMs; its rules
//! (list, add, remove); and whether one VM reaches another.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use model::networks::{
    NetworkDetail, NetworkView, NewNetwork, NewRule, ReachQuery, Reachability, RuleView,
};
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

#[server(prefix = "/api/networks", endpoint = "get")]
pub async fn get_network(id: String) -> Result<NetworkDetail, AppError> {
    respond(async move { control()?.network(&caller()?, &id).await }.await)
}

#[server(prefix = "/api/networks", endpoint = "rules")]
pub async fn list_rules(network_id: String) -> Result<Vec<RuleView>, AppError> {
    respond(async move { control()?.network_rules(&caller()?, &network_id).await }.await)
}

#[server(prefix = "/api/networks", endpoint = "add_rule", input = Json)]
pub async fn add_rule(network_id: String, rule: NewRule) -> Result<RuleView, AppError> {
    respond(
        async move {
            control()?
                .add_network_rule(&caller()?, &network_id, &rule, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/networks", endpoint = "remove_rule")]
pub async fn remove_rule(network_id: String, rule_id: String) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .remove_network_rule(&caller()?, &network_id, &rule_id, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/networks", endpoint = "explain", input = Json)]
pub async fn explain_reach(query: ReachQuery) -> Result<Reachability, AppError> {
    respond(async move { control()?.explain_reach(&caller()?, &query).await }.await)
}
