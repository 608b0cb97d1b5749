//! `strata authz`: validation files through the real binary (the project's own file passes, a
//! flipped assertion and a malformed file fail with exit 1), and read-only questions against
//! an installation's database.

use std::path::PathBuf;

use chrono::Utc;
use control::testing::{caller, TestDb};

use crate::common::{acme, strata};

fn project_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/control/schema/strata.validation.yaml")
}

#[test]
fn the_project_schema_passes_its_validation_file() {
    let (ok, out) = strata(&["authz", "validate", project_file().to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains(" assertions, 0 failed"), "{out}");
}

#[test]
fn a_flipped_assertion_or_a_broken_file_fails_with_a_message() {
    let dir = std::env::temp_dir().join(format!("strata-authz-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = project_file().parent().unwrap().join("strata.perm");
    let original = std::fs::read_to_string(project_file()).unwrap();
    let flipped = original
        .replace(
            "schema: strata.perm",
            &format!("schema: {}", schema.display()),
        )
        .replace(
            "assertions: { read: false, start: false, console: false, delete: false }",
            "assertions: { read: true, start: false, console: false, delete: false }",
        );
    assert_ne!(flipped, original);
    std::fs::write(dir.join("flipped.yaml"), flipped).unwrap();
    std::fs::write(
        dir.join("broken.yaml"),
        "schema: |-\n  entity user {}\nrelationships:\n  - user:a#friend@user:b\n",
    )
    .unwrap();
    let (ok, out) = strata(&[
        "authz",
        "validate",
        dir.join("flipped.yaml").to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("check user:stranger read vm:web: expected true, got false"),
        "{out}"
    );
    assert!(out.contains(", 1 failed"), "{out}");
    let (ok, out) = strata(&[
        "authz",
        "validate",
        dir.join("broken.yaml").to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "broken.yaml:4: `user:a#friend@user:b`: entity `user` has no relation `friend`"
        ),
        "{out}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn operators_can_ask_about_real_grants_without_changing_anything() {
    let db = TestDb::new().await;
    let control = db.control().await;
    let now = Utc::now();
    let owner = caller(&control, "olga", false).await;
    let _member = caller(&control, "mike", false).await;
    let _stranger = caller(&control, "sven", false).await;
    let acme = acme(&control, &owner, &["mike"], now).await;
    let url = db.url.clone();
    let vm_ref = format!("vm:{}", acme.vm);
    let ask = |args: &[&str]| {
        let mut all = vec!["authz"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--database-url", &url]);
        strata(&all)
    };
    assert_eq!(
        ask(&["check", "user:mike", "start", &vm_ref]),
        (true, "allowed\n".into())
    );
    assert_eq!(
        ask(&["check", "user:mike", "delete", &vm_ref]),
        (true, "denied\n".into())
    );
    let (ok, out) = ask(&["lookup-resources", "user:mike", "read", "vm"]);
    assert!(
        ok && out.contains("(web)") && out.contains("(1 found)"),
        "{out}"
    );
    let (ok, out) = ask(&["lookup-subjects", "organization:acme", "view", "user"]);
    assert!(
        ok && out.contains("(olga)") && out.contains("(mike)") && out.contains("(2 found)"),
        "{out}"
    );
    let (ok, out) = ask(&["explain", "user:sven", "read", &vm_ref]);
    assert!(
        ok && out.ends_with("denied\n") && out.contains("✗"),
        "{out}"
    );
    let (ok, out) = ask(&["check", "user:nobody", "read", &vm_ref]);
    assert!(!ok && out.contains("no user called `nobody`"), "{out}");
    let (ok, out) = ask(&["check", "user:mike", "fly", &vm_ref]);
    assert!(
        !ok && out.contains("has no relation or permission `fly`"),
        "{out}"
    );
}
