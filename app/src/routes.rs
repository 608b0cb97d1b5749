//! The pages as lazily loaded routes: the site build (tools/site) splits the WASM so that each
//! page's code is a WASM chunk of its own, fetched the first time the page is shown (and preloaded by the
//! server-rendered page that needs it), so a first load fetches the shell and one page.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages::{
    admin_users::AdminUsersPage, audit::AuditPage, dashboard::DashboardPage, images::ImagesPage,
    network::NetworkPage, nodes::NodesPage, operations::OperationsPage,
    organization::OrganizationPage, organizations::OrganizationsPage, recover::RecoverPage,
    service::ServicePage, services::ServicesPage, settings::SettingsPage, signin::SigninPage,
    signup::SignupPage, vm::VmPage, vms::VmsPage,
};

/// Declares `$route`, a lazily loaded route showing the page component `$page`. Pages start
/// their own data loading, so the route has no data of its own.
macro_rules! lazy_page {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The lazily loaded route of [`", stringify!($page), "`].")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_page! {
    Dashboard => DashboardPage,
    Vms => VmsPage,
    Vm => VmPage,
    Services => ServicesPage,
    Service => ServicePage,
    Organizations => OrganizationsPage,
    Organization => OrganizationPage,
    Network => NetworkPage,
    Settings => SettingsPage,
    AdminUsers => AdminUsersPage,
    Nodes => NodesPage,
    Audit => AuditPage,
    Operations => OperationsPage,
    Images => ImagesPage,
    Signin => SigninPage,
    Signup => SignupPage,
    Recover => RecoverPage,
}
