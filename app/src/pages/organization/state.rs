//! What the organization page keeps across refetches: the changes it can ask for.

use leptos::prelude::*;
use model::orgs::{OrgMember, OrgRole};
use model::AppError;

use crate::api::orgs::{add_member, change_member_role, leave_organization, remove_member};

type Done<T> = Result<T, AppError>;

/// Every change the page can ask for; each takes the organization id first.
#[derive(Clone, Copy)]
pub struct Actions {
    /// (organization, username, role)
    pub add: Action<(String, String, OrgRole), Done<OrgMember>>,
    /// (organization, user id, new role)
    pub change: Action<(String, String, OrgRole), Done<()>>,
    /// (organization, user id)
    pub remove: Action<(String, String), Done<()>>,
    pub leave: Action<String, Done<()>>,
}

impl Actions {
    pub fn new() -> Self {
        Self {
            add: Action::new(|(org, user, role): &(String, String, OrgRole)| {
                add_member(org.clone(), user.clone(), *role)
            }),
            change: Action::new(|(org, user, role): &(String, String, OrgRole)| {
                change_member_role(org.clone(), user.clone(), *role)
            }),
            remove: Action::new(|(org, user): &(String, String)| {
                remove_member(org.clone(), user.clone())
            }),
            leave: Action::new(|org: &String| leave_organization(org.clone())),
        }
    }

    /// Goes up whenever a change to the members finished (members and Access panel reload).
    pub fn version(self) -> usize {
        self.add.version().get() + self.change.version().get() + self.remove.version().get()
    }

    /// The last failure of a change, for the page's banner.
    pub fn error(self) -> Option<AppError> {
        let failed = |r: Option<Done<()>>| r.and_then(Result::err);
        failed(self.add.value().get().map(|r| r.map(|_| ())))
            .or_else(|| failed(self.change.value().get()))
            .or_else(|| failed(self.remove.value().get()))
            .or_else(|| failed(self.leave.value().get()))
    }
}
