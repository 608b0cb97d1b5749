//! `check` and `explain`: does a subject hold a permission or relation on an object, and why.
//!
//! Evaluation walks the schema's expression for the permission, reading tuples from the store.
//! A walk that comes back to an `(object, relation)` already on its own path contributes
//! nothing (a minimal proof never repeats itself, so this loses no grant), and a walk deeper
//! than the engine's limit is an error, never a grant.

use std::future::Future;
use std::pin::Pin;

use crate::explain::Trace;
use crate::schema::{Expr, Member, Schema};
use crate::store::{StoreError, TupleStore};
use crate::tuple::{Object, Subject};

/// How many nested steps one evaluation may take.
pub const DEFAULT_MAX_DEPTH: usize = 32;

/// Most tuples listed under one relation in an explanation.
const TRACE_FANOUT: usize = 12;

/// Why a question could not be answered. Callers deny access on any of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("unknown entity type `{0}`")]
    UnknownEntity(String),
    #[error("entity `{kind}` has no relation or permission `{name}`")]
    UnknownMember { kind: String, name: String },
    #[error("evaluation went deeper than {0} steps")]
    DepthExceeded(usize),
    #[error("{0} depends on itself under `not`, which has no consistent answer")]
    CycleUnderNegation(String),
    #[error("tuple store: {0}")]
    Store(#[from] StoreError),
}

pub(crate) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The engine: a compiled schema and its limits. Cheap to share behind an `Arc`.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) schema: Schema,
    pub(crate) max_depth: usize,
}

pub(crate) struct Outcome {
    pub granted: bool,
    pub trace: Option<Trace>,
}

impl Outcome {
    fn new(
        granted: bool,
        label: impl FnOnce() -> String,
        children: Vec<Trace>,
        tracing: bool,
    ) -> Self {
        Self {
            granted,
            trace: tracing.then(|| Trace {
                label: label(),
                granted,
                children,
            }),
        }
    }
}

/// The `(object, relation)` steps of the current walk, and whether it is under the right side
/// of a `not` (where cutting a cycle short would turn "unknown" into a grant).
#[derive(Clone, Debug, Default)]
pub(crate) struct Path {
    pub steps: Vec<(Object, String)>,
    pub negated: bool,
}

impl Path {
    pub(crate) fn negate(mut self) -> Self {
        self.negated = true;
        self
    }
}

impl Engine {
    pub fn new(schema: Schema) -> Self {
        Self {
            schema,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Whether `subject` holds `permission` (a permission or a relation) on `object`.
    pub async fn check<S: TupleStore>(
        &self,
        store: &S,
        subject: &Subject,
        permission: &str,
        object: &Object,
    ) -> Result<bool, EvalError> {
        let out = self
            .member(
                store,
                subject,
                object.clone(),
                permission.to_owned(),
                Path::default(),
                false,
            )
            .await?;
        Ok(out.granted)
    }

    /// The same evaluation as [`Engine::check`], recording every step it took.
    pub async fn explain<S: TupleStore>(
        &self,
        store: &S,
        subject: &Subject,
        permission: &str,
        object: &Object,
    ) -> Result<Trace, EvalError> {
        let out = self
            .member(
                store,
                subject,
                object.clone(),
                permission.to_owned(),
                Path::default(),
                true,
            )
            .await?;
        Ok(out
            .trace
            .unwrap_or_else(|| Trace::leaf(format!("{object}#{permission}"), out.granted)))
    }

    pub(crate) fn validate(&self, kind: &str, name: &str) -> Result<Member, EvalError> {
        let entity = self
            .schema
            .entity(kind)
            .ok_or_else(|| EvalError::UnknownEntity(kind.to_owned()))?;
        entity.member(name).ok_or_else(|| EvalError::UnknownMember {
            kind: kind.to_owned(),
            name: name.to_owned(),
        })
    }

    pub(crate) fn member<'a, S: TupleStore>(
        &'a self,
        store: &'a S,
        subject: &'a Subject,
        object: Object,
        name: String,
        path: Path,
        tracing: bool,
    ) -> BoxFut<'a, Result<Outcome, EvalError>> {
        Box::pin(async move {
            let member = self.validate(&object.kind, &name)?;
            if subject.relation.as_deref() == Some(name.as_str())
                && subject.kind == object.kind
                && subject.id == object.id
            {
                return Ok(Outcome::new(
                    true,
                    || format!("{object}#{name} is the subject itself"),
                    vec![],
                    tracing,
                ));
            }
            if path.steps.iter().any(|(o, n)| o == &object && n == &name) {
                if path.negated {
                    return Err(EvalError::CycleUnderNegation(format!("{object}#{name}")));
                }
                return Ok(Outcome::new(
                    false,
                    || format!("{object}#{name} is already being evaluated (a cycle adds nothing)"),
                    vec![],
                    tracing,
                ));
            }
            if path.steps.len() >= self.max_depth {
                return Err(EvalError::DepthExceeded(self.max_depth));
            }
            let mut path = path;
            path.steps.push((object.clone(), name.clone()));
            match member {
                Member::Relation(_) => {
                    self.relation(store, subject, object, name, path, tracing)
                        .await
                }
                Member::Permission(i) => {
                    let entity = self
                        .schema
                        .entity(&object.kind)
                        .ok_or_else(|| EvalError::UnknownEntity(object.kind.clone()))?;
                    let expr = &entity.permissions[i].expr;
                    let inner = self
                        .expr(store, subject, &object, expr, path, tracing)
                        .await?;
                    let children = inner.trace.into_iter().collect();
                    Ok(Outcome::new(
                        inner.granted,
                        || format!("{object}#{name} = {expr}"),
                        children,
                        tracing,
                    ))
                }
            }
        })
    }

    async fn relation<S: TupleStore>(
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

    fn expr<'a, S: TupleStore>(
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
