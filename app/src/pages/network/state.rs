//! What the network page keeps across refetches: the rule changes it can ask for, and the
//! reachability question asked last.

use leptos::prelude::*;
use model::networks::{NewRule, ReachQuery, RuleView};
use model::AppError;

use crate::api::networks::{add_rule, remove_rule};

type Done<T> = Result<T, AppError>;

/// Every change the page can ask for; each takes the network id first.
#[derive(Clone, Copy)]
pub struct Actions {
    /// (network, rule)
    pub add: Action<(String, NewRule), Done<RuleView>>,
    /// (network, rule id)
    pub remove: Action<(String, String), Done<()>>,
    /// The last question of the explain form, with how many were asked: asking the same
    /// again asks the server again.
    pub asked: RwSignal<Option<(u32, ReachQuery)>>,
}

impl Actions {
    pub fn new() -> Self {
        Self {
            add: Action::new(|(net, rule): &(String, NewRule)| add_rule(net.clone(), rule.clone())),
            remove: Action::new(|(net, rule): &(String, String)| {
                remove_rule(net.clone(), rule.clone())
            }),
            asked: RwSignal::new(None),
        }
    }

    /// Whether the page that made these is gone (a server render can outlive its client, and
    /// reading a disposed action panics); they were made together, so one of them tells.
    fn gone(self) -> bool {
        self.asked.is_disposed()
    }

    /// Asks whether `query`'s VMs reach each other (again, if it was asked before).
    pub fn ask(self, query: ReachQuery) {
        self.asked
            .update(|a| *a = Some((a.as_ref().map_or(0, |(n, _)| n + 1), query)));
    }

    /// Goes up whenever a rule was added or removed (the rules and the explanation refetch).
    pub fn version(self) -> usize {
        if self.gone() {
            return 0;
        }
        self.add.version().get() + self.remove.version().get()
    }

    /// The last failure of a rule change, for the page's banner.
    pub fn error(self) -> Option<AppError> {
        if self.gone() {
            return None;
        }
        self.add
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| self.remove.value().get().and_then(Result::err))
    }
}
