//! Who may use a VM's serial console (root on the guest), and the record that they did.

use chrono::Utc;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::EntityTrait;

use crate::access::model::{Kind, Permission, Resource};
use crate::access::not_found;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::entities::vm;
use crate::orgs::parse_id;
use crate::{internal, Control};

impl Control {
    /// Opens a console session: the caller needs `console` on the VM. Audited, since the
    /// console is root on the guest. Returns the VM's id for the driver.
    pub async fn open_console(&self, caller: &Caller, id: &str) -> Result<Uuid, AppError> {
        let id = parse_id(id, Kind::Vm)?;
        let res = Resource::vm(id);
        self.authorize_action(caller, Permission::Console, &res, "vm.console")
            .await?;
        let row = vm::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(|e| internal("load vm", e))?
            .ok_or_else(|| not_found(Kind::Vm))?;
        let entry = Entry::new("vm.console", &res)
            .org(row.organization_id)
            .detail(serde_json::json!({ "name": row.name }));
        audit::record(
            self.db(),
            &Actor::caller(caller),
            entry,
            Outcome::Success,
            Utc::now(),
        )
        .await?;
        Ok(id)
    }

    /// Whether an open console may stay open (access can be revoked while it is).
    pub async fn console_allowed(&self, caller: &Caller, id: Uuid) -> bool {
        self.can(Some(caller), Permission::Console, &Resource::vm(id))
            .await
            .unwrap_or(false)
    }
}
