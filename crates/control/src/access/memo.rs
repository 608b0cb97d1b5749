//! Lookup results kept for one tuple revision: "which VMs may bob read" is asked by the
//! dashboard, the VM list and the live events again and again, and with 1,000 VMs each answer
//! costs about a thousand checks (docs/performance.md).
//!
//! The same rule as the tuple cache (`authz::TupleCache`): a result is stored only under the
//! revision its reader saw *before* it evaluated, so it is never older than that revision, and
//! a reader takes only results of the revision it saw itself, so no answer predates the last
//! grant or revoke committed before the request began. A newer revision empties the memo; a
//! reader with an older one neither reads nor stores. The memo holds at most `max_ids` ids in
//! all and starts over when a result would not fit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sea_orm::prelude::Uuid;

use super::model::{Kind, Permission};

/// Who asked what: a user, a permission and a kind of resource.
pub(crate) type Question = (Uuid, Permission, Kind);

#[derive(Debug, Default)]
struct Inner {
    revision: i64,
    held: usize,
    answers: HashMap<Question, Arc<[String]>>,
}

#[derive(Debug)]
pub(crate) struct LookupMemo {
    inner: Mutex<Inner>,
    max_ids: usize,
}

impl LookupMemo {
    pub(crate) fn new(max_ids: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_ids,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written answer behind (an insert
        // is one call), but start over anyway.
        self.inner.lock().unwrap_or_else(|p| {
            let mut g = p.into_inner();
            *g = Inner::default();
            g
        })
    }

    /// The answer stored for `question` at exactly `revision`.
    pub(crate) fn get(&self, revision: i64, question: &Question) -> Option<Arc<[String]>> {
        let inner = self.lock();
        if inner.revision != revision {
            return None;
        }
        inner.answers.get(question).cloned()
    }

    /// Keeps `ids` as the answer at `revision`, unless a newer revision is already held.
    pub(crate) fn put(&self, revision: i64, question: Question, ids: Arc<[String]>) {
        if ids.len() > self.max_ids {
            return;
        }
        let mut inner = self.lock();
        if revision < inner.revision {
            return;
        }
        if revision > inner.revision || inner.held + ids.len() > self.max_ids {
            inner.answers.clear();
            inner.held = 0;
            inner.revision = revision;
        }
        inner.held += ids.len();
        if let Some(old) = inner.answers.insert(question, ids) {
            inner.held -= old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Arc<[String]> {
        (0..n).map(|i| i.to_string()).collect()
    }

    fn q(n: u128) -> Question {
        (Uuid::from_u128(n), Permission::Read, Kind::Vm)
    }

    #[test]
    fn answers_only_at_the_revision_it_was_stored_under() {
        let memo = LookupMemo::new(100);
        memo.put(5, q(1), ids(3));
        assert_eq!(memo.get(5, &q(1)).map(|a| a.len()), Some(3));
        assert!(memo.get(4, &q(1)).is_none(), "an older reader bypasses it");
        assert!(memo.get(6, &q(1)).is_none(), "a newer reader never sees it");
        assert!(memo.get(5, &q(2)).is_none());
    }

    #[test]
    fn a_newer_revision_empties_it_and_an_older_one_stores_nothing() {
        let memo = LookupMemo::new(100);
        memo.put(5, q(1), ids(3));
        memo.put(6, q(2), ids(2));
        assert!(memo.get(6, &q(1)).is_none(), "revision 5's answer is gone");
        memo.put(5, q(3), ids(1));
        assert!(memo.get(5, &q(3)).is_none());
        assert!(memo.get(6, &q(3)).is_none());
        assert_eq!(memo.get(6, &q(2)).map(|a| a.len()), Some(2));
    }

    #[test]
    fn it_holds_at_most_its_bound_of_ids() {
        let memo = LookupMemo::new(10);
        memo.put(1, q(1), ids(6));
        memo.put(1, q(2), ids(6));
        assert!(memo.get(1, &q(1)).is_none(), "started over to make room");
        assert!(memo.get(1, &q(2)).is_some());
        memo.put(1, q(3), ids(11));
        assert!(memo.get(1, &q(3)).is_none(), "too big to keep at all");
        memo.put(1, q(2), ids(4));
        memo.put(1, q(4), ids(6));
        assert!(
            memo.get(1, &q(2)).is_some(),
            "a replaced answer frees its room"
        );
    }
}
