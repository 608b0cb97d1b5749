//! What the engine needs to know about stored tuples, and nothing more.

use std::future::Future;
use std::sync::Arc;

use crate::tuple::{Object, Subject};

/// A failure of the store underneath (the database); the text is for logs only.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Read access to relation tuples, as of one consistent revision.
pub trait TupleStore: Sync {
    /// Every subject of `object#relation`.
    fn subjects(
        &self,
        object: &Object,
        relation: &str,
    ) -> impl Future<Output = Result<Arc<[Subject]>, StoreError>> + Send;

    /// For tuples `kind:?#relation@subject_kind:id[#subject_relation]` with `id` among
    /// `subject_ids`: the pairs `(subject id, object id)`.
    fn objects(
        &self,
        kind: &str,
        relation: &str,
        subject_kind: &str,
        subject_relation: Option<&str>,
        subject_ids: &[String],
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
}

impl<T: TupleStore> TupleStore for &T {
    fn subjects(
        &self,
        object: &Object,
        relation: &str,
    ) -> impl Future<Output = Result<Arc<[Subject]>, StoreError>> + Send {
        (**self).subjects(object, relation)
    }

    fn objects(
        &self,
        kind: &str,
        relation: &str,
        subject_kind: &str,
        subject_relation: Option<&str>,
        subject_ids: &[String],
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send {
        (**self).objects(kind, relation, subject_kind, subject_relation, subject_ids)
    }
}
