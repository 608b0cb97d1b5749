//! Service configurations: JSON checked against the service's JSON Schema (errors name the
//! path of the bad field), stored compact, shown pretty, and diffed line by line.

use model::services::{DiffLine, MAX_CONFIG_BYTES};
use model::AppError;
use serde_json::Value;

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
    jsonschema::validator_for(&schema).map_err(|e| {
        AppError::Invalid(format!(
            "Config schema is not a valid JSON Schema at {}: {e}.",
            where_(e.instance_path().as_str())
        ))
    })?;
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
    let schema = parse_schema(schema_text)?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| AppError::Invalid(format!("Config schema: {e}.")))?;
    let problems: Vec<String> = validator
        .iter_errors(&config)
        .take(5)
        .map(|e| format!("at {}: {e}", where_(e.instance_path().as_str())))
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

/// The line diff from `older` to `newer`, both stored forms, compared pretty-printed.
pub fn diff(older: &str, newer: &str) -> Vec<DiffLine> {
    let (a, b) = (pretty(older), pretty(newer));
    similar::TextDiff::from_lines(&a, &b)
        .iter_all_changes()
        .map(|change| DiffLine {
            tag: match change.tag() {
                similar::ChangeTag::Equal => ' ',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Delete => '-',
            },
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
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
    fn diffs_show_changed_lines() {
        let lines = diff(r#"{"a":1,"b":2}"#, r#"{"a":1,"b":3}"#);
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
