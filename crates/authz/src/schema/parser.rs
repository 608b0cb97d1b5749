//! Reads tokens into entities, relations and permission expressions (the syntax tree).
//!
//! Grammar (Permify's, minus attributes and rules):
//! `entity NAME { (relation NAME (@TYPE[#REL])+ | (permission|action) NAME = EXPR)* }` where
//! `EXPR` is names and arrows (`a.b`) joined by `or` (lowest), `and`, and infix `not`
//! (exclusion, highest), with parentheses. `|` between subject types is accepted too.
// Schema text is input: no index into it may panic.
#![deny(clippy::indexing_slicing)]

use super::lexer::{Pos, Tok};
use super::SchemaError;

#[derive(Clone, Debug)]
pub(crate) struct EntityAst {
    pub name: String,
    pub pos: Pos,
    pub members: Vec<MemberAst>,
}

#[derive(Clone, Debug)]
pub(crate) enum MemberAst {
    Relation {
        name: String,
        pos: Pos,
        subjects: Vec<(String, Option<String>, Pos)>,
    },
    Permission {
        name: String,
        pos: Pos,
        expr: ExprAst,
    },
}

#[derive(Clone, Debug)]
pub(crate) enum ExprAst {
    Name(String, Pos),
    Arrow(String, String, Pos),
    Or(Box<ExprAst>, Box<ExprAst>),
    And(Box<ExprAst>, Box<ExprAst>),
    Not(Box<ExprAst>, Box<ExprAst>),
}

const KEYWORDS: &[&str] = &[
    "entity",
    "relation",
    "permission",
    "action",
    "or",
    "and",
    "not",
    "rule",
    "attribute",
];

/// Deepest nesting of parentheses accepted, and most operators in one expression, so hostile
/// input cannot overflow the stack (expressions are trees walked recursively).
const MAX_NESTING: usize = 64;
const MAX_OPERATORS: usize = 128;

pub(crate) struct Parser {
    toks: Vec<(Tok, Pos)>,
    at: usize,
    nesting: usize,
    operators: usize,
}

impl Parser {
    pub(crate) fn new(toks: Vec<(Tok, Pos)>) -> Self {
        Self {
            toks,
            at: 0,
            nesting: 0,
            operators: 0,
        }
    }

    fn peek(&self) -> &(Tok, Pos) {
        // The lexer always ends with `End`; past it, everything reads as the end.
        const END: &(Tok, Pos) = &(Tok::End, Pos { line: 0, column: 0 });
        self.toks.get(self.at).or(self.toks.last()).unwrap_or(END)
    }

    fn next(&mut self) -> (Tok, Pos) {
        let t = self.peek().clone();
        if self.at < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().0, Tok::Ident(w) if w == word)
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<Pos, SchemaError> {
        let (tok, pos) = self.next();
        if tok == want {
            Ok(pos)
        } else {
            Err(SchemaError::at(
                pos,
                format!("expected {what}, found {}", tok.describe()),
            ))
        }
    }

    /// A name that is not a keyword.
    fn name(&mut self, what: &str) -> Result<(String, Pos), SchemaError> {
        let (tok, pos) = self.next();
        match tok {
            Tok::Ident(w) if !KEYWORDS.contains(&w.as_str()) => Ok((w, pos)),
            Tok::Ident(w) => Err(SchemaError::at(
                pos,
                format!("expected {what}, found the keyword `{w}`"),
            )),
            other => Err(SchemaError::at(
                pos,
                format!("expected {what}, found {}", other.describe()),
            )),
        }
    }

    pub(crate) fn schema(&mut self) -> Result<Vec<EntityAst>, SchemaError> {
        let mut entities = Vec::new();
        loop {
            let (tok, pos) = self.peek().clone();
            match tok {
                Tok::End => return Ok(entities),
                Tok::Ident(w) if w == "entity" => entities.push(self.entity()?),
                Tok::Ident(w) if w == "rule" => {
                    return Err(SchemaError::at(
                        pos,
                        "`rule` (attribute-based conditions) is not supported by Strata's engine",
                    ))
                }
                other => {
                    return Err(SchemaError::at(
                        pos,
                        format!("expected `entity`, found {}", other.describe()),
                    ))
                }
            }
        }
    }

    fn entity(&mut self) -> Result<EntityAst, SchemaError> {
        self.next();
        let (name, pos) = self.name("an entity name")?;
        self.expect(Tok::LBrace, "`{` after the entity name")?;
        let mut members = Vec::new();
        loop {
            let (tok, at) = self.peek().clone();
            match tok {
                Tok::RBrace => {
                    self.next();
                    return Ok(EntityAst { name, pos, members });
                }
                Tok::Ident(w) if w == "relation" => {
                    self.next();
                    members.push(self.relation()?);
                }
                Tok::Ident(w) if w == "permission" || w == "action" => {
                    self.next();
                    let (pname, ppos) = self.name("a permission name")?;
                    self.expect(Tok::Eq, "`=` after the permission name")?;
                    self.operators = 0;
                    let expr = self.expr()?;
                    members.push(MemberAst::Permission {
                        name: pname,
                        pos: ppos,
                        expr,
                    });
                }
                Tok::Ident(w) if w == "attribute" => {
                    return Err(SchemaError::at(
                        at,
                        "`attribute` is not supported by Strata's engine (relationships only)",
                    ))
                }
                Tok::End => {
                    return Err(SchemaError::at(
                        at,
                        format!("entity `{name}` is never closed with `}}`"),
                    ))
                }
                other => {
                    return Err(SchemaError::at(
                        at,
                        format!(
                            "expected `relation`, `permission`, `action` or `}}`, found {}",
                            other.describe()
                        ),
                    ))
                }
            }
        }
    }

    fn relation(&mut self) -> Result<MemberAst, SchemaError> {
        let (name, pos) = self.name("a relation name")?;
        let mut subjects = Vec::new();
        loop {
            if matches!(self.peek().0, Tok::Pipe) && !subjects.is_empty() {
                self.next();
                if !matches!(self.peek().0, Tok::At) {
                    let (tok, p) = self.peek().clone();
                    return Err(SchemaError::at(
                        p,
                        format!("expected `@type` after `|`, found {}", tok.describe()),
                    ));
                }
            }
            if !matches!(self.peek().0, Tok::At) {
                break;
            }
            self.next();
            let (kind, kpos) = self.name("an entity type after `@`")?;
            let rel = if matches!(self.peek().0, Tok::Hash) {
                self.next();
                Some(self.name("a relation after `#`")?.0)
            } else {
                None
            };
            subjects.push((kind, rel, kpos));
        }
        if subjects.is_empty() {
            let (tok, p) = self.peek().clone();
            return Err(SchemaError::at(
                p,
                format!(
                    "relation `{name}` needs at least one subject type such as `@user`, found {}",
                    tok.describe()
                ),
            ));
        }
        Ok(MemberAst::Relation {
            name,
            pos,
            subjects,
        })
    }

    fn deeper(&mut self) -> Result<(), SchemaError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(SchemaError::at(
                self.peek().1,
                format!("this expression nests deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    fn operator(&mut self) -> Result<(), SchemaError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(SchemaError::at(
                self.peek().1,
                format!("this expression has more than {MAX_OPERATORS} operators; split it into permissions"),
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<ExprAst, SchemaError> {
        self.deeper()?;
        let mut left = self.and_expr()?;
        while self.is_word("or") {
            self.operator()?;
            self.next();
            let right = self.and_expr()?;
            left = ExprAst::Or(Box::new(left), Box::new(right));
        }
        self.nesting -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<ExprAst, SchemaError> {
        let mut left = self.not_expr()?;
        while self.is_word("and") {
            self.operator()?;
            self.next();
            let right = self.not_expr()?;
            left = ExprAst::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<ExprAst, SchemaError> {
        let mut left = self.primary()?;
        while self.is_word("not") {
            self.operator()?;
            self.next();
            let right = self.primary()?;
            left = ExprAst::Not(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<ExprAst, SchemaError> {
        let (tok, pos) = self.peek().clone();
        match tok {
            Tok::LParen => {
                self.next();
                let inner = self.expr()?;
                self.expect(Tok::RParen, "`)` to close the parenthesis")?;
                Ok(inner)
            }
            Tok::Ident(w) if w == "not" => Err(SchemaError::at(
                pos,
                "`not` excludes one set from another (`a not b`); it cannot start an expression",
            )),
            Tok::Ident(_) => {
                let (name, pos) = self.name("a relation or permission name")?;
                if matches!(self.peek().0, Tok::Dot) {
                    self.next();
                    let (target, _) = self.name("a relation or permission after `.`")?;
                    if matches!(self.peek().0, Tok::Dot) {
                        return Err(SchemaError::at(
                            self.peek().1,
                            "an arrow goes through one relation (`parent.admin`); define a permission on the next entity to go further",
                        ));
                    }
                    Ok(ExprAst::Arrow(name, target, pos))
                } else {
                    Ok(ExprAst::Name(name, pos))
                }
            }
            other => Err(SchemaError::at(
                pos,
                format!(
                    "expected a relation, a permission or `(`, found {}",
                    other.describe()
                ),
            )),
        }
    }
}
