//! Validation files: the shipped examples pass, flipping any one assertion fails exactly that
//! one, and malformed files give a clear message with a line, never a panic.

use std::path::{Path, PathBuf};

use authz::validate::{validate_file, validate_text, FileError};
use serde_yaml::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation")
}

const FILES: &[&str] = &["operators.yaml", "recursion.yaml"];

#[tokio::test]
async fn the_example_files_pass() {
    for f in FILES {
        let report = validate_file(&dir().join(f)).await.unwrap();
        assert!(report.failures.is_empty(), "{f}: {:#?}", report.failures);
        assert!(
            report.assertions >= 10,
            "{f}: only {} assertions",
            report.assertions
        );
    }
}

/// Every assertion in a file, as a path to flip.
fn mutations(doc: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let scenarios = doc["scenarios"].as_sequence().unwrap();
    for (si, sc) in scenarios.iter().enumerate() {
        for section in ["checks", "entity_filters", "subject_filters"] {
            let Some(items) = sc.get(section).and_then(Value::as_sequence) else {
                continue;
            };
            for (ii, item) in items.iter().enumerate() {
                for key in item["assertions"].as_mapping().unwrap().keys() {
                    let mut copy = doc.clone();
                    let slot = &mut copy["scenarios"][si][section][ii]["assertions"][key.clone()];
                    *slot = match slot.clone() {
                        Value::Bool(b) => Value::Bool(!b),
                        Value::Sequence(mut ids) => {
                            if ids.is_empty() {
                                ids.push(Value::String("nobody".into()));
                            } else {
                                ids.pop();
                            }
                            Value::Sequence(ids)
                        }
                        other => panic!("unexpected assertion {other:?}"),
                    };
                    out.push(copy);
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn flipping_any_one_assertion_fails_exactly_that_one() {
    for f in FILES {
        let text = std::fs::read_to_string(dir().join(f)).unwrap();
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        let variants = mutations(&doc);
        assert!(variants.len() >= 10, "{f}");
        for (i, v) in variants.iter().enumerate() {
            let flipped = serde_yaml::to_string(v).unwrap();
            let report = validate_text(f, &flipped, &dir()).await.unwrap();
            assert_eq!(
                report.failures.len(),
                1,
                "{f} variant {i}: {:#?}",
                report.failures
            );
            let line = report.failures[0].to_string();
            assert!(line.starts_with(&format!("FAIL {f}: scenario ")), "{line}");
            assert!(line.contains("expected") && line.contains("got"), "{line}");
        }
    }
}

async fn error_of(text: &str) -> FileError {
    validate_text("bad.yaml", text, &dir()).await.unwrap_err()
}

const SCHEMA: &str = "schema: |-\n  entity user {}\n  entity doc {\n      relation owner @user\n      permission read = owner\n  }\n";

#[tokio::test]
async fn malformed_files_say_where_and_what() {
    let cases: Vec<(String, usize, &str)> = vec![
        ("schema: [unclosed\n".into(), 2, "not valid YAML"),
        (format!("{SCHEMA}relationships:\n  - doc:1#owner\n"), 8, "no `@`"),
        (format!("{SCHEMA}relationships:\n  - folder:1#owner@user:a\n"), 8, "unknown entity type `folder`"),
        (format!("{SCHEMA}relationships:\n  - doc:1#writer@user:a\n"), 8, "has no relation `writer`"),
        (format!("{SCHEMA}relationships:\n  - doc:1#read@user:a\n"), 8, "is a permission"),
        (format!("{SCHEMA}relationships:\n  - doc:1#owner@doc:2\n"), 8, "accepts @user, not @doc"),
        (
            format!("{SCHEMA}scenarios:\n  - name: s\n    checks:\n      - entity: doc:1\n        subject: user:a\n        assertions:\n          write: true\n"),
            13,
            "no permission or relation `write`",
        ),
        (format!("{SCHEMA}attributes:\n  - doc:1$public|boolean:true\n"), 7, "`attributes`"),
        (
            format!("{SCHEMA}scenarios:\n  - name: s\n    checks:\n      - entity: doc:1\n        subject: user:a\n        context:\n          tuples: [\"doc:1#owner@user:a\"]\n        assertions:\n          read: true\n"),
            12,
            "`context`",
        ),
        ("tenant_id: acme\nschema: \"entity user {}\"\n".into(), 1, "tenant `acme`"),
        ("schema: |-\n  entity user {}\n  entity doc {\n      relation owner @usr\n  }\n".into(), 4, "unknown entity `usr`"),
        ("schema: |-\n  entity user {}\n  rule public(x boolean) {\n  x\n  }\n".into(), 3, "`rule`"),
        ("relationships: []\n".into(), 0, "`schema` is missing"),
        (format!("{SCHEMA}scenarioz: []\n"), 7, "unknown key `scenarioz`"),
        ("schema: missing.perm\n".into(), 1, "cannot read schema file"),
        // Repeated entities and keys point at their own occurrence.
        (
            format!("{SCHEMA}relationships:\n  - doc:1#owner@user:a\n  - doc:1#owner@user:a\n  - doc:1#owner@user:a#x\n"),
            10,
            "`doc:1#owner@user:a#x`",
        ),
        (
            format!("{SCHEMA}scenarios:\n  - name: s\n    checks:\n      - entity: doc:1\n        subject: user:a\n        assertions:\n          owner: true\n      - entity: doc:1\n        subject: user:b\n        assertions: {{ reader: true }}\n"),
            16,
            "no permission or relation `reader`",
        ),
    ];
    for (text, line, needle) in cases {
        let e = error_of(&text).await;
        assert!(e.message.contains(needle), "{text}\n=> {e}");
        assert_eq!(e.line, line, "{text}\n=> {e}");
        assert!(e.to_string().starts_with("bad.yaml:"), "{e}");
    }
}

#[tokio::test]
async fn a_schema_may_be_a_path_next_to_the_file() {
    let tmp = std::env::temp_dir().join(format!("strata-validate-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(
        tmp.join("s.perm"),
        "entity user {}\nentity doc { relation owner @user }\n",
    )
    .unwrap();
    let file = tmp.join("v.yaml");
    std::fs::write(
        &file,
        "schema: s.perm\nrelationships:\n  - doc:1#owner@user:a\nscenarios:\n  - name: s\n    checks:\n      - entity: doc:1\n        subject: user:a\n        assertions:\n          owner: true\n",
    )
    .unwrap();
    let report = validate_file(&file).await.unwrap();
    assert_eq!((report.assertions, report.failures.len()), (1, 0));
    std::fs::remove_dir_all(tmp).unwrap();
}
