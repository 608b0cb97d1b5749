//! The walk itself: a stored relation (direct subjects and usersets) and a permission's
//! expression (names, arrows, `or`, `and`, `not`), each step recorded when tracing.

use crate::explain::Trace;
use crate::schema::Expr;
use crate::store::TupleStore;
use crate::tuple::{Object, Subject};

use super::{BoxFut, Engine, EvalError, Outcome, Path, TRACE_FANOUT};

impl Engine {
    pub(super) async fn relation<S: TupleStore>(
        &self,
        store: &S,
        subject: &Subject,
        object: Object,
        name: String,
        path: Path,
        tracing: bool,
    ) -> Result<Outcome, EvalError> {
        let subjects = store.subjects(&object, &name).await?;
        let label = || format!("{object}#{name} (relation)");
        if let Some(hit) = subjects.iter().find(|s| *s == subject) {
            let tuple = Trace::leaf(format!("{object}#{name}@{hit}"), true);
            return Ok(Outcome::new(true, label, vec![tuple], tracing));
        }
        let mut children = Vec::new();
        let mut shown = 0usize;
        for s in subjects.iter() {
            let Some(rel) = &s.relation else {
                if tracing && shown < TRACE_FANOUT {
                    children.push(Trace::leaf(format!("{object}#{name}@{s}"), false));
                    shown += 1;
                }
                continue;
            };
            let inner = self
                .member(
                    store,
                    subject,
                    s.object(),
                    rel.clone(),
                    path.clone(),
                    tracing,
                )
                .await?;
            if inner.granted {
                let via = Trace {
                    label: format!("{object}#{name}@{s}"),
                    granted: true,
                    children: inner.trace.into_iter().collect(),
                };
                return Ok(Outcome::new(true, label, vec![via], tracing));
            }
            if tracing && shown < TRACE_FANOUT {
                children.push(Trace {
                    label: format!("{object}#{name}@{s}"),
                    granted: false,
                    children: inner.trace.into_iter().collect(),
                });
                shown += 1;
            }
        }
        if tracing {
            if subjects.is_empty() {
                children.push(Trace::leaf("no tuples", false));
            } else if subjects.len() > shown {
                children.push(Trace::leaf(
                    format!("… and {} more", subjects.len() - shown),
                    false,
                ));
            }
        }
        Ok(Outcome::new(false, label, children, tracing))
    }

    pub(super) fn expr<'a, S: TupleStore>(
        &'a self,
        store: &'a S,
        subject: &'a Subject,
        object: &'a Object,
        expr: &'a Expr,
        path: Path,
        tracing: bool,
    ) -> BoxFut<'a, Result<Outcome, EvalError>> {
        Box::pin(async move {
            match expr {
                Expr::Name(n) => {
                    self.member(store, subject, object.clone(), n.clone(), path, tracing)
                        .await
                }
                Expr::Arrow { via, target } => {
                    self.arrow(store, subject, object, (via, target), path, tracing)
                        .await
                }
                Expr::Or(..) | Expr::And(..) => {
                    self.both(store, subject, object, expr, path, tracing).await
                }
                Expr::Not(a, b) => {
                    let left = self
                        .expr(store, subject, object, a, path.clone(), tracing)
                        .await?;
                    if !left.granted {
                        return Ok(Outcome::new(
                            false,
                            || expr.to_string(),
                            left.trace.into_iter().collect(),
                            tracing,
                        ));
                    }
                    let right = self
                        .expr(store, subject, object, b, path.negate(), tracing)
                        .await?;
                    let excluded = right.trace.map(|mut t| {
                        t.label = format!("excluded by: {}", t.label);
                        t
                    });
                    let children = left.trace.into_iter().chain(excluded).collect();
                    Ok(Outcome::new(
                        !right.granted,
                        || expr.to_string(),
                        children,
                        tracing,
                    ))
                }
            }
        })
    }

    /// `via.target`: the permission on any object the `via` relation points to.
    async fn arrow<S: TupleStore>(
        &self,
        store: &S,
        subject: &Subject,
        object: &Object,
        (via, target): (&String, &String),
        path: Path,
        tracing: bool,
    ) -> Result<Outcome, EvalError> {
        let subjects = store.subjects(object, via).await?;
        let mut children = Vec::new();
        let mut granted = false;
        for s in subjects.iter().filter(|s| s.relation.is_none()) {
            let reachable = self
                .schema
                .entity(&s.kind)
                .is_some_and(|e| e.member(target).is_some());
            if !reachable {
                continue;
            }
            let inner = self
                .member(
                    store,
                    subject,
                    s.object(),
                    target.clone(),
                    path.clone(),
                    tracing,
                )
                .await?;
            if tracing && (inner.granted || children.len() < TRACE_FANOUT) {
                children.push(Trace {
                    label: format!("{object}#{via} → {s}"),
                    granted: inner.granted,
                    children: inner.trace.into_iter().collect(),
                });
            }
            if inner.granted {
                granted = true;
                break;
            }
        }
        if tracing && subjects.is_empty() {
            children.push(Trace::leaf(format!("{object} has no `{via}`"), false));
        }
        Ok(Outcome::new(
            granted,
            || format!("{via}.{target}"),
            children,
            tracing,
        ))
    }

    /// `a or b` and `a and b`: `b` is looked at only when `a` did not settle the answer
    /// (granted for `or`, refused for `and`).
    async fn both<S: TupleStore>(
        &self,
        store: &S,
        subject: &Subject,
        object: &Object,
        expr: &Expr,
        path: Path,
        tracing: bool,
    ) -> Result<Outcome, EvalError> {
        let (a, b, settles_on) = match expr {
            Expr::Or(a, b) => (a, b, true),
            Expr::And(a, b) => (a, b, false),
            other => {
                return self
                    .expr(store, subject, object, other, path, tracing)
                    .await
            }
        };
        let left = self
            .expr(store, subject, object, a, path.clone(), tracing)
            .await?;
        if left.granted == settles_on {
            return Ok(Outcome::new(
                settles_on,
                || expr.to_string(),
                left.trace.into_iter().collect(),
                tracing,
            ));
        }
        let right = self.expr(store, subject, object, b, path, tracing).await?;
        let children = left.trace.into_iter().chain(right.trace).collect();
        Ok(Outcome::new(
            right.granted,
            || expr.to_string(),
            children,
            tracing,
        ))
    }
}
