//! Objects, subjects and relation tuples, and their text form `type:id#relation@type:id[#relation]`.
//!
//! As in Permify, a subject relation of `...` (`doc:1#parent@folder:1#...`) means the subject
//! itself: it is read as no relation at all, so such a tuple is stored, printed and answered
//! exactly as `doc:1#parent@folder:1`.

use std::fmt;
use std::str::FromStr;

/// One object of an entity type, such as `vm:7f3a…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Object {
    pub kind: String,
    pub id: String,
}

impl Object {
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// The subject relation that means "the subject itself", as Permify writes it.
pub const ELLIPSIS: &str = "...";

/// A subject relation as written, with [`ELLIPSIS`] read as none.
pub fn subject_relation(relation: Option<&str>) -> Option<&str> {
    relation.filter(|r| *r != ELLIPSIS)
}

/// Who a tuple grants to: an object (`user:alice`) or every subject holding a relation on an
/// object (a userset, `organization:acme#member`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub kind: String,
    pub id: String,
    pub relation: Option<String>,
}

impl Subject {
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
            relation: None,
        }
    }

    /// Every subject holding `relation` on `kind:id`; a `relation` of [`ELLIPSIS`] is the
    /// object itself, the same as [`Subject::new`].
    pub fn userset(kind: impl Into<String>, id: impl Into<String>, relation: &str) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
            relation: subject_relation(Some(relation)).map(str::to_owned),
        }
    }

    /// The object this subject names, without its relation.
    pub fn object(&self) -> Object {
        Object::new(self.kind.clone(), self.id.clone())
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)?;
        if let Some(r) = &self.relation {
            write!(f, "#{r}")?;
        }
        Ok(())
    }
}

/// `object#relation@subject`: the subject holds the relation on the object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    pub object: Object,
    pub relation: String,
    pub subject: Subject,
}

impl Tuple {
    pub fn new(object: Object, relation: impl Into<String>, subject: Subject) -> Self {
        Self {
            object,
            relation: relation.into(),
            subject,
        }
    }
}

impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}@{}", self.object, self.relation, self.subject)
    }
}

/// Why a tuple's text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a relationship: {reason} (expected `entity:id#relation@subject:id`, `entity:id#relation@subject:id#relation` or `entity:id#relation@subject:id#...`)")]
pub struct TupleParseError {
    pub text: String,
    pub reason: &'static str,
}

fn name_ok(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn id_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '|' | '=' | '+'))
}

fn parse_object(text: &str, part: &str) -> Result<Object, &'static str> {
    let (kind, id) = part.split_once(':').ok_or("an object needs `type:id`")?;
    if !name_ok(kind) {
        return Err("an entity type must be a name like `vm`");
    }
    if !id_ok(id) {
        return Err("an id may hold letters, digits and _ - . | = +");
    }
    let _ = text;
    Ok(Object::new(kind, id))
}

impl FromStr for Tuple {
    type Err = TupleParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| TupleParseError {
            text: text.to_owned(),
            reason,
        };
        let text_trim = text.trim();
        let (left, right) = text_trim
            .split_once('@')
            .ok_or_else(|| fail("there is no `@` before the subject"))?;
        let (object, relation) = left
            .split_once('#')
            .ok_or_else(|| fail("there is no `#relation` after the entity"))?;
        let object = parse_object(text, object).map_err(fail)?;
        if !name_ok(relation) {
            return Err(fail("the relation must be a name like `owner`"));
        }
        let (subject, relation_text) = match right.split_once('#') {
            Some((s, r)) => (s, Some(r)),
            None => (right, None),
        };
        let subject_relation = subject_relation(relation_text);
        let subject = parse_object(text, subject).map_err(fail)?;
        if let Some(r) = subject_relation {
            if !name_ok(r) {
                return Err(fail("the subject's relation must be a name like `member`"));
            }
        }
        Ok(Tuple::new(
            object,
            relation,
            Subject {
                kind: subject.kind,
                id: subject.id,
                relation: subject_relation.map(str::to_owned),
            },
        ))
    }
}

impl FromStr for Subject {
    type Err = TupleParseError;

    /// `type:id`, `type:id#relation`, or `type:id#...` (the same as `type:id`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| TupleParseError {
            text: text.to_owned(),
            reason,
        };
        let (object, relation) = match text.trim().split_once('#') {
            Some((o, r)) => (o, subject_relation(Some(r))),
            None => (text.trim(), None),
        };
        let object = parse_object(text, object).map_err(fail)?;
        if let Some(r) = relation {
            if !name_ok(r) {
                return Err(fail("the relation must be a name like `member`"));
            }
        }
        Ok(Subject {
            kind: object.kind,
            id: object.id,
            relation: relation.map(str::to_owned),
        })
    }
}

impl FromStr for Object {
    type Err = TupleParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_object(text, text.trim()).map_err(|reason| TupleParseError {
            text: text.to_owned(),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_round_trip_through_text() {
        for text in [
            "vm:1#owner@user:alice",
            "group:eng#member@group:core#member",
            "organization:9f0e-aa#platform@platform:strata",
        ] {
            let t: Tuple = text.parse().unwrap();
            assert_eq!(t.to_string(), text);
        }
        let t: Tuple = "group:a#member@group:b#member".parse().unwrap();
        assert_eq!(t.subject.relation.as_deref(), Some("member"));
    }

    #[test]
    fn a_subject_relation_of_three_dots_is_the_subject_itself() {
        // Permify's `#...`: the same tuple as one written without a subject relation.
        let dotted: Tuple = "doc:1#parent@folder:1#...".parse().unwrap();
        let plain: Tuple = "doc:1#parent@folder:1".parse().unwrap();
        assert_eq!(dotted, plain);
        assert_eq!(dotted.subject.relation, None);
        assert_eq!(dotted.to_string(), "doc:1#parent@folder:1");
        let s: Subject = "user:alice#...".parse().unwrap();
        assert_eq!(s, Subject::new("user", "alice"));
        assert_eq!(
            Subject::userset("user", "alice", "..."),
            Subject::new("user", "alice")
        );
        for bad in [
            "doc:1#parent@folder:1#..",
            "doc:1#parent@folder:1#....",
            "doc:1#...@user:a",
        ] {
            assert!(bad.parse::<Tuple>().is_err(), "{bad}");
        }
        assert!("user:alice#..".parse::<Subject>().is_err());
    }

    #[test]
    fn malformed_tuples_say_why() {
        for (text, needle) in [
            ("vm:1#owner", "no `@`"),
            ("vm:1@user:a", "no `#relation`"),
            ("vm#owner@user:a", "`type:id`"),
            ("vm:1#own er@user:a", "relation must be"),
            ("vm:1#owner@user:", "an id may hold"),
            ("9vm:1#owner@user:a", "entity type"),
        ] {
            let e = text.parse::<Tuple>().unwrap_err();
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }
}
