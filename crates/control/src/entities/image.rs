//! An image in the catalog: kernel + initrd, or a bootable disk, stored on the node.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "images")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub os: String,
    /// `kernel` (kernel + initrd) or `disk` (a bootable disk image).
    pub format: String,
    pub kernel_path: Option<String>,
    pub initrd_path: Option<String>,
    pub disk_path: Option<String>,
    /// Extra kernel command line for `kernel` images.
    pub cmdline: String,
    /// Text the guest prints on its console once booted, when it has one.
    pub boot_marker: Option<String>,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
