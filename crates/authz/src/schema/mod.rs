//! The schema language: Permify-compatible text compiled into a checked [`Schema`].
//!
//! Compilation rejects anything the engine could not evaluate with certainty: unknown types,
//! relations or permissions, arrows through a relation whose subjects lack the target, and
//! permissions that refer to themselves without going through a stored relation.

mod compile;
mod lexer;
mod parser;

use std::collections::HashMap;
use std::fmt;

pub use lexer::Pos;
use parser::Parser;

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
        compile::compile(ast)
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
