//! Virtual machines: list, create, detail, power actions, delete, images, direct shares.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use model::vms::{
    ImageSummary, NewVm, ShareLevel, VmAction, VmDetail, VmPage, VmShare, VmState, VmSummary,
};
use model::AppError;

#[cfg(feature = "ssr")]
use super::context::{caller, control, now, respond};

/// A page of the VMs the caller may read; every argument may be left out.
#[server(prefix = "/api/vms", endpoint = "list")]
pub async fn list_vms(
    organization_id: Option<String>,
    state: Option<VmState>,
    after: Option<String>,
    limit: Option<u32>,
) -> Result<VmPage, AppError> {
    let query = model::vms::VmQuery {
        organization_id,
        state,
        after,
        limit,
    };
    respond(async move { control()?.list_vms(&caller()?, &query).await }.await)
}

#[server(prefix = "/api/vms", endpoint = "create", input = Json)]
pub async fn create_vm(vm: NewVm) -> Result<VmSummary, AppError> {
    respond(async move { control()?.create_vm(&caller()?, &vm, now()).await }.await)
}

#[server(prefix = "/api/vms", endpoint = "act")]
pub async fn act_on_vm(id: String, action: VmAction) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .vm_action(&caller()?, &id, action, now())
                .await
                .map(|_| ())
        }
        .await,
    )
}

#[server(prefix = "/api/vms", endpoint = "images")]
pub async fn list_images() -> Result<Vec<ImageSummary>, AppError> {
    respond(async move { control()?.list_images(&caller()?).await }.await)
}

#[server(prefix = "/api/vms", endpoint = "get")]
pub async fn get_vm(id: String) -> Result<VmDetail, AppError> {
    respond(async move { control()?.vm(&caller()?, &id).await }.await)
}

#[server(prefix = "/api/vms", endpoint = "delete")]
pub async fn delete_vm(id: String) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .delete_vm(&caller()?, &id, now())
                .await
                .map(|_| ())
        }
        .await,
    )
}

#[server(prefix = "/api/vms", endpoint = "share")]
pub async fn share_vm(
    id: String,
    username: String,
    level: ShareLevel,
) -> Result<VmShare, AppError> {
    respond(
        async move {
            control()?
                .share_vm(&caller()?, &id, &username, level, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/vms", endpoint = "unshare")]
pub async fn unshare_vm(id: String, user_id: String) -> Result<(), AppError> {
    respond(
        async move {
            control()?
                .unshare_vm(&caller()?, &id, &user_id, now())
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/images", endpoint = "register", input = Json)]
pub async fn register_image(image: model::vms::NewImage) -> Result<ImageSummary, AppError> {
    respond(async move { control()?.register_image(&caller()?, &image, now()).await }.await)
}
