//! `check` and `explain`: does a subject hold a permission or relation on an object, and why.
//!
//! Evaluation walks the schema's expression for the permission, reading tuples from the store.
//! A walk that comes back to an `(object, relation)` already on its own path contributes
//! nothing (a minimal proof never repeats itself, so this loses no grant), and a walk deeper
//! than the engine's limit is an error, never a grant.

mod walk;

use std::future::Future;
use std::pin::Pin;

use crate::explain::Trace;
use crate::schema::{Member, Schema};
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
}
