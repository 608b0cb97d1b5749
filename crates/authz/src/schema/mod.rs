//! The schema language: Permify-compatible text compiled into a checked [`Schema`].
//!
//! Compilation rejects anything the engine could not evaluate with certainty: unknown types,
//! relations or permissions, arrows through a relation whose subjects lack the target, and
//! permissions that refer to themselves without going through a stored relation.

mod lexer;
mod parser;

use std::collections::{HashMap, HashSet};
use std::fmt;

pub use lexer::Pos;
use parser::{EntityAst, ExprAst, MemberAst, Parser};

/// A schema that failed to compile: where, and what a person should fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {}, column {}: {message}", pos.line, pos.column)]
pub struct SchemaError {
    pub pos: Pos,
    pub message: String,
}

impl SchemaError {
    pub(crate) fn at(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            pos,
            message: message.into(),
        }
    }
}

/// A permission expression over one entity's relations and permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A relation or permission of the same entity.
    Name(String),
    /// `via.target`: `target` on every object the `via` relation points at.
    Arrow {
        via: String,
        target: String,
    },
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    /// `left not right`: in `left` and not in `right`.
    Not(Box<Expr>, Box<Expr>),
}

impl Expr {
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(..) => 3,
            _ => 4,
        }
    }

    fn fmt_child(&self, child: &Expr, f: &mut fmt::Formatter<'_>, right: bool) -> fmt::Result {
        let p = self.precedence();
        let c = child.precedence();
        if c < p || (right && c == p && c < 4) {
            write!(f, "({child})")
        } else {
            write!(f, "{child}")
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, op, b) = match self {
            Expr::Name(n) => return write!(f, "{n}"),
            Expr::Arrow { via, target } => return write!(f, "{via}.{target}"),
            Expr::Or(a, b) => (a, "or", b),
            Expr::And(a, b) => (a, "and", b),
            Expr::Not(a, b) => (a, "not", b),
        };
        self.fmt_child(a, f, false)?;
        write!(f, " {op} ")?;
        self.fmt_child(b, f, true)
    }
}

/// A subject type a relation accepts: `@user` or `@group#member`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectType {
    pub kind: String,
    pub relation: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RelationDef {
    pub name: String,
    pub subjects: Vec<SubjectType>,
}

#[derive(Clone, Debug)]
pub struct PermissionDef {
    pub name: String,
    pub expr: Expr,
}

/// What a name on an entity refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    Relation(usize),
    Permission(usize),
}

#[derive(Clone, Debug)]
pub struct EntityDef {
    pub name: String,
    pub relations: Vec<RelationDef>,
    pub permissions: Vec<PermissionDef>,
    members: HashMap<String, Member>,
}

impl EntityDef {
    pub fn member(&self, name: &str) -> Option<Member> {
        self.members.get(name).copied()
    }

    pub fn relation(&self, name: &str) -> Option<&RelationDef> {
        match self.member(name)? {
            Member::Relation(i) => self.relations.get(i),
            Member::Permission(_) => None,
        }
    }

    pub fn permission(&self, name: &str) -> Option<&PermissionDef> {
        match self.member(name)? {
            Member::Permission(i) => self.permissions.get(i),
            Member::Relation(_) => None,
        }
    }
}

/// How reaching `(from_kind, from_name)` for some ids leads to `(to_kind, to_name)`; used to
/// walk from a subject towards the resources it can reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReverseEdge {
    pub from: (String, String),
    pub to: (String, String),
    pub step: Step,
    /// False when the edge only proposes candidates (under `and` or `not`) that a check must
    /// confirm.
    pub exact: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Tuples `to:?#relation@from:ids#from_name`.
    Userset { relation: String },
    /// The same ids.
    Computed,
    /// Tuples `to:?#via@from:ids`.
    Arrow { via: String },
}

/// A compiled, checked schema.
#[derive(Clone, Debug)]
pub struct Schema {
    entities: Vec<EntityDef>,
    by_name: HashMap<String, usize>,
    pub(crate) reverse: Vec<ReverseEdge>,
}

impl Schema {
    /// Compiles schema text, or says exactly where and why it is wrong.
    pub fn parse(text: &str) -> Result<Self, SchemaError> {
        let tokens = lexer::lex(text)?;
        let ast = Parser::new(tokens).schema()?;
        compile(ast)
    }

    pub fn entity(&self, name: &str) -> Option<&EntityDef> {
        self.by_name.get(name).and_then(|i| self.entities.get(*i))
    }

    pub fn entities(&self) -> impl Iterator<Item = &EntityDef> {
        self.entities.iter()
    }

    /// Whether the schema allows this tuple: known entity, a relation (not a permission) of it,
    /// and a subject of a type the relation accepts.
    pub fn check_tuple(&self, t: &crate::Tuple) -> Result<(), String> {
        let entity = self
            .entity(&t.object.kind)
            .ok_or_else(|| format!("unknown entity type `{}`", t.object.kind))?;
        let relation = match entity.member(&t.relation) {
            Some(Member::Relation(i)) => &entity.relations[i],
            Some(Member::Permission(_)) => {
                return Err(format!(
                    "`{}` is a permission of `{}`; only relations can be written",
                    t.relation, t.object.kind
                ))
            }
            None => {
                return Err(format!(
                    "entity `{}` has no relation `{}`",
                    t.object.kind, t.relation
                ))
            }
        };
        let accepted = relation
            .subjects
            .iter()
            .any(|s| s.kind == t.subject.kind && s.relation == t.subject.relation);
        if accepted {
            Ok(())
        } else {
            let allowed: Vec<String> = relation
                .subjects
                .iter()
                .map(|s| match &s.relation {
                    Some(r) => format!("@{}#{r}", s.kind),
                    None => format!("@{}", s.kind),
                })
                .collect();
            let given = match &t.subject.relation {
                Some(r) => format!("@{}#{r}", t.subject.kind),
                None => format!("@{}", t.subject.kind),
            };
            Err(format!(
                "relation `{}.{}` accepts {}, not {given}",
                t.object.kind,
                t.relation,
                allowed.join(" ")
            ))
        }
    }
}

fn compile(ast: Vec<EntityAst>) -> Result<Schema, SchemaError> {
    let mut by_name = HashMap::new();
    for (i, e) in ast.iter().enumerate() {
        if by_name.insert(e.name.clone(), i).is_some() {
            return Err(SchemaError::at(
                e.pos,
                format!("entity `{}` is defined twice", e.name),
            ));
        }
    }
    // Members first, so expressions can refer to names defined later in the file.
    let mut entities = Vec::with_capacity(ast.len());
    for e in &ast {
        let mut members = HashMap::new();
        let mut relations = Vec::new();
        let mut permissions = Vec::new();
        for m in &e.members {
            let (name, pos, member) = match m {
                MemberAst::Relation { name, pos, .. } => {
                    (name, pos, Member::Relation(relations.len()))
                }
                MemberAst::Permission { name, pos, .. } => {
                    (name, pos, Member::Permission(permissions.len()))
                }
            };
            if members.insert(name.clone(), member).is_some() {
                return Err(SchemaError::at(
                    *pos,
                    format!("`{name}` is defined twice in entity `{}`", e.name),
                ));
            }
            match m {
                MemberAst::Relation { name, .. } => relations.push(RelationDef {
                    name: name.clone(),
                    subjects: Vec::new(),
                }),
                MemberAst::Permission { name, .. } => permissions.push(PermissionDef {
                    name: name.clone(),
                    expr: Expr::Name(String::new()),
                }),
            }
        }
        entities.push(EntityDef {
            name: e.name.clone(),
            relations,
            permissions,
            members,
        });
    }
    // Subject types.
    for (ei, e) in ast.iter().enumerate() {
        for m in &e.members {
            let MemberAst::Relation { name, subjects, .. } = m else {
                continue;
            };
            let mut out = Vec::new();
            for (kind, rel, pos) in subjects {
                let Some(target) = by_name.get(kind).map(|i| &entities[*i]) else {
                    return Err(SchemaError::at(
                        *pos,
                        format!(
                            "relation `{name}` of `{}` names unknown entity `{kind}`",
                            e.name
                        ),
                    ));
                };
                if let Some(r) = rel {
                    if target.member(r).is_none() {
                        return Err(SchemaError::at(
                            *pos,
                            format!("entity `{kind}` has no relation or permission `{r}`"),
                        ));
                    }
                }
                out.push(SubjectType {
                    kind: kind.clone(),
                    relation: rel.clone(),
                });
            }
            if let Some(Member::Relation(ri)) = entities[ei].member(name) {
                entities[ei].relations[ri].subjects = out;
            }
        }
    }
    // Expressions.
    for (ei, e) in ast.iter().enumerate() {
        for m in &e.members {
            let MemberAst::Permission { name, expr, .. } = m else {
                continue;
            };
            let compiled = compile_expr(&entities, &by_name, &entities[ei], expr)?;
            if let Some(Member::Permission(pi)) = entities[ei].member(name) {
                entities[ei].permissions[pi].expr = compiled;
            }
        }
    }
    check_self_reference(&ast, &entities)?;
    let reverse = reverse_edges(&entities, &by_name);
    Ok(Schema {
        entities,
        by_name,
        reverse,
    })
}

fn compile_expr(
    entities: &[EntityDef],
    by_name: &HashMap<String, usize>,
    here: &EntityDef,
    expr: &ExprAst,
) -> Result<Expr, SchemaError> {
    let both = |a: &ExprAst, b: &ExprAst| -> Result<(Box<Expr>, Box<Expr>), SchemaError> {
        Ok((
            Box::new(compile_expr(entities, by_name, here, a)?),
            Box::new(compile_expr(entities, by_name, here, b)?),
        ))
    };
    Ok(match expr {
        ExprAst::Name(n, pos) => {
            if here.member(n).is_none() {
                return Err(SchemaError::at(
                    *pos,
                    format!("entity `{}` has no relation or permission `{n}`", here.name),
                ));
            }
            Expr::Name(n.clone())
        }
        ExprAst::Arrow(via, target, pos) => {
            let Some(rel) = here.relation(via) else {
                return Err(SchemaError::at(
                    *pos,
                    format!(
                        "`{via}.{target}`: entity `{}` has no relation `{via}` (an arrow starts from a relation)",
                        here.name
                    ),
                ));
            };
            let direct: Vec<&SubjectType> = rel
                .subjects
                .iter()
                .filter(|s| s.relation.is_none())
                .collect();
            if direct.is_empty() {
                return Err(SchemaError::at(
                    *pos,
                    format!("`{via}.{target}`: relation `{via}` holds no plain objects to follow"),
                ));
            }
            for s in direct {
                let has = by_name
                    .get(&s.kind)
                    .and_then(|i| entities.get(*i))
                    .is_some_and(|t| t.member(target).is_some());
                if !has {
                    return Err(SchemaError::at(
                        *pos,
                        format!(
                            "`{via}.{target}`: entity `{}` has no relation or permission `{target}`",
                            s.kind
                        ),
                    ));
                }
            }
            Expr::Arrow {
                via: via.clone(),
                target: target.clone(),
            }
        }
        ExprAst::Or(a, b) => {
            let (a, b) = both(a, b)?;
            Expr::Or(a, b)
        }
        ExprAst::And(a, b) => {
            let (a, b) = both(a, b)?;
            Expr::And(a, b)
        }
        ExprAst::Not(a, b) => {
            let (a, b) = both(a, b)?;
            Expr::Not(a, b)
        }
    })
}

fn names_in(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Name(n) => out.push(n.clone()),
        Expr::Arrow { .. } => {}
        Expr::Or(a, b) | Expr::And(a, b) | Expr::Not(a, b) => {
            names_in(a, out);
            names_in(b, out);
        }
    }
}

/// `permission a = b; permission b = a` could never be decided; reject it.
fn check_self_reference(ast: &[EntityAst], entities: &[EntityDef]) -> Result<(), SchemaError> {
    for (e, def) in ast.iter().zip(entities) {
        for m in &e.members {
            let MemberAst::Permission { name, pos, .. } = m else {
                continue;
            };
            let mut stack = vec![name.clone()];
            let mut seen = HashSet::new();
            while let Some(n) = stack.pop() {
                let Some(p) = def.permission(&n) else {
                    continue;
                };
                let mut refs = Vec::new();
                names_in(&p.expr, &mut refs);
                for r in refs {
                    if &r == name {
                        return Err(SchemaError::at(
                            *pos,
                            format!(
                                "permission `{name}` of `{}` depends on itself without going through a relation",
                                e.name
                            ),
                        ));
                    }
                    if seen.insert(r.clone()) {
                        stack.push(r);
                    }
                }
            }
        }
    }
    Ok(())
}

fn reverse_edges(entities: &[EntityDef], by_name: &HashMap<String, usize>) -> Vec<ReverseEdge> {
    let mut edges = Vec::new();
    for e in entities {
        for r in &e.relations {
            for s in &r.subjects {
                if let Some(sr) = &s.relation {
                    edges.push(ReverseEdge {
                        from: (s.kind.clone(), sr.clone()),
                        to: (e.name.clone(), r.name.clone()),
                        step: Step::Userset {
                            relation: r.name.clone(),
                        },
                        exact: true,
                    });
                }
            }
        }
        for p in &e.permissions {
            collect_expr_edges(entities, by_name, e, &p.name, &p.expr, true, &mut edges);
        }
    }
    edges
}

fn collect_expr_edges(
    entities: &[EntityDef],
    by_name: &HashMap<String, usize>,
    e: &EntityDef,
    perm: &str,
    expr: &Expr,
    exact: bool,
    edges: &mut Vec<ReverseEdge>,
) {
    let to = (e.name.clone(), perm.to_owned());
    match expr {
        Expr::Name(n) => edges.push(ReverseEdge {
            from: (e.name.clone(), n.clone()),
            to,
            step: Step::Computed,
            exact,
        }),
        Expr::Arrow { via, target } => {
            if let Some(rel) = e.relation(via) {
                for s in rel.subjects.iter().filter(|s| s.relation.is_none()) {
                    let known = by_name
                        .get(&s.kind)
                        .and_then(|i| entities.get(*i))
                        .is_some_and(|t| t.member(target).is_some());
                    if known {
                        edges.push(ReverseEdge {
                            from: (s.kind.clone(), target.clone()),
                            to: to.clone(),
                            step: Step::Arrow { via: via.clone() },
                            exact,
                        });
                    }
                }
            }
        }
        Expr::Or(a, b) => {
            collect_expr_edges(entities, by_name, e, perm, a, exact, edges);
            collect_expr_edges(entities, by_name, e, perm, b, exact, edges);
        }
        // Anything in `a and b` is in `a`; anything in `a not b` is in `a`. Both only propose.
        Expr::And(a, _) | Expr::Not(a, _) => {
            collect_expr_edges(entities, by_name, e, perm, a, false, edges);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        // people
        entity user {}
        entity group {
            relation member @user | @group#member
        }
        entity doc {
            relation owner @user
            relation parent @doc
            relation viewer @user @group#member
            relation banned @user
            /* a permission may use names defined below it */
            permission view = (owner or viewer or parent.view) not banned
            action edit = owner and view
        }
    "#;

    #[test]
    fn a_good_schema_compiles_and_prints_its_expressions() {
        let s = Schema::parse(GOOD).unwrap();
        let doc = s.entity("doc").unwrap();
        assert_eq!(
            doc.permission("view").unwrap().expr.to_string(),
            "(owner or viewer or parent.view) not banned"
        );
        assert_eq!(
            doc.permission("edit").unwrap().expr.to_string(),
            "owner and view"
        );
        assert_eq!(
            s.entity("group")
                .unwrap()
                .relation("member")
                .unwrap()
                .subjects
                .len(),
            2
        );
    }

    fn err(text: &str) -> String {
        Schema::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn mistakes_are_reported_with_line_and_column() {
        assert_eq!(
            err("entity user {}\nentity vm {\n  relation owner @user\n  permission read = ownr\n}"),
            "line 4, column 21: entity `vm` has no relation or permission `ownr`"
        );
        assert_eq!(
            err("entity vm {\n  relation owner @usr\n}"),
            "line 2, column 19: relation `owner` of `vm` names unknown entity `usr`"
        );
        assert!(err("entity a {}\nentity a {}")
            .starts_with("line 2, column 8: entity `a` is defined twice"));
        assert!(
            err("entity a {\n relation r @a\n permission p = q\n permission q = p\n}")
                .contains("depends on itself")
        );
        assert!(err("entity a { relation r }").contains("at least one subject type"));
        assert!(err("entity a { relation r @a permission p = r.x }")
            .contains("no relation or permission `x`"));
        assert!(err("entity a { relation r @a permission p = not r }").contains("cannot start"));
        assert!(err("entity a { attribute x boolean }").contains("not supported"));
        assert!(err("entity a {").contains("never closed"));
        assert!(err("entity a { relation r @a permission p = (r }").contains("`)`"));
        assert!(err("entity a { relation r @a permission p = r.r.r }").contains("one relation"));
        assert!(err("/* open").contains("never closed"));
    }

    #[test]
    fn long_operator_chains_are_refused_not_overflowed() {
        let text = format!(
            "entity a {{ relation r @a permission p = {} }}",
            vec!["r"; 100_000].join(" or ")
        );
        assert!(err(&text).contains("more than 128 operators"));
        let ok = format!(
            "entity a {{ relation r @a permission p = {} }}",
            vec!["r"; 100].join(" and ")
        );
        Schema::parse(&ok).unwrap();
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!(
            "entity a {{ relation r @a permission p = {}r{} }}",
            "(".repeat(500),
            ")".repeat(500)
        );
        assert!(err(&text).contains("nests deeper"));
    }
}
