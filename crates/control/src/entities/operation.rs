//! A durable operation: long work with a lease, progress steps, attempts and an outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `vm.create`, `vm.start`, …
    pub kind: super::states::OperationKind,
    pub target_type: String,
    pub target_id: String,
    pub organization_id: Option<Uuid>,
    pub requested_by: Option<Uuid>,
    /// The target's generation this operation was requested at.
    pub generation: i64,
    /// queued, running, succeeded, failed or cancelled.
    pub state: String,
    /// JSON array of `{"at": …, "step": …}`, oldest first.
    pub steps: String,
    pub attempt: i32,
    pub max_attempts: i32,
    pub error: Option<String>,
    /// A queued operation waits until then (backoff between attempts).
    pub not_before: DateTimeUtc,
    /// The runner instance holding it while it runs, and until when.
    pub lease_owner: Option<String>,
    pub lease_expires: Option<DateTimeUtc>,
    pub cancel_requested: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
