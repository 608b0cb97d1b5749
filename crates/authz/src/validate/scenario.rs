//! One scenario's questions: checks, entity filters and subject filters, each entry parsed
//! into a [`Question`], asked of the engine per asserted permission, and compared.

use std::collections::BTreeSet;

use serde_yaml::{Mapping, Value};

use super::{as_list, as_map, empty_context, scalar, Ctx, CONTEXT_UNSUPPORTED};
use super::{Failure, FileError, Report};
use crate::{subject_relation, Engine, MemoryStore, Object, Subject};

fn known_member(
    ctx: &Ctx<'_>,
    engine: &Engine,
    kind: &str,
    name: &str,
    line: usize,
) -> Result<(), FileError> {
    let entity = engine
        .schema()
        .entity(kind)
        .ok_or_else(|| ctx.err(line, format!("unknown entity type `{kind}`")))?;
    if entity.member(name).is_none() {
        return Err(ctx.err(
            line,
            format!("entity `{kind}` has no permission or relation `{name}`"),
        ));
    }
    Ok(())
}

fn assertions<'v>(ctx: &Ctx<'_>, map: &'v Mapping, at: usize) -> Result<&'v Mapping, FileError> {
    map.get("assertions")
        .ok_or_else(|| ctx.err(at, "`assertions` is missing"))
        .and_then(|v| as_map(ctx, v, "`assertions`", at))
}

fn id_list(ctx: &Ctx<'_>, v: &Value, line: usize) -> Result<BTreeSet<String>, FileError> {
    as_list(ctx, v, "an assertion's expected ids", line)?
        .iter()
        .map(|x| scalar(x).ok_or_else(|| ctx.err(line, "expected ids must be strings or numbers")))
        .collect()
}

fn show(set: &BTreeSet<String>) -> String {
    format!("[{}]", set.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// The three kinds of question a scenario asks, each a list under its own key.
#[derive(Clone, Copy)]
pub(super) enum Section {
    Checks,
    EntityFilters,
    SubjectFilters,
}

impl Section {
    pub(super) const ALL: [Section; 3] = [Self::Checks, Self::EntityFilters, Self::SubjectFilters];

    /// The scenario's key for the list.
    fn key(self) -> &'static str {
        match self {
            Self::Checks => "checks",
            Self::EntityFilters => "entity_filters",
            Self::SubjectFilters => "subject_filters",
        }
    }

    /// One entry, in error messages.
    fn noun(self) -> &'static str {
        match self {
            Self::Checks => "a check",
            Self::EntityFilters => "an entity filter",
            Self::SubjectFilters => "a subject filter",
        }
    }

    /// The key an entry starts with (its line is the entry's line), then the others it takes.
    fn keys(self) -> [&'static str; 4] {
        match self {
            Self::Checks => ["entity", "subject", "assertions", "context"],
            Self::EntityFilters => ["entity_type", "subject", "assertions", "context"],
            Self::SubjectFilters => ["subject_reference", "entity", "assertions", "context"],
        }
    }
}

/// One entry of a section, parsed: what to ask the engine for each asserted permission.
enum Question {
    Check {
        subject: Subject,
        entity: Object,
    },
    Entities {
        subject: Subject,
        kind: String,
    },
    Subjects {
        reference: String,
        kind: String,
        relation: Option<String>,
        entity: Object,
    },
}

impl Question {
    fn parse(
        section: Section,
        ctx: &Ctx<'_>,
        engine: &Engine,
        map: &Mapping,
        line: usize,
    ) -> Result<Self, FileError> {
        let text = |key: &str| map.get(key).and_then(scalar).unwrap_or_default();
        let subject = || -> Result<Subject, FileError> {
            text("subject")
                .parse()
                .map_err(|e| ctx.err(line, format!("{e}")))
        };
        let entity = || -> Result<Object, FileError> {
            text("entity")
                .parse()
                .map_err(|e| ctx.err(line, format!("{e}")))
        };
        Ok(match section {
            Section::Checks => {
                let entity = entity()?;
                Self::Check {
                    subject: subject()?,
                    entity,
                }
            }
            Section::EntityFilters => {
                let kind = text("entity_type");
                if engine.schema().entity(&kind).is_none() {
                    return Err(ctx.err(line, format!("unknown entity type `{kind}`")));
                }
                Self::Entities {
                    subject: subject()?,
                    kind,
                }
            }
            Section::SubjectFilters => {
                let reference = text("subject_reference");
                // `user#...` is the users themselves, as `user` is.
                let (kind, relation) = match reference.split_once('#') {
                    Some((k, r)) => (k.to_owned(), subject_relation(Some(r)).map(str::to_owned)),
                    None => (reference.clone(), None),
                };
                match (engine.schema().entity(&kind), &relation) {
                    (None, _) => {
                        return Err(ctx.err(
                            line,
                            format!("unknown entity type `{kind}` in subject_reference"),
                        ))
                    }
                    (Some(e), Some(r)) if e.member(r).is_none() => {
                        return Err(ctx.err(line, format!("entity `{kind}` has no relation `{r}`")))
                    }
                    _ => {}
                }
                Self::Subjects {
                    reference,
                    kind,
                    relation,
                    entity: entity()?,
                }
            }
        })
    }

    /// The entity type the asserted permissions belong to.
    fn kind(&self) -> &str {
        match self {
            Self::Check { entity, .. } | Self::Subjects { entity, .. } => &entity.kind,
            Self::Entities { kind, .. } => kind,
        }
    }

    /// The expected answer as the report shows it: `true`/`false` for a check, a list of ids
    /// for a filter.
    fn expected(
        &self,
        ctx: &Ctx<'_>,
        perm: &str,
        v: &Value,
        line: usize,
    ) -> Result<String, FileError> {
        match self {
            Self::Check { .. } => v
                .as_bool()
                .map(|b| b.to_string())
                .ok_or_else(|| ctx.err(line, format!("`{perm}` must be true or false"))),
            Self::Entities { .. } | Self::Subjects { .. } => Ok(show(&id_list(ctx, v, line)?)),
        }
    }

    /// The engine's answer for `perm`, shown like [`Question::expected`].
    async fn ask(&self, engine: &Engine, store: &MemoryStore, perm: &str) -> String {
        let shown = match self {
            Self::Check { subject, entity } => engine
                .check(store, subject, perm, entity)
                .await
                .map(|b| b.to_string()),
            Self::Entities { subject, kind } => engine
                .lookup_resources(store, subject, perm, kind)
                .await
                .map(|ids| show(&ids)),
            Self::Subjects {
                kind,
                relation,
                entity,
                ..
            } => engine
                .lookup_subjects(store, entity, perm, kind, relation.as_deref())
                .await
                .map(|ids| show(&ids)),
        };
        shown.unwrap_or_else(|e| format!("error ({e})"))
    }

    /// The question, in a failure.
    fn asked(&self, perm: &str) -> String {
        match self {
            Self::Check { subject, entity } => format!("check {subject} {perm} {entity}"),
            Self::Entities { subject, kind } => {
                format!("entity filter: {kind} where {subject} has {perm}")
            }
            Self::Subjects {
                reference, entity, ..
            } => format!("subject filter: {reference} with {perm} on {entity}"),
        }
    }
}

/// Runs one section of a scenario: every entry, every asserted permission.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_section(
    ctx: &Ctx<'_>,
    engine: &Engine,
    store: &MemoryStore,
    scenario: &Mapping,
    section: Section,
    name: &str,
    at: usize,
    report: &mut Report,
) -> Result<(), FileError> {
    let key = section.key();
    let keys = section.keys();
    let mut cursor = at;
    for item in as_list(
        ctx,
        scenario.get(key).unwrap_or(&Value::Null),
        &format!("`{key}`"),
        at,
    )? {
        let map = as_map(ctx, item, section.noun(), at)?;
        let line = ctx.key_line(keys[0], cursor + 1);
        cursor = line;
        ctx.unsupported_keys(map, &keys, line, section.noun())?;
        if !empty_context(map.get("context")) {
            return Err(ctx.err(ctx.line_of("context:", line), CONTEXT_UNSUPPORTED));
        }
        let question = Question::parse(section, ctx, engine, map, line)?;
        for (perm, expected) in assertions(ctx, map, line)? {
            let perm = perm.as_str().unwrap_or_default();
            let pline = ctx.key_line(perm, line);
            known_member(ctx, engine, question.kind(), perm, pline)?;
            let expected = question.expected(ctx, perm, expected, pline)?;
            report.assertions += 1;
            let got = question.ask(engine, store, perm).await;
            if got != expected {
                report.failures.push(Failure {
                    file: ctx.file.to_owned(),
                    scenario: name.to_owned(),
                    asked: question.asked(perm),
                    expected,
                    got,
                });
            }
        }
    }
    Ok(())
}
