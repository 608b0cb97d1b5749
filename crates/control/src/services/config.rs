//! Service configurations: JSON checked against the service's JSON Schema (errors name the
//! path of the bad field), stored compact, shown pretty, and diffed line by line.
//!
//! Everything here is bounded, because anyone who may edit a service chooses both the schema
//! and the input: `pattern`s run on a regex engine without backtracking (no backreferences or
//! look-around, so no catastrophic cases), schemas are capped in size, depth, node and pattern
//! count, and diffs stop at a line cap and a deadline. Callers on async threads run these
//! through [`blocking`], before taking any lock or transaction.

use std::time::{Duration, Instant};

use model::services::{DiffLine, MAX_CONFIG_BYTES};
use model::AppError;
use serde_json::Value;

/// Deepest nesting a schema may have.
pub const MAX_SCHEMA_DEPTH: usize = 32;
/// Most JSON values (objects, arrays, strings, ...) a schema may hold.
pub const MAX_SCHEMA_NODES: usize = 4096;
/// Most `pattern` and `patternProperties` regular expressions a schema may hold.
pub const MAX_SCHEMA_PATTERNS: usize = 64;
/// Largest compiled size of one pattern (the regex engine's own limit).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// Most lines either side of a diff may have.
pub const MAX_DIFF_LINES: usize = 2000;
/// How long a diff may search for the smallest change before it settles for a coarser one.
const DIFF_DEADLINE: Duration = Duration::from_millis(200);

/// Runs CPU-bound checking off the async worker threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| crate::internal("config check", e))?
}

/// Refuses schemas too big, deep or pattern-heavy to check in bounded time.
fn check_schema_shape(schema: &Value) -> Result<(), AppError> {
    let mut nodes = 0usize;
    let mut patterns = 0usize;
    let mut stack = vec![(schema, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        nodes += 1;
        if depth > MAX_SCHEMA_DEPTH {
            return Err(AppError::Invalid(format!(
                "Config schema: nested at most {MAX_SCHEMA_DEPTH} levels deep."
            )));
        }
        if nodes > MAX_SCHEMA_NODES {
            return Err(AppError::Invalid(format!(
                "Config schema: at most {MAX_SCHEMA_NODES} values."
            )));
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    match (k.as_str(), child) {
                        ("pattern", Value::String(_)) => patterns += 1,
                        ("patternProperties", Value::Object(p)) => patterns += p.len(),
                        _ => {}
                    }
                    stack.push((child, depth + 1));
                }
            }
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, depth + 1))),
            _ => {}
        }
        if patterns > MAX_SCHEMA_PATTERNS {
            return Err(AppError::Invalid(format!(
                "Config schema: at most {MAX_SCHEMA_PATTERNS} patterns."
            )));
        }
    }
    Ok(())
}

/// A validator whose patterns cannot backtrack.
fn validator(schema: &Value) -> Result<jsonschema::Validator, AppError> {
    check_schema_shape(schema)?;
    jsonschema::options()
        .with_pattern_options(
            jsonschema::PatternOptions::regex()
                .size_limit(PATTERN_SIZE_LIMIT)
                .dfa_size_limit(PATTERN_SIZE_LIMIT),
        )
        .build(schema)
        .map_err(|e| {
            AppError::Invalid(format!(
                "Config schema is not a valid JSON Schema at {}: {}.",
                where_(e.instance_path().as_str()),
                short(&e.to_string())
            ))
        })
}

/// Error text from the validator, cut to a readable length.
fn short(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// The schema of a service created without one: any JSON object.
fn default_schema() -> Value {
    serde_json::json!({ "type": "object" })
}

/// Parses and compiles a configuration schema; empty text means any JSON object.
pub fn parse_schema(text: &str) -> Result<Value, AppError> {
    if text.trim().is_empty() {
        return Ok(default_schema());
    }
    if text.len() > MAX_CONFIG_BYTES {
        return Err(AppError::Invalid(format!(
            "Config schema: at most {} KiB.",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    let schema: Value = serde_json::from_str(text).map_err(|e| {
        AppError::Invalid(format!(
            "Config schema is not valid JSON: line {}, column {}: {}.",
            e.line(),
            e.column(),
            bare(&e)
        ))
    })?;
    validator(&schema)?;
    Ok(schema)
}

/// Parses a configuration and checks it against `schema`; every failing field is named.
pub fn check_config(schema_text: &str, text: &str) -> Result<Value, AppError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(AppError::Invalid(format!(
            "Configuration: at most {} KiB.",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    let text = if text.trim().is_empty() { "{}" } else { text };
    let config: Value = serde_json::from_str(text).map_err(|e| {
        AppError::Invalid(format!(
            "Configuration is not valid JSON: line {}, column {}: {}.",
            e.line(),
            e.column(),
            bare(&e)
        ))
    })?;
    let schema = if schema_text.trim().is_empty() {
        default_schema()
    } else {
        serde_json::from_str(schema_text)
            .map_err(|_| AppError::Invalid("Config schema is not valid JSON.".into()))?
    };
    let validator = validator(&schema)?;
    let problems: Vec<String> = validator
        .iter_errors(&config)
        .take(5)
        .map(|e| {
            format!(
                "at {}: {}",
                where_(e.instance_path().as_str()),
                short(&e.to_string())
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(AppError::Invalid(format!(
            "Configuration does not match the schema: {}.",
            problems.join("; ")
        )))
    }
}

/// serde_json's message without its own " at line L column C" tail.
fn bare(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// A JSON pointer as people read it: `/port` stays, the root reads "the top level".
fn where_(pointer: &str) -> String {
    if pointer.is_empty() {
        "the top level".to_owned()
    } else {
        pointer.to_owned()
    }
}

/// The stored form: compact JSON.
pub fn compact(config: &Value) -> String {
    config.to_string()
}

/// The shown form: indented JSON (stored text that does not parse is shown as it is).
pub fn pretty(stored: &str) -> String {
    serde_json::from_str::<Value>(stored)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| stored.to_owned())
}

/// The line diff from `older` to `newer`, both stored forms, compared pretty-printed. Either
/// side longer than [`MAX_DIFF_LINES`] is refused with a message; the search for the smallest
/// diff stops at a deadline (the result is then correct but may show more lines changed).
pub fn diff(older: &str, newer: &str) -> Result<Vec<DiffLine>, AppError> {
    let (a, b) = (pretty(older), pretty(newer));
    let longest = a.lines().count().max(b.lines().count());
    if longest > MAX_DIFF_LINES {
        return Err(AppError::Invalid(format!(
            "These versions are too long to compare line by line ({longest} lines; at most \
             {MAX_DIFF_LINES}). Open each version to read it whole."
        )));
    }
    Ok(similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .deadline(Instant::now() + DIFF_DEADLINE)
        .diff_lines(&a, &b)
        .iter_all_changes()
        .map(|change| DiffLine {
            tag: match change.tag() {
                similar::ChangeTag::Equal => ' ',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Delete => '-',
            },
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{
        "type": "object",
        "properties": {
            "port": { "type": "integer", "minimum": 1, "maximum": 65535 },
            "greeting": { "type": "string" }
        },
        "required": ["port"]
    }"#;

    fn message(r: Result<Value, AppError>) -> String {
        match r {
            Err(AppError::Invalid(m)) => m,
            other => panic!("expected an invalid-input error, got {other:?}"),
        }
    }

    #[test]
    fn a_matching_config_passes() {
        let v = check_config(SCHEMA, r#"{"port": 8080, "greeting": "hi"}"#).unwrap();
        assert_eq!(v["port"], 8080);
    }

    #[test]
    fn errors_name_the_bad_field() {
        let m = message(check_config(SCHEMA, r#"{"port": "x"}"#));
        assert!(m.contains("at /port:"), "{m}");
        let m = message(check_config(SCHEMA, r#"{"port": 70000}"#));
        assert!(m.contains("/port") && m.contains("65535"), "{m}");
        let m = message(check_config(SCHEMA, r#"{"greeting": "hi"}"#));
        assert!(m.contains("the top level") && m.contains("port"), "{m}");
    }

    #[test]
    fn bad_json_says_where() {
        let m = message(check_config("", "{\n  \"a\": }"));
        assert!(
            m.starts_with("Configuration is not valid JSON: line 2, column"),
            "{m}"
        );
    }

    #[test]
    fn without_a_schema_any_object_passes_and_nothing_else() {
        assert!(check_config("", r#"{"anything": [1, 2]}"#).is_ok());
        assert!(check_config("", "").is_ok());
        let m = message(check_config("", "[1]"));
        assert!(m.contains("the top level"), "{m}");
    }

    #[test]
    fn a_bad_schema_is_refused() {
        assert!(matches!(parse_schema("{"), Err(AppError::Invalid(_))));
        assert!(matches!(
            parse_schema(r#"{"type": 12}"#),
            Err(AppError::Invalid(_))
        ));
    }

    #[test]
    fn backtracking_patterns_are_refused_at_once() {
        // A backreference needs a backtracking engine; this one has none, so the schema is
        // refused instead of run for hours.
        let evil = r#"{"type":"object","additionalProperties":{"allOf":[
            {"not":{"pattern":"^(a|a)*\\1$"}}]}}"#;
        let m = message(parse_schema(evil));
        assert!(
            m.starts_with("Config schema is not a valid JSON Schema"),
            "{m}"
        );
        let m = message(check_config(
            evil,
            r#"{"x":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}"#,
        ));
        assert!(
            m.starts_with("Config schema is not a valid JSON Schema"),
            "{m}"
        );
    }

    #[test]
    fn schemas_are_capped_in_depth_nodes_and_patterns() {
        let deep = format!("{}{{}}{}", r#"{"not":"#.repeat(40), "}".repeat(40));
        assert!(message(parse_schema(&deep)).contains("levels deep"));
        let many: Vec<String> = (0..65)
            .map(|i| format!(r#"{{"pattern":"^a{i}$"}}"#))
            .collect();
        let many = format!(r#"{{"anyOf":[{}]}}"#, many.join(","));
        assert!(message(parse_schema(&many)).contains("patterns"));
        let wide: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        let wide = format!(r#"{{"enum":[{}]}}"#, wide.join(","));
        assert!(message(parse_schema(&wide)).contains("values"));
        // A linear pattern still works.
        let ok = r#"{"type":"object","properties":{"h":{"type":"string","pattern":"^[a-z]+$"}}}"#;
        assert!(check_config(ok, r#"{"h":"abc"}"#).is_ok());
        assert!(check_config(ok, r#"{"h":"ABC"}"#).is_err());
    }

    #[test]
    fn long_diffs_are_refused_with_a_message() {
        let big = |tag: &str| {
            let fields: Vec<String> = (0..3000).map(|i| format!(r#""{tag}{i}":{i}"#)).collect();
            format!("{{{}}}", fields.join(","))
        };
        match diff(&big("a"), &big("b")) {
            Err(AppError::Invalid(m)) => assert!(m.contains("too long to compare"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Just under the cap, and different everywhere: the deadline bounds the search and
        // the result is still a complete diff.
        let near = |tag: &str| {
            let fields: Vec<String> = (0..1990).map(|i| format!(r#""{tag}{i}":{i}"#)).collect();
            format!("{{{}}}", fields.join(","))
        };
        let lines = diff(&near("a"), &near("b")).unwrap();
        assert_eq!(lines.iter().filter(|l| l.tag == '-').count(), 1990);
        assert_eq!(lines.iter().filter(|l| l.tag == '+').count(), 1990);
    }

    #[test]
    fn diffs_show_changed_lines() {
        let lines = diff(r#"{"a":1,"b":2}"#, r#"{"a":1,"b":3}"#).unwrap();
        assert!(lines
            .iter()
            .any(|l| l.tag == '-' && l.text.contains("\"b\": 2")));
        assert!(lines
            .iter()
            .any(|l| l.tag == '+' && l.text.contains("\"b\": 3")));
        assert!(lines
            .iter()
            .any(|l| l.tag == ' ' && l.text.contains("\"a\": 1")));
    }
}
