//! Printing results: aligned columns for people, JSON for scripts.

use serde_json::Value;

use super::args::Output;

/// Prints `rows` under `headers` as columns, or `json` as JSON.
pub fn table(output: Output, headers: &[&str], rows: &[Vec<String>], json: &Value) {
    if output == Output::Json {
        println!("{}", serde_json::to_string_pretty(json).unwrap_or_default());
        return;
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Prints `pairs` as `key: value` lines, or `json` as JSON.
pub fn record(output: Output, pairs: &[(&str, String)], json: &Value) {
    if output == Output::Json {
        println!("{}", serde_json::to_string_pretty(json).unwrap_or_default());
        return;
    }
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        println!("{:<width$}  {v}", format!("{k}:"), width = width + 1);
    }
}

/// A JSON value as a cell: strings bare, null as `-`.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
