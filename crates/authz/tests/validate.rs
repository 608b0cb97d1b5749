//! Validation files: the shipped examples and the Permify-format files under `tests/permify`
//! pass, flipping any one assertion fails exactly that one, and malformed files give a clear
//! message with a line, never a panic.

use std::path::{Path, PathBuf};

use authz::validate::{validate_file, validate_text, FileError};
use serde_yaml::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation")
}

const FILES: &[&str] = &["operators.yaml", "recursion.yaml"];

/// Files written the way Permify's own examples and engine tests are: an empty `attributes:`
/// key, empty `context:` keys, and subjects written `type:id#...`.
fn permify_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/permify")
}

/// Every `.yaml` file under `tests/permify`, by name.
fn permify_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(permify_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

/// Every example file: its directory and name.
fn all_files() -> Vec<(PathBuf, String)> {
    FILES
        .iter()
        .map(|f| (dir(), (*f).to_owned()))
        .chain(permify_files().into_iter().map(|f| (permify_dir(), f)))
        .collect()
}

#[tokio::test]
async fn the_example_files_pass() {
    for (dir, f) in all_files() {
        let report = validate_file(&dir.join(&f)).await.unwrap();
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
    for (dir, f) in all_files() {
        let text = std::fs::read_to_string(dir.join(&f)).unwrap();
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        let variants = mutations(&doc);
        assert!(variants.len() >= 10, "{f}");
        for (i, v) in variants.iter().enumerate() {
            let flipped = serde_yaml::to_string(v).unwrap();
            let report = validate_text(&f, &flipped, &dir).await.unwrap();
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

#[tokio::test]
async fn the_permify_files_use_what_permify_writes() {
    let files = permify_files();
    assert!(files.len() >= 3, "{files:?}");
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(permify_dir().join(f)).unwrap())
        .collect();
    for (f, text) in files.iter().zip(&texts) {
        let doc: Value = serde_yaml::from_str(text).unwrap();
        assert!(
            doc["attributes"].is_null(),
            "{f}: an empty `attributes:` key"
        );
        assert!(
            text.contains("#...\n") || text.contains("#...\""),
            "{f}: a `#...` subject"
        );
    }
    let all = texts.concat();
    for form in [
        "context:\n",
        "context: {}",
        "tuples: []",
        "attributes: []",
        "data:",
    ] {
        assert!(
            all.contains(form),
            "no file has an empty context as `{form}`"
        );
    }
}

const READ_CHECK: &str =
    "scenarios:\n  - name: s\n    checks:\n      - entity: doc:1\n        subject: user:a\n";

#[tokio::test]
async fn empty_attributes_and_context_keys_are_accepted() {
    for attributes in ["attributes:\n", "attributes: []\n", "attributes: ~\n", ""] {
        for context in [
            "",
            "        context:\n",
            "        context: {}\n",
            "        context:\n          tuples: []\n          attributes: []\n",
            "        context:\n          tuples:\n          attributes:\n          data:\n",
            "        context:\n          tuples: []\n          attributes: []\n          data: {}\n",
        ] {
            let text = format!(
                "{SCHEMA}relationships:\n  - doc:1#owner@user:a\n{attributes}{READ_CHECK}{context}        assertions:\n          read: true\n"
            );
            let report = validate_text("empty.yaml", &text, &dir())
                .await
                .unwrap_or_else(|e| panic!("{text}\n=> {e}"));
            assert_eq!(
                (report.assertions, report.failures.len()),
                (1, 0),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn non_empty_attributes_and_context_are_still_refused() {
    let cases: Vec<(String, usize, &str)> = vec![
        (
            format!("{SCHEMA}relationships:\n  - doc:1#owner@user:a\n\nattributes:\n  - doc:1$public|boolean:true\n\nscenarios:\n"),
            10,
            "`attributes` (attribute-based access) is not supported",
        ),
        (
            format!("{SCHEMA}attributes: [\"doc:1$public|boolean:true\"]\n"),
            7,
            "`attributes` (attribute-based access) is not supported",
        ),
        (
            format!("{SCHEMA}{READ_CHECK}        context:\n          attributes: [\"doc:1$public|boolean:true\"]\n        assertions:\n          read: true\n"),
            12,
            "(`context`) are not supported",
        ),
        (
            format!("{SCHEMA}{READ_CHECK}        context:\n          data:\n            ip: 10.0.0.1\n        assertions:\n          read: true\n"),
            12,
            "(`context`) are not supported",
        ),
        (
            format!("{SCHEMA}scenarios:\n  - name: s\n    entity_filters:\n      - entity_type: doc\n        subject: user:a\n        context:\n          tuples: [\"doc:1#owner@user:a\"]\n        assertions:\n          read: [\"1\"]\n"),
            12,
            "(`context`) are not supported",
        ),
    ];
    for (text, line, needle) in cases {
        let e = error_of(&text).await;
        assert!(e.message.contains(needle), "{text}\n=> {e}");
        assert_eq!(e.line, line, "{text}\n=> {e}");
    }
}

#[tokio::test]
async fn a_subject_relation_of_three_dots_is_the_subject_itself() {
    // `@user:a#...` is `@user:a`: written, checked, filtered and looked up the same way.
    let plain = format!(
        "{SCHEMA}relationships:\n  - doc:1#owner@user:a\n  - doc:2#owner@user:b\n{READ_CHECK}        assertions:\n          read: true\n          owner: true\n    entity_filters:\n      - entity_type: doc\n        subject: user:a\n        assertions:\n          read: [\"1\"]\n    subject_filters:\n      - subject_reference: user\n        entity: doc:2\n        assertions:\n          read: [\"b\"]\n"
    );
    let dotted = plain
        .replace("@user:a\n", "@user:a#...\n")
        .replace("@user:b\n", "@user:b#...\n")
        .replace("subject: user:a\n", "subject: user:a#...\n")
        .replace("subject_reference: user\n", "subject_reference: user#...\n");
    assert_eq!(dotted.matches("#...").count(), 5, "{dotted}");
    for text in [&plain, &dotted] {
        let report = validate_text("dots.yaml", text, &dir())
            .await
            .unwrap_or_else(|e| panic!("{text}\n=> {e}"));
        assert_eq!(
            (report.assertions, report.failures.len()),
            (4, 0),
            "{text}\n{:#?}",
            report.failures
        );
    }
    // Only exactly three dots: anything else is still not a relation name.
    for bad in [
        "doc:1#owner@user:a#..",
        "doc:1#owner@user:a#....",
        "doc:1#...@user:a",
    ] {
        let e = error_of(&format!("{SCHEMA}relationships:\n  - {bad}\n")).await;
        assert_eq!(e.line, 8, "{bad}: {e}");
        assert!(e.message.contains("is not a relationship"), "{bad}: {e}");
    }
}
