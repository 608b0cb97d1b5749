//! Tuples held in memory: for tests, benchmarks and `strata authz validate`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::store::{StoreError, TupleStore};
use crate::tuple::{Object, Subject, Tuple};

type ForwardKey = (String, String, String);
type ReverseKey = (String, String, String, Option<String>, String);

/// An indexed set of tuples.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    tuples: BTreeSet<Tuple>,
    forward: HashMap<ForwardKey, Vec<Subject>>,
    reverse: HashMap<ReverseKey, Vec<String>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_tuples(tuples: impl IntoIterator<Item = Tuple>) -> Self {
        let mut s = Self::new();
        for t in tuples {
            s.insert(t);
        }
        s
    }

    /// Adds a tuple; returns false when it was already there.
    pub fn insert(&mut self, t: Tuple) -> bool {
        if !self.tuples.insert(t.clone()) {
            return false;
        }
        self.forward
            .entry((
                t.object.kind.clone(),
                t.object.id.clone(),
                t.relation.clone(),
            ))
            .or_default()
            .push(t.subject.clone());
        self.reverse
            .entry((
                t.object.kind.clone(),
                t.relation.clone(),
                t.subject.kind.clone(),
                t.subject.relation.clone(),
                t.subject.id.clone(),
            ))
            .or_default()
            .push(t.object.id);
        true
    }

    /// Removes a tuple; returns false when it was not there.
    pub fn remove(&mut self, t: &Tuple) -> bool {
        if !self.tuples.remove(t) {
            return false;
        }
        let fk = (
            t.object.kind.clone(),
            t.object.id.clone(),
            t.relation.clone(),
        );
        if let Some(v) = self.forward.get_mut(&fk) {
            v.retain(|s| s != &t.subject);
        }
        let rk = (
            t.object.kind.clone(),
            t.relation.clone(),
            t.subject.kind.clone(),
            t.subject.relation.clone(),
            t.subject.id.clone(),
        );
        if let Some(v) = self.reverse.get_mut(&rk) {
            v.retain(|id| id != &t.object.id);
        }
        true
    }

    pub fn tuples(&self) -> impl Iterator<Item = &Tuple> {
        self.tuples.iter()
    }

    pub fn len(&self) -> usize {
        self.tuples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tuples.is_empty()
    }
}

impl TupleStore for MemoryStore {
    async fn subjects(
        &self,
        object: &Object,
        relation: &str,
    ) -> Result<Arc<[Subject]>, StoreError> {
        let key = (object.kind.clone(), object.id.clone(), relation.to_owned());
        Ok(self
            .forward
            .get(&key)
            .map(|v| Arc::from(v.as_slice()))
            .unwrap_or_else(|| Arc::from(Vec::new())))
    }

    async fn objects(
        &self,
        kind: &str,
        relation: &str,
        subject_kind: &str,
        subject_relation: Option<&str>,
        subject_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for sid in subject_ids {
            let key = (
                kind.to_owned(),
                relation.to_owned(),
                subject_kind.to_owned(),
                subject_relation.map(str::to_owned),
                sid.clone(),
            );
            if let Some(ids) = self.reverse.get(&key) {
                out.extend(ids.iter().map(|id| (sid.clone(), id.clone())));
            }
        }
        Ok(out)
    }
}
