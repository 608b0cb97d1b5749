//! Proof of authorization: the value [`Control::authorize`](crate::Control::authorize) returns
//! and every helper that changes state requires.
//!
//! Writing relation tuples, queuing an operation and recording a successful audit row all take
//! an [`Authorized`], so a use case cannot reach them without having asked first. Only this
//! module makes one: from a permission check, for a person acting on their own account (their
//! sessions and passkeys), or for work the control plane does itself (the runner, the sweep,
//! start-up repairs), each named so a reader can find every such place.

use crate::access::model::{Permission, Resource};
use crate::auth::Caller;
use sea_orm::prelude::Uuid;

/// Why a change was allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grounds {
    /// The permission engine answered yes.
    Checked {
        permission: Permission,
        resource: Resource,
    },
    /// A signed-in person changing their own account.
    OwnAccount { user: Uuid },
    /// The control plane's own work, with what it is.
    System(&'static str),
}

/// Made only here; see the module's documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized {
    grounds: Grounds,
}

impl Authorized {
    /// The engine allowed `permission` on `resource` (only `authorize` calls this).
    pub(super) fn checked(permission: Permission, resource: &Resource) -> Self {
        Self {
            grounds: Grounds::Checked {
                permission,
                resource: resource.clone(),
            },
        }
    }

    /// `caller` acts on their own account: sessions, passkeys, sign-out.
    pub(crate) fn own_account(caller: &Caller) -> Self {
        Self::person(caller.user_id)
    }

    /// The person who just proved who they are with a passkey (a sign-in, a sign-up).
    pub(crate) fn person(user: Uuid) -> Self {
        Self {
            grounds: Grounds::OwnAccount { user },
        }
    }

    /// The control plane's own work: `what` says which (for example "operation runner").
    pub(crate) fn system(what: &'static str) -> Self {
        Self {
            grounds: Grounds::System(what),
        }
    }

    pub fn grounds(&self) -> &Grounds {
        &self.grounds
    }
}
