//! `lookup_resources` (what can this subject reach) and `lookup_subjects` (who can reach this).
//!
//! Resources are found by walking the schema backwards from the subject: tuples that name it,
//! then whatever those grant, batch by batch, each `(type, relation, id)` visited once, so
//! recursive relations and cycles end. Steps under `and` or `not` only propose candidates,
//! which a full `check` confirms. Subjects are found by expanding the permission's expression
//! into sets of ids (`or` unites, `and` intersects, `not` subtracts).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::engine::{BoxFut, Engine, EvalError, Path};
use crate::schema::{Expr, Member, Step};
use crate::store::TupleStore;
use crate::tuple::{Object, Subject};

type Node = (String, String);

impl Engine {
    /// Ids of every `kind` object on which `subject` holds `permission`.
    pub async fn lookup_resources<S: TupleStore>(
        &self,
        store: &S,
        subject: &Subject,
        permission: &str,
        kind: &str,
    ) -> Result<BTreeSet<String>, EvalError> {
        self.validate(kind, permission)?;
        let target: Node = (kind.to_owned(), permission.to_owned());
        let relevant = self.relevant_to(&target);
        let mut queue = self.starts(store, subject, &relevant).await?;
        let mut reached: HashMap<Node, HashSet<String>> = HashMap::new();
        let mut proposed: HashSet<(Node, String)> = HashSet::new();
        while let Some((node, ids)) = queue.pop_front() {
            let seen = reached.entry(node.clone()).or_default();
            let fresh: Vec<String> = ids
                .into_iter()
                .filter(|id| seen.insert(id.clone()))
                .collect();
            if fresh.is_empty() {
                continue;
            }
            for edge in self
                .schema
                .reverse
                .iter()
                .filter(|e| e.from == node && relevant.contains(&e.to))
            {
                let next: Vec<String> = match &edge.step {
                    Step::Computed => fresh.clone(),
                    Step::Userset { relation } => store
                        .objects(&edge.to.0, relation, &node.0, Some(&node.1), &fresh)
                        .await?
                        .into_iter()
                        .map(|(_, id)| id)
                        .collect(),
                    Step::Arrow { via } => store
                        .objects(&edge.to.0, via, &node.0, None, &fresh)
                        .await?
                        .into_iter()
                        .map(|(_, id)| id)
                        .collect(),
                };
                if edge.exact {
                    queue.push_back((edge.to.clone(), next));
                    continue;
                }
                let mut confirmed = Vec::new();
                for id in next {
                    if !proposed.insert((edge.to.clone(), id.clone())) {
                        continue;
                    }
                    let object = Object::new(edge.to.0.clone(), id.clone());
                    if self.check(store, subject, &edge.to.1, &object).await? {
                        confirmed.push(id);
                    }
                }
                queue.push_back((edge.to.clone(), confirmed));
            }
        }
        Ok(reached
            .remove(&target)
            .unwrap_or_default()
            .into_iter()
            .collect())
    }

    /// Where the walk starts: the subject's userset itself, or every relation (that can lead
    /// to the permission) holding the subject directly, with the objects it holds it on.
    async fn starts<S: TupleStore>(
        &self,
        store: &S,
        subject: &Subject,
        relevant: &HashSet<Node>,
    ) -> Result<VecDeque<(Node, Vec<String>)>, EvalError> {
        let mut queue: VecDeque<(Node, Vec<String>)> = VecDeque::new();
        match &subject.relation {
            Some(rel) => queue.push_back((
                (subject.kind.clone(), rel.clone()),
                vec![subject.id.clone()],
            )),
            None => {
                for e in self.schema.entities() {
                    for r in &e.relations {
                        let node = (e.name.clone(), r.name.clone());
                        let accepts = r
                            .subjects
                            .iter()
                            .any(|s| s.kind == subject.kind && s.relation.is_none());
                        if accepts && relevant.contains(&node) {
                            let ids = store
                                .objects(
                                    &e.name,
                                    &r.name,
                                    &subject.kind,
                                    None,
                                    std::slice::from_ref(&subject.id),
                                )
                                .await?
                                .into_iter()
                                .map(|(_, id)| id)
                                .collect();
                            queue.push_back((node, ids));
                        }
                    }
                }
            }
        }
        Ok(queue)
    }

    /// Every node from which the walk can reach `target`.
    fn relevant_to(&self, target: &Node) -> HashSet<Node> {
        let mut relevant = HashSet::from([target.clone()]);
        let mut grew = true;
        while grew {
            grew = false;
            for e in &self.schema.reverse {
                if relevant.contains(&e.to) && relevant.insert(e.from.clone()) {
                    grew = true;
                }
            }
        }
        relevant
    }

    /// Ids of every subject of type `subject_kind` (or usersets `subject_kind#relation` when
    /// `subject_relation` is given) that holds `permission` on `object`. A `subject_relation`
    /// of `...` means the subjects themselves, the same as none.
    pub async fn lookup_subjects<S: TupleStore>(
        &self,
        store: &S,
        object: &Object,
        permission: &str,
        subject_kind: &str,
        subject_relation: Option<&str>,
    ) -> Result<BTreeSet<String>, EvalError> {
        let subject_relation = crate::tuple::subject_relation(subject_relation);
        self.validate(&object.kind, permission)?;
        if self.schema.entity(subject_kind).is_none() {
            return Err(EvalError::UnknownEntity(subject_kind.to_owned()));
        }
        if let Some(r) = subject_relation {
            self.validate(subject_kind, r)?;
        }
        let filter = (subject_kind, subject_relation);
        let ids = self
            .expand(
                store,
                filter,
                object.clone(),
                permission.to_owned(),
                Path::default(),
            )
            .await?;
        Ok(ids.into_iter().collect())
    }

    fn expand<'a, S: TupleStore>(
        &'a self,
        store: &'a S,
        filter: (&'a str, Option<&'a str>),
        object: Object,
        name: String,
        path: Path,
    ) -> BoxFut<'a, Result<HashSet<String>, EvalError>> {
        Box::pin(async move {
            let member = self.validate(&object.kind, &name)?;
            if path.steps.iter().any(|(o, n)| o == &object && n == &name) {
                if path.negated {
                    return Err(EvalError::CycleUnderNegation(format!("{object}#{name}")));
                }
                return Ok(HashSet::new());
            }
            if path.steps.len() >= self.max_depth {
                return Err(EvalError::DepthExceeded(self.max_depth));
            }
            let mut out = HashSet::new();
            if filter.0 == object.kind && filter.1 == Some(name.as_str()) {
                out.insert(object.id.clone());
            }
            let mut path = path;
            path.steps.push((object.clone(), name.clone()));
            match member {
                Member::Relation(_) => {
                    for s in store.subjects(&object, &name).await?.iter() {
                        match &s.relation {
                            None => {
                                if filter.1.is_none() && s.kind == filter.0 {
                                    out.insert(s.id.clone());
                                }
                            }
                            Some(r) => {
                                let inner = self
                                    .expand(store, filter, s.object(), r.clone(), path.clone())
                                    .await?;
                                out.extend(inner);
                            }
                        }
                    }
                }
                Member::Permission(i) => {
                    let entity = self
                        .schema
                        .entity(&object.kind)
                        .ok_or_else(|| EvalError::UnknownEntity(object.kind.clone()))?;
                    let expr = &entity.permissions[i].expr;
                    out.extend(self.expand_expr(store, filter, &object, expr, path).await?);
                }
            }
            Ok(out)
        })
    }

    fn expand_expr<'a, S: TupleStore>(
        &'a self,
        store: &'a S,
        filter: (&'a str, Option<&'a str>),
        object: &'a Object,
        expr: &'a Expr,
        path: Path,
    ) -> BoxFut<'a, Result<HashSet<String>, EvalError>> {
        Box::pin(async move {
            Ok(match expr {
                Expr::Name(n) => {
                    self.expand(store, filter, object.clone(), n.clone(), path)
                        .await?
                }
                Expr::Arrow { via, target } => {
                    let mut out = HashSet::new();
                    for s in store
                        .subjects(object, via)
                        .await?
                        .iter()
                        .filter(|s| s.relation.is_none())
                    {
                        let reachable = self
                            .schema
                            .entity(&s.kind)
                            .is_some_and(|e| e.member(target).is_some());
                        if reachable {
                            out.extend(
                                self.expand(
                                    store,
                                    filter,
                                    s.object(),
                                    target.clone(),
                                    path.clone(),
                                )
                                .await?,
                            );
                        }
                    }
                    out
                }
                Expr::Or(a, b) => {
                    let mut out = self
                        .expand_expr(store, filter, object, a, path.clone())
                        .await?;
                    out.extend(self.expand_expr(store, filter, object, b, path).await?);
                    out
                }
                Expr::And(a, b) => {
                    let left = self
                        .expand_expr(store, filter, object, a, path.clone())
                        .await?;
                    if left.is_empty() {
                        return Ok(left);
                    }
                    let right = self.expand_expr(store, filter, object, b, path).await?;
                    left.intersection(&right).cloned().collect()
                }
                Expr::Not(a, b) => {
                    let left = self
                        .expand_expr(store, filter, object, a, path.clone())
                        .await?;
                    if left.is_empty() {
                        return Ok(left);
                    }
                    let right = self
                        .expand_expr(store, filter, object, b, path.negate())
                        .await?;
                    left.difference(&right).cloned().collect()
                }
            })
        })
    }
}
