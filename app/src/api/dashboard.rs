//! Dashboard data.

use leptos::prelude::*;
use model::{AppError, DashboardInfo};

/// Version, backends, uptime and counts for the dashboard.
#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<DashboardInfo, AppError> {
    super::context::respond(
        async move {
            let who = super::context::caller()?;
            super::context::control()?
                .dashboard(&who, super::context::now())
                .await
        }
        .await,
    )
}
