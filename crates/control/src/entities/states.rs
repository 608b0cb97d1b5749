//! The states and kinds rows store, as types: SeaORM active enums over the text the columns
//! always held (no migration), so a typo does not compile and dispatch is an exhaustive match.

use sea_orm::entity::prelude::*;

/// What people asked of a VM or a service (`vms.desired_state`, `services.desired_state`,
/// `deployments.desired_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Desired {
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "stopped")]
    Stopped,
    #[sea_orm(string_value = "paused")]
    Paused,
    #[sea_orm(string_value = "deleted")]
    Deleted,
}

impl Desired {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Paused => "paused",
            Self::Deleted => "deleted",
        }
    }

    /// The states whose VMs hold CPU and memory on their node (a QEMU that should be alive).
    pub const HOLDING_ROOM: [Desired; 2] = [Desired::Running, Desired::Paused];

    /// Whether a VM asked to be in this state holds CPU and memory on its node.
    pub fn holds_room(self) -> bool {
        Self::HOLDING_ROOM.contains(&self)
    }
}

/// What an operation does (`operations.kind`); the area before the dot runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum OperationKind {
    #[sea_orm(string_value = "vm.create")]
    VmCreate,
    #[sea_orm(string_value = "vm.start")]
    VmStart,
    #[sea_orm(string_value = "vm.stop")]
    VmStop,
    #[sea_orm(string_value = "vm.restart")]
    VmRestart,
    #[sea_orm(string_value = "vm.pause")]
    VmPause,
    #[sea_orm(string_value = "vm.resume")]
    VmResume,
    #[sea_orm(string_value = "vm.delete")]
    VmDelete,
    #[sea_orm(string_value = "service.create")]
    ServiceCreate,
    #[sea_orm(string_value = "service.deploy")]
    ServiceDeploy,
    #[sea_orm(string_value = "service.rollback")]
    ServiceRollback,
    #[sea_orm(string_value = "service.scale")]
    ServiceScale,
    #[sea_orm(string_value = "service.start")]
    ServiceStart,
    #[sea_orm(string_value = "service.stop")]
    ServiceStop,
    #[sea_orm(string_value = "service.delete")]
    ServiceDelete,
    /// Only the runner's own tests queue these (`control::testing`): succeeds.
    #[sea_orm(string_value = "test.ok")]
    TestOk,
    /// Only the runner's own tests queue these: fails, worth retrying.
    #[sea_orm(string_value = "test.transient")]
    TestTransient,
}

/// Which area's code runs an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Vm,
    Service,
    Test,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VmCreate => "vm.create",
            Self::VmStart => "vm.start",
            Self::VmStop => "vm.stop",
            Self::VmRestart => "vm.restart",
            Self::VmPause => "vm.pause",
            Self::VmResume => "vm.resume",
            Self::VmDelete => "vm.delete",
            Self::ServiceCreate => "service.create",
            Self::ServiceDeploy => "service.deploy",
            Self::ServiceRollback => "service.rollback",
            Self::ServiceScale => "service.scale",
            Self::ServiceStart => "service.start",
            Self::ServiceStop => "service.stop",
            Self::ServiceDelete => "service.delete",
            Self::TestOk => "test.ok",
            Self::TestTransient => "test.transient",
        }
    }

    pub fn area(self) -> Area {
        match self {
            Self::VmCreate
            | Self::VmStart
            | Self::VmStop
            | Self::VmRestart
            | Self::VmPause
            | Self::VmResume
            | Self::VmDelete => Area::Vm,
            Self::ServiceCreate
            | Self::ServiceDeploy
            | Self::ServiceRollback
            | Self::ServiceScale
            | Self::ServiceStart
            | Self::ServiceStop
            | Self::ServiceDelete => Area::Service,
            Self::TestOk | Self::TestTransient => Area::Test,
        }
    }
}

/// How much a deployment log line matters (`deployment_logs.level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum LogLevel {
    #[sea_orm(string_value = "info")]
    Info,
    #[sea_orm(string_value = "warn")]
    Warn,
    #[sea_orm(string_value = "error")]
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

display_as_str!(Desired, OperationKind, LogLevel);

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveEnum, Iterable};

    #[test]
    fn the_stored_text_is_the_text_shown() {
        for d in Desired::iter() {
            assert_eq!(d.to_value(), d.as_str());
            assert_eq!(
                Desired::try_from_value(&d.as_str().to_owned()).ok(),
                Some(d)
            );
        }
        for k in OperationKind::iter() {
            assert_eq!(k.to_value(), k.as_str());
            let area = k.as_str().split('.').next().unwrap_or_default();
            let expected = match k.area() {
                Area::Vm => "vm",
                Area::Service => "service",
                Area::Test => "test",
            };
            assert_eq!(area, expected, "{k:?}");
        }
        for l in LogLevel::iter() {
            assert_eq!(l.to_value(), l.as_str());
        }
        assert!(Desired::try_from_value(&"runing".to_owned()).is_err());
    }
}
