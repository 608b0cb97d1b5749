//! What an audit row says was done or refused: one variant per action, so a typo in an
//! action does not compile. Rows store the text (`vm.create`), which the audit page filters on;
//! the column stays text so rows written by any version always read back.

use crate::entities::states::OperationKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    VmCreate,
    VmStart,
    VmStop,
    VmRestart,
    VmPause,
    VmResume,
    VmDelete,
    VmShare,
    VmUnshare,
    VmConsole,
    VmTag,
    ServiceCreate,
    ServiceConfig,
    ServiceDeploy,
    ServiceRollback,
    ServiceScale,
    ServiceStart,
    ServiceStop,
    ServiceDelete,
    OrganizationCreate,
    OrganizationAddMember,
    OrganizationChangeRole,
    OrganizationRemoveMember,
    OrganizationLeave,
    OrganizationSetQuota,
    NetworkCreate,
    NetworkDelete,
    NetworkRuleAdd,
    NetworkRuleRemove,
    NetworkEgress,
    ForwardAdd,
    ForwardRemove,
    NodeCordon,
    NodeUncordon,
    NodeDrain,
    NodeAdd,
    NodeJoin,
    NodeLink,
    NodeRemove,
    OperationCancel,
    ImageRegister,
    UserInvite,
    UserRecoveryLink,
    UserEnable,
    UserDisable,
    SessionSignIn,
    SessionSignOut,
    SessionRevoke,
    SessionRevokeOthers,
    SessionReauthenticate,
    PasskeyAdd,
    PasskeyRename,
    PasskeyRemove,
    TokenCreate,
    TokenRevoke,
    AccountSignUp,
    AccountRecover,
    /// Work of no person's action of its own (the runner's test kinds).
    Operation,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VmCreate => "vm.create",
            Self::VmStart => "vm.start",
            Self::VmStop => "vm.stop",
            Self::VmRestart => "vm.restart",
            Self::VmPause => "vm.pause",
            Self::VmResume => "vm.resume",
            Self::VmDelete => "vm.delete",
            Self::VmShare => "vm.share",
            Self::VmUnshare => "vm.unshare",
            Self::VmConsole => "vm.console",
            Self::VmTag => "vm.tag",
            Self::ServiceCreate => "service.create",
            Self::ServiceConfig => "service.config",
            Self::ServiceDeploy => "service.deploy",
            Self::ServiceRollback => "service.rollback",
            Self::ServiceScale => "service.scale",
            Self::ServiceStart => "service.start",
            Self::ServiceStop => "service.stop",
            Self::ServiceDelete => "service.delete",
            Self::OrganizationCreate => "organization.create",
            Self::OrganizationAddMember => "organization.add_member",
            Self::OrganizationChangeRole => "organization.change_role",
            Self::OrganizationRemoveMember => "organization.remove_member",
            Self::OrganizationLeave => "organization.leave",
            Self::OrganizationSetQuota => "organization.set_quota",
            Self::NetworkCreate => "network.create",
            Self::NetworkDelete => "network.delete",
            Self::NetworkRuleAdd => "network.rule_add",
            Self::NetworkEgress => "network.egress",
            Self::ForwardAdd => "vm.forward_add",
            Self::ForwardRemove => "vm.forward_remove",
            Self::NetworkRuleRemove => "network.rule_remove",
            Self::NodeCordon => "node.cordon",
            Self::NodeUncordon => "node.uncordon",
            Self::NodeDrain => "node.drain",
            Self::NodeAdd => "node.add",
            Self::NodeJoin => "node.join",
            Self::NodeLink => "node.link",
            Self::NodeRemove => "node.remove",
            Self::OperationCancel => "operation.cancel",
            Self::ImageRegister => "image.register",
            Self::UserInvite => "user.invite",
            Self::UserRecoveryLink => "user.recovery_link",
            Self::UserEnable => "user.enable",
            Self::UserDisable => "user.disable",
            Self::SessionSignIn => "session.sign_in",
            Self::SessionSignOut => "session.sign_out",
            Self::SessionRevoke => "session.revoke",
            Self::SessionRevokeOthers => "session.revoke_others",
            Self::SessionReauthenticate => "session.reauthenticate",
            Self::PasskeyAdd => "passkey.add",
            Self::PasskeyRename => "passkey.rename",
            Self::PasskeyRemove => "passkey.remove",
            Self::TokenCreate => "token.create",
            Self::TokenRevoke => "token.revoke",
            Self::AccountSignUp => "account.sign_up",
            Self::AccountRecover => "account.recover",
            Self::Operation => "operation",
        }
    }

    /// The action an operation carries out (the audit row of its failure names it).
    pub fn of_operation(kind: OperationKind) -> Self {
        use OperationKind as K;
        match kind {
            K::VmCreate => Self::VmCreate,
            K::VmStart => Self::VmStart,
            K::VmStop => Self::VmStop,
            K::VmRestart => Self::VmRestart,
            K::VmPause => Self::VmPause,
            K::VmResume => Self::VmResume,
            K::VmDelete => Self::VmDelete,
            K::ServiceCreate => Self::ServiceCreate,
            K::ServiceDeploy => Self::ServiceDeploy,
            K::ServiceRollback => Self::ServiceRollback,
            K::ServiceScale => Self::ServiceScale,
            K::ServiceStart => Self::ServiceStart,
            K::ServiceStop => Self::ServiceStop,
            K::ServiceDelete => Self::ServiceDelete,
            K::TestOk | K::TestTransient => Self::Operation,
        }
    }
}

display_as_str!(Action);

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn an_operation_is_audited_under_its_own_kind() {
        for kind in OperationKind::iter() {
            let action = Action::of_operation(kind);
            match kind.area() {
                crate::entities::states::Area::Test => assert_eq!(action, Action::Operation),
                _ => assert_eq!(action.as_str(), kind.as_str(), "{kind:?}"),
            }
        }
    }
}
