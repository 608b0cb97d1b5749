//! A VM's serial console (root on the guest): who may open it, the record that they did, and
//! the open console itself.
//!
//! [`Control::open_console`] is the only way to get a [`Console`]: the handle is the proof that
//! the caller was allowed, and the server's WebSocket reads and types through it, never through
//! the node's driver.

use chrono::{DateTime, Utc};
use hypervisor::driver::DriverError;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::EntityTrait;

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::audit::Action;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::entities::vm;
use crate::{internal, Control};

/// An open console on one VM, for the caller it was opened for.
pub struct Console {
    vm: Uuid,
    id: String,
    caller: Caller,
    /// Where the VM runs: each read and write goes to its node's driver as it is then (a
    /// console stays open while its node's link drops and comes back).
    node: Option<Uuid>,
    control: Control,
}

impl Control {
    /// Opens a console session: the caller needs `console` on the VM. Audited at `now`, since
    /// the console is root on the guest.
    pub async fn open_console(
        &self,
        caller: &Caller,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Console, AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        let allowed = self
            .authorize_action(caller, Permission::Console, &res, Action::VmConsole)
            .await?;
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("load vm", e))?
            .ok_or_else(|| not_found(Kind::Vm))?;
        let entry = Entry::new(Action::VmConsole, &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name }));
        audit::record(
            self.db(),
            &allowed,
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
        Ok(Console {
            vm: id,
            id: id.to_string(),
            caller: caller.clone(),
            node: row.node_id,
            control: self.clone(),
        })
    }
}

impl Console {
    /// The VM this console is on.
    pub fn vm(&self) -> Uuid {
        self.vm
    }

    /// Up to `max` bytes of output from `offset`, and the offset after them; an error while
    /// the VM is not running.
    pub async fn read(&self, offset: u64, max: usize) -> Result<(Vec<u8>, u64), DriverError> {
        self.control
            .node_driver(self.node)?
            .console_read(&self.id, offset, max)
            .await
    }

    /// Types `bytes` into the guest.
    pub async fn write(&self, bytes: &[u8]) -> Result<(), DriverError> {
        self.control
            .node_driver(self.node)?
            .console_write(&self.id, bytes)
            .await
    }

    /// Whether the console may stay open (access can be revoked while it is).
    pub async fn still_allowed(&self, control: &Control) -> bool {
        control
            .can(
                Some(&self.caller),
                Permission::Console,
                &Resource::vm(self.vm),
            )
            .await
            .unwrap_or(false)
    }
}
