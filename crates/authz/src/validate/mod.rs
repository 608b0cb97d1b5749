//! Validation files in Permify's YAML shape, run against the engine with tuples in memory.
//!
//! A file has `schema` (the text, or a path to a `.perm` file next to it), `relationships`
//! (`entity:id#relation@subject:id[#relation]`), and `scenarios` with `checks`,
//! `entity_filters` and `subject_filters`. Anything of Permify's format the engine does not
//! support (`attributes`, `rule`, contextual tuples, another tenant) fails the file with its
//! line, never silently. As in Permify's published examples, an `attributes:` or `context:`
//! key with nothing under it is no use of attributes and is accepted, and a subject written
//! `type:id#...` is the subject itself.

mod scenario;

use std::fmt;
use std::path::Path;

use serde_yaml::{Mapping, Value};

use crate::{Engine, MemoryStore, Schema, Tuple};
use scenario::{run_section, Section};

/// Why a file could not be run at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct FileError {
    pub file: String,
    /// 1-based; 0 when the whole file is at fault.
    pub line: usize,
    pub message: String,
}

/// One assertion that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub file: String,
    pub scenario: String,
    pub asked: String,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FAIL {}: scenario {:?}: {}: expected {}, got {}",
            self.file, self.scenario, self.asked, self.expected, self.got
        )
    }
}

/// What running one file found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub assertions: usize,
    pub failures: Vec<Failure>,
}

/// Reads and runs one validation file.
pub async fn validate_file(path: &Path) -> Result<Report, FileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        file: name.clone(),
        line: 0,
        message: format!("cannot read the file: {e}"),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    validate_text(&name, &text, base).await
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    /// The first line at or after `from` that contains `needle` (1-based), or `from`.
    fn line_of(&self, needle: &str, from: usize) -> usize {
        self.text
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|(_, l)| l.contains(needle))
            .map(|(i, _)| i + 1)
            .unwrap_or(from)
    }

    /// The first line at or after `from` where `key` appears as a YAML key (`key:` at the
    /// start, after whitespace, `{`, `,` or a quote), or `from`.
    fn key_line(&self, key: &str, from: usize) -> usize {
        let is_key = |line: &str| {
            line.match_indices(key).any(|(i, _)| {
                let before = line[..i].chars().next_back();
                let after = &line[i + key.len()..];
                let after = after.strip_prefix(['"', '\'']).unwrap_or(after);
                matches!(
                    before,
                    None | Some(' ' | '\t' | '{' | ',' | '"' | '\'' | '-')
                ) && after.trim_start().starts_with(':')
            })
        };
        self.text
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|(_, l)| is_key(l))
            .map(|(i, _)| i + 1)
            .unwrap_or(from)
    }

    fn err(&self, line: usize, message: impl Into<String>) -> FileError {
        FileError {
            file: self.file.to_owned(),
            line,
            message: message.into(),
        }
    }

    fn unsupported_keys(
        &self,
        map: &Mapping,
        allowed: &[&str],
        at: usize,
        what: &str,
    ) -> Result<(), FileError> {
        for key in map.keys() {
            let k = key.as_str().unwrap_or_default();
            if allowed.contains(&k) {
                continue;
            }
            let line = self.key_line(k, at);
            let message = match k {
                "attributes" => ATTRIBUTES_UNSUPPORTED.to_owned(),
                "context" => CONTEXT_UNSUPPORTED.to_owned(),
                _ => format!(
                    "unknown key `{k}` in {what}; expected one of: {}",
                    allowed.join(", ")
                ),
            };
            return Err(self.err(line, message));
        }
        Ok(())
    }
}

fn as_map<'v>(
    ctx: &Ctx<'_>,
    v: &'v Value,
    what: &str,
    line: usize,
) -> Result<&'v Mapping, FileError> {
    v.as_mapping()
        .ok_or_else(|| ctx.err(line, format!("{what} must be a mapping of keys to values")))
}

fn as_list<'v>(
    ctx: &Ctx<'_>,
    v: &'v Value,
    what: &str,
    line: usize,
) -> Result<&'v [Value], FileError> {
    match v {
        Value::Sequence(s) => Ok(s.as_slice()),
        Value::Null => Ok(&[]),
        _ => Err(ctx.err(line, format!("{what} must be a list"))),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

const ATTRIBUTES_UNSUPPORTED: &str =
    "`attributes` (attribute-based access) is not supported by Strata's engine";
const CONTEXT_UNSUPPORTED: &str =
    "contextual tuples and attributes (`context`) are not supported by Strata's engine";

/// A key with nothing under it: `key:`, `key: ~`, `key: []` or `key: {}`.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => m.is_empty(),
        _ => false,
    }
}

/// Context is unsupported unless it is absent or empty: `context:` alone, or `tuples`,
/// `attributes` and `data` with nothing under them.
fn empty_context(v: Option<&Value>) -> bool {
    match v {
        None => true,
        Some(Value::Mapping(m)) => m.values().all(is_empty),
        Some(v) => is_empty(v),
    }
}

/// Runs a validation file's text; `base` resolves a schema given as a path.
pub async fn validate_text(file: &str, text: &str, base: &Path) -> Result<Report, FileError> {
    let ctx = Ctx { file, text };
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        ctx.err(line, format!("not valid YAML: {e}"))
    })?;
    let top = as_map(&ctx, &doc, "the file", 1)?;
    ctx.unsupported_keys(
        top,
        &[
            "schema",
            "relationships",
            "attributes",
            "scenarios",
            "tenant_id",
        ],
        1,
        "the file",
    )?;
    // Permify's examples write `attributes:` with nothing under it; only values are ABAC.
    if !top.get("attributes").is_none_or(is_empty) {
        return Err(ctx.err(ctx.key_line("attributes", 1), ATTRIBUTES_UNSUPPORTED));
    }
    if let Some(t) = top.get("tenant_id") {
        let tenant = scalar(t).unwrap_or_default();
        if tenant != "t1" {
            return Err(ctx.err(
                ctx.line_of("tenant_id:", 1),
                format!("tenant `{tenant}` is not supported: Strata has one tenant, `t1`"),
            ));
        }
    }

    let engine = load_schema(&ctx, top, base)?;
    let store = load_relationships(&ctx, top, &engine)?;

    // Scenarios.
    let mut report = Report::default();
    let sc_line = ctx.line_of("scenarios:", 1);
    let mut sc_cursor = sc_line;
    for sc in as_list(
        &ctx,
        top.get("scenarios").unwrap_or(&Value::Null),
        "`scenarios`",
        sc_line,
    )? {
        let map = as_map(&ctx, sc, "a scenario", sc_line)?;
        let name = map.get("name").and_then(scalar).unwrap_or_default();
        let at = if name.is_empty() {
            ctx.key_line("name", sc_cursor + 1)
        } else {
            ctx.line_of(&name, sc_cursor + 1)
        };
        sc_cursor = at;
        ctx.unsupported_keys(
            map,
            &[
                "name",
                "description",
                "checks",
                "entity_filters",
                "subject_filters",
            ],
            at,
            "a scenario",
        )?;
        for section in Section::ALL {
            run_section(&ctx, &engine, &store, map, section, &name, at, &mut report).await?;
        }
    }
    Ok(report)
}

/// The file's `schema`: inline text, or a path relative to the file; errors point at the line.
fn load_schema(ctx: &Ctx<'_>, top: &Mapping, base: &Path) -> Result<Engine, FileError> {
    let schema_line = ctx.line_of("schema:", 1);
    let schema_value = top.get("schema").and_then(Value::as_str).ok_or_else(|| {
        ctx.err(
            0,
            "`schema` is missing (the schema text, or a path to a .perm file)",
        )
    })?;
    let (schema_text, schema_origin) =
        if !schema_value.contains('{') && !schema_value.trim().is_empty() {
            let path = base.join(schema_value.trim());
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ctx.err(
                    schema_line,
                    format!("cannot read schema file {}: {e}", path.display()),
                )
            })?;
            (text, Some(path))
        } else {
            (schema_value.to_owned(), None)
        };
    let schema = Schema::parse(&schema_text).map_err(|e| match &schema_origin {
        Some(path) => ctx.err(schema_line, format!("schema {}: {e}", path.display())),
        // Inline schema: point at the line inside the YAML file.
        None => {
            let first = schema_text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default();
            let start = ctx.line_of(first.trim(), schema_line);
            let offset = schema_text
                .lines()
                .position(|l| !l.trim().is_empty())
                .unwrap_or(0);
            ctx.err(
                start + e.pos.line.saturating_sub(1 + offset),
                format!("schema: {}", e.message),
            )
        }
    })?;
    Ok(Engine::new(schema))
}

/// The file's `relationships`, each checked against the schema.
fn load_relationships(
    ctx: &Ctx<'_>,
    top: &Mapping,
    engine: &Engine,
) -> Result<MemoryStore, FileError> {
    let mut store = MemoryStore::new();
    let rel_line = ctx.line_of("relationships:", 1);
    // Each item is looked for after the previous one, so repeated text points at its own line.
    let mut cursor = rel_line;
    for r in as_list(
        ctx,
        top.get("relationships").unwrap_or(&Value::Null),
        "`relationships`",
        rel_line,
    )? {
        let text =
            scalar(r).ok_or_else(|| ctx.err(rel_line, "each relationship must be a string"))?;
        let line = ctx.line_of(&text, cursor + 1);
        cursor = line;
        let tuple: Tuple = text.parse().map_err(|e| ctx.err(line, format!("{e}")))?;
        engine
            .schema()
            .check_tuple(&tuple)
            .map_err(|m| ctx.err(line, format!("`{text}`: {m}")))?;
        store.insert(tuple);
    }

    Ok(store)
}
