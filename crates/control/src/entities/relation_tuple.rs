//! One relation tuple `entity_type:entity_id#relation@subject_type:subject_id[#subject_relation]`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "relation_tuples")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entity_type: String,
    pub entity_id: String,
    pub relation: String,
    pub subject_type: String,
    pub subject_id: String,
    /// Empty for a plain subject.
    pub subject_relation: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
