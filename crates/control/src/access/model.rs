//! The typed names the code uses for resources and permissions, checked against the schema.
//!
//! Call sites never spell a permission as a string: they pick a [`Permission`] and a
//! [`Resource`], and start-up fails if the schema lacks any pair listed in [`USED`].

use authz::{Object, Subject};
use sea_orm::prelude::Uuid;

/// Kinds and permissions cross process boundaries (the Redis event bus) as their schema names.
macro_rules! serde_as_name {
    ($t:ty, $what:literal) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse(&name)
                    .ok_or_else(|| serde::de::Error::custom(format!("no {} named {name}", $what)))
            }
        }
    };
}

serde_as_name!(Kind, "kind");
serde_as_name!(Permission, "permission");

/// The one platform object.
pub const PLATFORM_ID: &str = "strata";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Platform,
    Organization,
    Node,
    Image,
    Vm,
    Service,
    Network,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Platform => "platform",
            Kind::Organization => "organization",
            Kind::Node => "node",
            Kind::Image => "image",
            Kind::Vm => "vm",
            Kind::Service => "service",
            Kind::Network => "network",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "platform" => Kind::Platform,
            "organization" => Kind::Organization,
            "node" => Kind::Node,
            "image" => Kind::Image,
            "vm" => Kind::Vm,
            "service" => Kind::Service,
            "network" => Kind::Network,
            _ => return None,
        })
    }

    /// A noun for messages ("No such virtual machine.").
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Platform => "installation",
            Kind::Organization => "organization",
            Kind::Node => "node",
            Kind::Image => "image",
            Kind::Vm => "virtual machine",
            Kind::Service => "service",
            Kind::Network => "network",
        }
    }

    /// Every permission of this kind, in the order the Access panel shows them.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Kind::Platform => &[
                ManageUsers,
                ManageNodes,
                ManageQuotas,
                ManageImages,
                CreateOrganization,
                ViewAudit,
                InspectAccess,
            ],
            Kind::Organization => &[
                View,
                Contribute,
                Manage,
                CreateVm,
                CreateService,
                CreateNetwork,
                Leave,
                ViewAudit,
            ],
            Kind::Node => &[Read, Manage],
            Kind::Image => &[Read, Manage],
            Kind::Vm => &[Read, Start, Stop, Restart, Console, Update, Delete, Share],
            Kind::Service => &[Read, Start, Stop, Restart, Deploy, Update, Delete, Share],
            Kind::Network => &[Read, Attach, Update, Delete],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    // platform
    ManageUsers,
    ManageNodes,
    ManageQuotas,
    ManageImages,
    CreateOrganization,
    ViewAudit,
    InspectAccess,
    // organization
    View,
    Contribute,
    Manage,
    CreateVm,
    CreateService,
    CreateNetwork,
    Leave,
    // resources
    Read,
    Update,
    Delete,
    Start,
    Stop,
    Restart,
    Console,
    Deploy,
    Share,
    Attach,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        use Permission::*;
        match self {
            ManageUsers => "manage_users",
            ManageNodes => "manage_nodes",
            ManageQuotas => "manage_quotas",
            ManageImages => "manage_images",
            CreateOrganization => "create_organization",
            ViewAudit => "view_audit",
            InspectAccess => "inspect_access",
            View => "view",
            Contribute => "contribute",
            Manage => "manage",
            CreateVm => "create_vm",
            CreateService => "create_service",
            CreateNetwork => "create_network",
            Leave => "leave",
            Read => "read",
            Update => "update",
            Delete => "delete",
            Start => "start",
            Stop => "stop",
            Restart => "restart",
            Console => "console",
            Deploy => "deploy",
            Share => "share",
            Attach => "attach",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL.iter().copied().find(|p| p.as_str() == s)
    }
}

const ALL: &[Permission] = {
    use Permission::*;
    &[
        ManageUsers,
        ManageNodes,
        ManageQuotas,
        ManageImages,
        CreateOrganization,
        ViewAudit,
        InspectAccess,
        View,
        Contribute,
        Manage,
        CreateVm,
        CreateService,
        CreateNetwork,
        Leave,
        Read,
        Update,
        Delete,
        Start,
        Stop,
        Restart,
        Console,
        Deploy,
        Share,
        Attach,
    ]
};

/// Every kind the code asks about.
pub const KINDS: &[Kind] = &[
    Kind::Platform,
    Kind::Organization,
    Kind::Node,
    Kind::Image,
    Kind::Vm,
    Kind::Service,
    Kind::Network,
];

/// One object the code asks about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Resource {
    pub kind: Kind,
    pub id: String,
}

impl Resource {
    pub fn platform() -> Self {
        Self {
            kind: Kind::Platform,
            id: PLATFORM_ID.to_owned(),
        }
    }

    pub fn new(kind: Kind, id: Uuid) -> Self {
        Self {
            kind,
            id: id.to_string(),
        }
    }

    pub fn organization(id: Uuid) -> Self {
        Self::new(Kind::Organization, id)
    }

    pub fn vm(id: Uuid) -> Self {
        Self::new(Kind::Vm, id)
    }

    pub fn object(&self) -> Object {
        Object::new(self.kind.as_str(), self.id.clone())
    }
}

/// A user as a subject of tuples and checks.
pub fn user(id: Uuid) -> Subject {
    Subject::new("user", id.to_string())
}

/// The relations the code writes, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    Admin,
    Member,
    Owner,
    Platform,
    Public,
    Organization,
    Viewer,
    Operator,
    Service,
}

impl Rel {
    pub fn as_str(self) -> &'static str {
        match self {
            Rel::Admin => "admin",
            Rel::Member => "member",
            Rel::Owner => "owner",
            Rel::Platform => "platform",
            Rel::Public => "public",
            Rel::Organization => "organization",
            Rel::Viewer => "viewer",
            Rel::Operator => "operator",
            Rel::Service => "service",
        }
    }
}

/// Relations the code writes, by kind; checked at start like permissions.
pub const WRITTEN: &[(Kind, Rel)] = &[
    (Kind::Platform, Rel::Admin),
    (Kind::Platform, Rel::Member),
    (Kind::Organization, Rel::Platform),
    (Kind::Organization, Rel::Owner),
    (Kind::Organization, Rel::Member),
    (Kind::Node, Rel::Platform),
    (Kind::Image, Rel::Platform),
    (Kind::Image, Rel::Public),
    (Kind::Image, Rel::Organization),
    (Kind::Vm, Rel::Organization),
    (Kind::Vm, Rel::Owner),
    (Kind::Vm, Rel::Viewer),
    (Kind::Vm, Rel::Operator),
    (Kind::Vm, Rel::Service),
    (Kind::Service, Rel::Organization),
    (Kind::Service, Rel::Owner),
    (Kind::Service, Rel::Viewer),
    (Kind::Service, Rel::Operator),
    (Kind::Network, Rel::Organization),
];
