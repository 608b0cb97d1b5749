//! Explanations, depth limits and errors of the engine on small hand-made graphs.

use authz::{Engine, EvalError, MemoryStore, Object, Schema, Subject, Tuple};

const SCHEMA: &str = r#"
entity user {}
entity organization {
    relation owner @user
    relation member @user
}
entity vm {
    relation organization @organization
    relation owner @user
    permission read = owner or organization.member or organization.owner
}
entity chain {
    relation next @chain
    relation here @user
    permission reach = here or next.reach
}
"#;

fn store(tuples: &[&str]) -> MemoryStore {
    MemoryStore::from_tuples(tuples.iter().map(|t| t.parse::<Tuple>().unwrap()))
}

#[tokio::test]
async fn explain_shows_the_granting_chain() {
    let engine = Engine::new(Schema::parse(SCHEMA).unwrap());
    let s = store(&[
        "vm:1#organization@organization:acme",
        "organization:acme#member@user:bob",
    ]);
    let bob = Subject::new("user", "bob");
    let trace = engine
        .explain(&s, &bob, "read", &Object::new("vm", "1"))
        .await
        .unwrap();
    assert!(trace.granted);
    let path = trace.granting_path();
    assert_eq!(
        path[0],
        "vm:1#read = owner or organization.member or organization.owner"
    );
    assert!(
        path.contains(&"vm:1#organization → organization:acme"),
        "{path:?}"
    );
    assert_eq!(path.last(), Some(&"organization:acme#member@user:bob"));

    let carol = Subject::new("user", "carol");
    let trace = engine
        .explain(&s, &carol, "read", &Object::new("vm", "1"))
        .await
        .unwrap();
    assert!(!trace.granted);
    assert!(trace.granting_path().is_empty());
    let text = trace.to_string();
    assert!(text.contains("✗ vm:1#owner (relation)"), "{text}");
    assert!(text.contains("organization:acme#member@user:bob"), "{text}");
}

#[tokio::test]
async fn long_chains_hit_the_depth_limit_as_an_error() {
    let engine = Engine::new(Schema::parse(SCHEMA).unwrap()).with_max_depth(8);
    let mut tuples: Vec<String> = (0..20)
        .map(|i| format!("chain:c{i}#next@chain:c{}", i + 1))
        .collect();
    tuples.push("chain:c20#here@user:x".into());
    let refs: Vec<&str> = tuples.iter().map(String::as_str).collect();
    let s = store(&refs);
    let x = Subject::new("user", "x");
    let err = engine
        .check(&s, &x, "reach", &Object::new("chain", "c0"))
        .await
        .unwrap_err();
    assert_eq!(err, EvalError::DepthExceeded(8));
    // Within the limit the same walk succeeds.
    assert!(engine
        .check(&s, &x, "reach", &Object::new("chain", "c17"))
        .await
        .unwrap());
}

#[tokio::test]
async fn cycles_end_and_grant_nothing_extra() {
    let engine = Engine::new(Schema::parse(SCHEMA).unwrap());
    let s = store(&[
        "chain:a#next@chain:b",
        "chain:b#next@chain:a",
        "chain:b#here@user:x",
    ]);
    let x = Subject::new("user", "x");
    let y = Subject::new("user", "y");
    assert!(engine
        .check(&s, &x, "reach", &Object::new("chain", "a"))
        .await
        .unwrap());
    assert!(!engine
        .check(&s, &y, "reach", &Object::new("chain", "a"))
        .await
        .unwrap());
    let found = engine
        .lookup_resources(&s, &x, "reach", "chain")
        .await
        .unwrap();
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["a", "b"]);
}

#[tokio::test]
async fn unknown_names_are_errors_not_denials() {
    let engine = Engine::new(Schema::parse(SCHEMA).unwrap());
    let s = store(&[]);
    let x = Subject::new("user", "x");
    assert!(matches!(
        engine.check(&s, &x, "raed", &Object::new("vm", "1")).await,
        Err(EvalError::UnknownMember { .. })
    ));
    assert!(matches!(
        engine.lookup_resources(&s, &x, "read", "vmm").await,
        Err(EvalError::UnknownEntity(_))
    ));
}

#[tokio::test]
async fn a_cycle_under_not_is_an_error_never_a_grant() {
    let schema = Schema::parse(
        "entity user {}\nentity doc {\n relation parent @doc\n relation viewer @user\n permission view = viewer not parent.view\n}",
    )
    .unwrap();
    let engine = Engine::new(schema);
    let s = store(&["doc:a#parent@doc:a", "doc:a#viewer@user:x"]);
    let x = Subject::new("user", "x");
    let doc = Object::new("doc", "a");
    assert!(matches!(
        engine.check(&s, &x, "view", &doc).await,
        Err(EvalError::CycleUnderNegation(_))
    ));
    assert!(matches!(
        engine.lookup_subjects(&s, &doc, "view", "user", None).await,
        Err(EvalError::CycleUnderNegation(_))
    ));
    // Without the cycle the exclusion works as written.
    let s = store(&[
        "doc:b#parent@doc:c",
        "doc:b#viewer@user:x",
        "doc:c#viewer@user:x",
    ]);
    assert!(!engine
        .check(&s, &x, "view", &Object::new("doc", "b"))
        .await
        .unwrap());
    assert!(engine
        .check(&s, &x, "view", &Object::new("doc", "c"))
        .await
        .unwrap());
}

#[tokio::test]
async fn a_tuple_written_with_three_dots_is_stored_and_answered_as_without() {
    // Permify's engine tests write direct subjects as `type:id#...`.
    let plain = [
        "vm:1#organization@organization:acme",
        "vm:1#owner@user:alice",
        "vm:2#organization@organization:acme",
        "organization:acme#member@user:bob",
        "organization:acme#owner@user:carol",
        "chain:a#next@chain:b",
        "chain:b#next@chain:c",
        "chain:c#here@user:dave",
    ];
    let dotted: Vec<String> = plain.iter().map(|t| format!("{t}#...")).collect();
    let dotted: Vec<&str> = dotted.iter().map(String::as_str).collect();
    let (p, d) = (store(&plain), store(&dotted));
    let stored = |s: &MemoryStore| {
        let mut v: Vec<String> = s.tuples().map(ToString::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(stored(&p), stored(&d));
    assert!(stored(&d).iter().all(|t| !t.contains("...")));

    let engine = Engine::new(Schema::parse(SCHEMA).unwrap());
    let questions = [("vm", "read"), ("vm", "owner"), ("chain", "reach")];
    for who in ["alice", "bob", "carol", "dave", "erin"] {
        let plain_subject = Subject::new("user", who);
        let dotted_subject: Subject = format!("user:{who}#...").parse().unwrap();
        assert_eq!(plain_subject, dotted_subject);
        for (kind, perm) in questions {
            let a = engine
                .lookup_resources(&p, &plain_subject, perm, kind)
                .await
                .unwrap();
            let b = engine
                .lookup_resources(&d, &dotted_subject, perm, kind)
                .await
                .unwrap();
            assert_eq!(a, b, "{who} {perm} {kind}");
            for id in ["1", "2", "a", "b", "c"] {
                let object = Object::new(kind, id);
                let a = engine
                    .check(&p, &plain_subject, perm, &object)
                    .await
                    .unwrap();
                let b = engine
                    .check(&d, &dotted_subject, perm, &object)
                    .await
                    .unwrap();
                assert_eq!(a, b, "{who} {perm} {object}");
            }
        }
    }
    for (kind, perm, id) in [
        ("vm", "read", "1"),
        ("vm", "read", "2"),
        ("chain", "reach", "a"),
    ] {
        let object = Object::new(kind, id);
        let a = engine
            .lookup_subjects(&p, &object, perm, "user", None)
            .await
            .unwrap();
        let b = engine
            .lookup_subjects(&d, &object, perm, "user", Some("..."))
            .await
            .unwrap();
        assert!(!a.is_empty(), "{perm} {object}");
        assert_eq!(a, b, "{perm} {object}");
    }
}
