//! What the VM page keeps across refetches: the changes it can ask for.

use leptos::prelude::*;
use model::vms::{ShareLevel, VmAction, VmShare};
use model::AppError;

use crate::api::vms::{act_on_vm, delete_vm, share_vm, unshare_vm};

type Done<T> = Result<T, AppError>;

/// Every change the page can ask for; each takes the VM id first.
#[derive(Clone, Copy)]
pub struct Actions {
    pub act: Action<(String, VmAction), Done<()>>,
    pub delete: Action<String, Done<()>>,
    /// (VM, username, level)
    pub share: Action<(String, String, ShareLevel), Done<VmShare>>,
    /// (VM, user id)
    pub unshare: Action<(String, String), Done<()>>,
    /// Goes up when an operation was cancelled from the page's list.
    pub cancelled: RwSignal<u32>,
}

impl Actions {
    pub fn new() -> Self {
        Self {
            act: Action::new(|(vm, action): &(String, VmAction)| act_on_vm(vm.clone(), *action)),
            delete: Action::new(|vm: &String| delete_vm(vm.clone())),
            share: Action::new(|(vm, user, level): &(String, String, ShareLevel)| {
                share_vm(vm.clone(), user.clone(), *level)
            }),
            unshare: Action::new(|(vm, user): &(String, String)| {
                unshare_vm(vm.clone(), user.clone())
            }),
            cancelled: RwSignal::new(0),
        }
    }

    /// Whether the page that made these is gone. A server render can outlive its client (the
    /// connection closed while the page was rendering: seen under the load benchmark, where it
    /// panicked in `Action::pending`), and reading a disposed action panics. They were all
    /// made together, so one of them tells.
    fn gone(self) -> bool {
        self.cancelled.is_disposed()
    }

    /// Whether a power action is under way (false once the page is gone).
    pub fn busy(self) -> bool {
        !self.gone() && self.act.pending().get()
    }

    /// Goes up whenever a change finished (the detail and the Access panel refetch).
    pub fn version(self) -> usize {
        if self.gone() {
            return 0;
        }
        self.act.version().get()
            + self.delete.version().get()
            + self.share.version().get()
            + self.unshare.version().get()
            + self.cancelled.get() as usize
    }

    /// The last failure of a change, for the page's banner.
    pub fn error(self) -> Option<AppError> {
        if self.gone() {
            return None;
        }
        let failed = |r: Option<Done<()>>| r.and_then(Result::err);
        failed(self.act.value().get())
            .or_else(|| failed(self.delete.value().get()))
            .or_else(|| failed(self.share.value().get().map(|r| r.map(|_| ()))))
            .or_else(|| failed(self.unshare.value().get()))
    }
}
