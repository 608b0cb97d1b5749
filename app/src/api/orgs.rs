//! Organizations and membership.

use leptos::prelude::*;
use model::orgs::{OrgDetail, OrgMember, OrgRole, OrgSummary};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now, respond};

#[server(prefix = "/api/orgs", endpoint = "list")]
pub async fn list_organizations() -> Result<Vec<OrgSummary>, AppError> {
    respond(async move { control()?.list_organizations(&caller()?).await }.await)
}

#[server(prefix = "/api/orgs", endpoint = "create")]
pub async fn create_organization(name: String) -> Result<OrgSummary, AppError> {
    respond(
        async move {
            control()?
                .create_organization(&caller()?, &name, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/orgs", endpoint = "get")]
pub async fn get_organization(id: String) -> Result<OrgDetail, AppError> {
    respond(async move { control()?.organization(&caller()?, &id).await }.await)
}

#[server(prefix = "/api/orgs", endpoint = "add_member")]
pub async fn add_member(
    org_id: String,
    username: String,
    role: OrgRole,
) -> Result<OrgMember, AppError> {
    respond(
        async move {
            control()?
                .add_member(&caller()?, &org_id, &username, role, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/orgs", endpoint = "change_role")]
pub async fn change_member_role(
    org_id: String,
    user_id: String,
    role: OrgRole,
) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .change_member_role(&caller()?, &org_id, &user_id, role, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/orgs", endpoint = "remove_member")]
pub async fn remove_member(org_id: String, user_id: String) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .remove_member(&caller()?, &org_id, &user_id, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/orgs", endpoint = "leave")]
pub async fn leave_organization(org_id: String) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .leave_organization(&caller()?, &org_id, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/orgs", endpoint = "quota")]
pub async fn get_org_quota(org_id: String) -> Result<model::quotas::OrgQuota, AppError> {
    respond(async move { control()?.org_quota(&caller()?, &org_id).await }.await)
}

#[server(prefix = "/api/orgs", endpoint = "set_quota")]
pub async fn set_org_quota(org_id: String, quota: model::quotas::Quota) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .set_org_quota(&caller()?, &org_id, &quota, now())
                .await
        }
        .await,
    )
}
