//! One network as its page shows it: the network, the cards on it of the VMs the caller may
//! read (a VM the caller cannot read is left out, never named), and whether the caller may
//! change its rules. Reads only.

use model::networks::{NetworkDetail, NetworkMember};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::access::model::{Kind, Permission, Resource};
use crate::auth::Caller;
use crate::entities::{nic, vm};
use crate::{internal, Control};

impl Control {
    /// A network the caller may read, with its VMs by name.
    pub async fn network(&self, caller: &Caller, id: &str) -> Result<NetworkDetail, AppError> {
        let net = self.readable_network(caller, id).await?;
        let fail = |e| internal("read network", e);
        let cards = nic::Entity::find()
            .filter(nic::Column::NetworkId.eq(net.id))
            .all(self.db())
            .await
            .map_err(fail)?;
        let visible: Vec<Uuid> = self
            .visible(caller, Permission::Read, Kind::Vm)
            .await?
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect();
        let vms = vm::Entity::find()
            .filter(vm::Column::Id.is_in(cards.iter().map(|c| c.vm_id)))
            .filter(vm::Column::Id.is_in(visible))
            .all(self.db())
            .await
            .map_err(fail)?;
        let mut members: Vec<NetworkMember> = cards
            .iter()
            .filter_map(|card| {
                let owner = vms.iter().find(|v| v.id == card.vm_id)?;
                Some(NetworkMember {
                    vm_id: owner.id.to_string(),
                    vm_name: owner.name.clone(),
                    address: card.address.clone(),
                    hostname: format!("{}.{}.internal", owner.name, net.name),
                    mac: card.mac.clone(),
                })
            })
            .collect();
        members.sort_by(|a, b| a.vm_name.cmp(&b.vm_name).then(a.address.cmp(&b.address)));
        let can_update = self
            .can(
                Some(caller),
                Permission::Update,
                &Resource::new(Kind::Network, net.id),
            )
            .await?;
        Ok(NetworkDetail {
            network: super::view(&net, u32::try_from(cards.len()).unwrap_or(u32::MAX)),
            vms: members,
            can_update,
        })
    }
}
