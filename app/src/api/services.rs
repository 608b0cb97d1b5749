//! Services: list, create, detail, configuration versions (save, diff, roll back),
//! deployments (deploy, scale, start, stop, delete) with their logs, and metrics.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use model::services::{
    ConfigVersion, DeployRequest, DeploymentLogLine, DeploymentView, DiffLine, MetricSample,
    NewService, ServiceAction, ServiceDetail, ServiceSummary,
};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now, respond};

#[server(prefix = "/api/services", endpoint = "list")]
pub async fn list_services() -> Result<Vec<ServiceSummary>, AppError> {
    respond(async move { control()?.list_services(&caller()?).await }.await)
}

#[server(prefix = "/api/services", endpoint = "regions")]
pub async fn list_regions() -> Result<Vec<String>, AppError> {
    respond(async move { control()?.list_regions(&caller()?).await }.await)
}

#[server(prefix = "/api/services", endpoint = "create", input = Json)]
pub async fn create_service(service: NewService) -> Result<ServiceSummary, AppError> {
    respond(async move { control()?.create_service(&caller()?, &service, now()).await }.await)
}

#[server(prefix = "/api/services", endpoint = "get")]
pub async fn get_service(id: String) -> Result<ServiceDetail, AppError> {
    respond(async move { control()?.service(&caller()?, &id).await }.await)
}

/// Saves a new configuration version; with `deploy`, rolls it out at once.
#[server(prefix = "/api/services", endpoint = "config/save", input = Json)]
pub async fn save_service_config(
    id: String,
    config: String,
    deploy: bool,
) -> Result<ConfigVersion, AppError> {
    respond(
        async move {
            control()?
                .save_service_config(&caller()?, &id, &config, deploy, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/services", endpoint = "config/diff")]
pub async fn diff_service_config(
    id: String,
    from: i64,
    to: i64,
) -> Result<Vec<DiffLine>, AppError> {
    respond(
        async move {
            control()?
                .diff_service_config(&caller()?, &id, from, to)
                .await
        }
        .await,
    )
}

/// Saves version `version`'s configuration again as a new version and deploys it.
#[server(prefix = "/api/services", endpoint = "config/rollback")]
pub async fn rollback_service_config(id: String, version: i64) -> Result<DeploymentView, AppError> {
    respond(
        async move {
            control()?
                .rollback_service(&caller()?, &id, version, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/services", endpoint = "deploy", input = Json)]
pub async fn deploy_service(
    id: String,
    request: DeployRequest,
) -> Result<DeploymentView, AppError> {
    respond(
        async move {
            control()?
                .deploy_service(&caller()?, &id, &request, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/services", endpoint = "scale")]
pub async fn scale_service(id: String, replicas: u32) -> Result<DeploymentView, AppError> {
    respond(
        async move {
            control()?
                .scale_service(&caller()?, &id, replicas, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/services", endpoint = "act")]
pub async fn act_on_service(id: String, action: ServiceAction) -> Result<DeploymentView, AppError> {
    respond(
        async move {
            control()?
                .service_action(&caller()?, &id, action, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/services", endpoint = "delete")]
pub async fn delete_service(id: String) -> Result<DeploymentView, AppError> {
    respond(async move { control()?.delete_service(&caller()?, &id, now()).await }.await)
}

#[server(prefix = "/api/services", endpoint = "deployment/log")]
pub async fn deployment_log(id: String) -> Result<Vec<DeploymentLogLine>, AppError> {
    respond(async move { control()?.deployment_log(&caller()?, &id).await }.await)
}

/// The last hour of samples of every replica.
#[server(prefix = "/api/services", endpoint = "metrics")]
pub async fn service_metrics(id: String) -> Result<Vec<MetricSample>, AppError> {
    respond(async move { control()?.service_metrics(&caller()?, &id).await }.await)
}

/// The last hour of samples of one VM.
#[server(prefix = "/api/vms", endpoint = "metrics")]
pub async fn vm_metrics(id: String) -> Result<Vec<MetricSample>, AppError> {
    respond(async move { control()?.vm_metrics(&caller()?, &id).await }.await)
}
