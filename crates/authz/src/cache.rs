//! A tuple cache keyed by the store's revision.
//!
//! The revision is a number the writer bumps in the same transaction as any tuple change, and
//! the reader fetches at the start of each request. Entries are only ever stored under the
//! revision their reader saw before reading the tuples, so an entry is never older than its
//! revision; and a reader only uses entries of the revision it saw, so it never sees a decision
//! from before the last write committed before the request began. A newer revision clears the
//! cache; a reader holding an older revision bypasses it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::{StoreError, TupleStore};
use crate::tuple::{Object, Subject};

type SubjectsKey = (String, String, String);
type ObjectsKey = (String, String, String, Option<String>, String);

#[derive(Debug, Default)]
struct Inner {
    revision: i64,
    subjects: HashMap<SubjectsKey, Arc<[Subject]>>,
    objects: HashMap<ObjectsKey, Arc<[String]>>,
}

/// Shared by every request of one server process.
#[derive(Debug)]
pub struct TupleCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl TupleCache {
    /// A cache that holds at most `capacity` entries and starts over when full.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity,
        }
    }

    /// A view of `store` at `revision`, going through this cache.
    pub fn at<'a, S: TupleStore>(&'a self, revision: i64, store: &'a S) -> Cached<'a, S> {
        Cached {
            cache: self,
            revision,
            store,
        }
    }

    /// How many entries are held (for metrics and tests).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .map(|i| i.subjects.len() + i.objects.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Inner>> {
        // A poisoned lock only means another request panicked mid-insert; the maps are still
        // valid, but start over to be safe.
        match self.inner.lock() {
            Ok(g) => Some(g),
            Err(p) => {
                let mut g = p.into_inner();
                *g = Inner::default();
                Some(g)
            }
        }
    }

    /// Makes room and moves to `revision`; false when the caller's revision is older than the
    /// cache's (then the caller must not store or read entries).
    fn prepare(inner: &mut Inner, revision: i64, capacity: usize) -> bool {
        if revision > inner.revision {
            inner.subjects.clear();
            inner.objects.clear();
            inner.revision = revision;
        }
        if inner.subjects.len() + inner.objects.len() >= capacity {
            inner.subjects.clear();
            inner.objects.clear();
        }
        revision == inner.revision
    }
}

/// A store seen through the cache at one revision.
pub struct Cached<'a, S> {
    cache: &'a TupleCache,
    revision: i64,
    store: &'a S,
}

impl<S: TupleStore> TupleStore for Cached<'_, S> {
    async fn subjects(
        &self,
        object: &Object,
        relation: &str,
    ) -> Result<Arc<[Subject]>, StoreError> {
        let key = (object.kind.clone(), object.id.clone(), relation.to_owned());
        if let Some(inner) = self.cache.lock() {
            if inner.revision == self.revision {
                if let Some(hit) = inner.subjects.get(&key) {
                    return Ok(hit.clone());
                }
            }
        }
        let fresh = self.store.subjects(object, relation).await?;
        if let Some(mut inner) = self.cache.lock() {
            if TupleCache::prepare(&mut inner, self.revision, self.cache.capacity) {
                inner.subjects.insert(key, fresh.clone());
            }
        }
        Ok(fresh)
    }

    async fn objects(
        &self,
        kind: &str,
        relation: &str,
        subject_kind: &str,
        subject_relation: Option<&str>,
        subject_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let key = |sid: &String| {
            (
                kind.to_owned(),
                relation.to_owned(),
                subject_kind.to_owned(),
                subject_relation.map(str::to_owned),
                sid.clone(),
            )
        };
        let mut out = Vec::new();
        let mut missing = Vec::new();
        if let Some(inner) = self.cache.lock() {
            let usable = inner.revision == self.revision;
            for sid in subject_ids {
                match usable.then(|| inner.objects.get(&key(sid))).flatten() {
                    Some(ids) => out.extend(ids.iter().map(|id| (sid.clone(), id.clone()))),
                    None => missing.push(sid.clone()),
                }
            }
        } else {
            missing = subject_ids.to_vec();
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let fresh = self
            .store
            .objects(kind, relation, subject_kind, subject_relation, &missing)
            .await?;
        let mut grouped: HashMap<&String, Vec<String>> =
            missing.iter().map(|sid| (sid, Vec::new())).collect();
        for (sid, id) in &fresh {
            if let Some(v) = grouped.get_mut(sid) {
                v.push(id.clone());
            }
        }
        if let Some(mut inner) = self.cache.lock() {
            if TupleCache::prepare(&mut inner, self.revision, self.cache.capacity) {
                for (sid, ids) in grouped {
                    inner.objects.insert(key(sid), Arc::from(ids));
                }
            }
        }
        out.extend(fresh);
        Ok(out)
    }
}
