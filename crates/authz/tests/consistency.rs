//! On many random graphs, `check`, `lookup_resources` and `lookup_subjects` agree with each
//! other and with a brute-force oracle, with the cache on and off.

use std::collections::{BTreeSet, HashMap};

use authz::schema::Expr;
use authz::{Engine, MemoryStore, Object, Schema, Subject, Tuple, TupleCache};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SCHEMA: &str = r#"
entity user {}
entity group {
    relation member @user @group#member
    relation banned @user
    permission active = member not banned
}
entity folder {
    relation parent @folder
    relation owner @user
    relation viewer @user @group#member
    permission view = owner or viewer or parent.view
    permission edit = owner and view
}
entity doc {
    relation folder @folder
    relation owner @user
    relation editor @user @group#member
    relation blocked @user
    permission read = (owner or editor or folder.view) not blocked
    permission write = (owner or editor) and folder.view
    permission admin = owner or folder.edit
}
"#;

const SIZES: &[(&str, usize)] = &[("user", 6), ("group", 4), ("folder", 5), ("doc", 6)];

fn random_graph(rng: &mut StdRng) -> MemoryStore {
    let mut store = MemoryStore::new();
    let id = |k: &str, i: usize| format!("{k}{i}");
    let mut add = |text: String| {
        store.insert(text.parse::<Tuple>().unwrap());
    };
    let p = 0.18;
    for g in 0..4 {
        for u in 0..6 {
            if rng.gen_bool(p) {
                add(format!("group:{}#member@user:{}", id("g", g), id("u", u)));
            }
            if rng.gen_bool(0.1) {
                add(format!("group:{}#banned@user:{}", id("g", g), id("u", u)));
            }
        }
        for h in 0..4 {
            if rng.gen_bool(p) {
                add(format!(
                    "group:{}#member@group:{}#member",
                    id("g", g),
                    id("g", h)
                ));
            }
        }
    }
    for f in 0..5 {
        for h in 0..5 {
            if rng.gen_bool(p) {
                add(format!(
                    "folder:{}#parent@folder:{}",
                    id("f", f),
                    id("f", h)
                ));
            }
        }
        for u in 0..6 {
            for rel in ["owner", "viewer"] {
                if rng.gen_bool(p) {
                    add(format!("folder:{}#{rel}@user:{}", id("f", f), id("u", u)));
                }
            }
        }
        for g in 0..4 {
            if rng.gen_bool(p) {
                add(format!(
                    "folder:{}#viewer@group:{}#member",
                    id("f", f),
                    id("g", g)
                ));
            }
        }
    }
    for d in 0..6 {
        if rng.gen_bool(0.8) {
            add(format!(
                "doc:{}#folder@folder:{}",
                id("d", d),
                id("f", rng.gen_range(0..5))
            ));
        }
        for u in 0..6 {
            for rel in ["owner", "editor", "blocked"] {
                if rng.gen_bool(if rel == "blocked" { 0.1 } else { p }) {
                    add(format!("doc:{}#{rel}@user:{}", id("d", d), id("u", u)));
                }
            }
        }
        for g in 0..4 {
            if rng.gen_bool(p) {
                add(format!(
                    "doc:{}#editor@group:{}#member",
                    id("d", d),
                    id("g", g)
                ));
            }
        }
    }
    store
}

fn objects() -> Vec<Object> {
    let mut out = Vec::new();
    for (kind, n) in SIZES {
        let prefix = match *kind {
            "user" => "u",
            "group" => "g",
            "folder" => "f",
            _ => "d",
        };
        for i in 0..*n {
            out.push(Object::new(*kind, format!("{prefix}{i}")));
        }
    }
    out
}

type Sets = HashMap<(Object, String), BTreeSet<String>>;

/// Least fixed point by brute force: recompute every set from the others until none changes.
fn oracle(schema: &Schema, store: &MemoryStore) -> Sets {
    let mut sets: Sets = HashMap::new();
    let objects = objects();
    let tuples: Vec<&Tuple> = store.tuples().collect();
    loop {
        let mut changed = false;
        for o in &objects {
            let e = schema.entity(&o.kind).unwrap();
            for r in &e.relations {
                let mut set = BTreeSet::new();
                for t in tuples
                    .iter()
                    .filter(|t| t.object == *o && t.relation == r.name)
                {
                    match &t.subject.relation {
                        None if t.subject.kind == "user" => {
                            set.insert(t.subject.id.clone());
                        }
                        None => {}
                        Some(sr) => set.extend(
                            sets.get(&(t.subject.object(), sr.clone()))
                                .cloned()
                                .unwrap_or_default(),
                        ),
                    }
                }
                changed |= sets.insert((o.clone(), r.name.clone()), set.clone()) != Some(set);
            }
            for p in &e.permissions {
                let set = eval(&sets, &tuples, o, &p.expr);
                changed |= sets.insert((o.clone(), p.name.clone()), set.clone()) != Some(set);
            }
        }
        if !changed {
            return sets;
        }
    }
}

fn eval(sets: &Sets, tuples: &[&Tuple], o: &Object, expr: &Expr) -> BTreeSet<String> {
    match expr {
        Expr::Name(n) => sets
            .get(&(o.clone(), n.clone()))
            .cloned()
            .unwrap_or_default(),
        Expr::Arrow { via, target } => tuples
            .iter()
            .filter(|t| t.object == *o && &t.relation == via && t.subject.relation.is_none())
            .flat_map(|t| {
                sets.get(&(t.subject.object(), target.clone()))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect(),
        Expr::Or(a, b) => eval(sets, tuples, o, a)
            .union(&eval(sets, tuples, o, b))
            .cloned()
            .collect(),
        Expr::And(a, b) => eval(sets, tuples, o, a)
            .intersection(&eval(sets, tuples, o, b))
            .cloned()
            .collect(),
        Expr::Not(a, b) => eval(sets, tuples, o, a)
            .difference(&eval(sets, tuples, o, b))
            .cloned()
            .collect(),
    }
}

#[tokio::test]
async fn engine_agrees_with_the_oracle_on_random_graphs() {
    let schema = Schema::parse(SCHEMA).unwrap();
    let engine = Engine::new(schema.clone());
    let cache = TupleCache::new(100_000);
    let mut rng = StdRng::seed_from_u64(0x0574_2a7a);
    let mut compared = 0usize;
    for graph in 0..60i64 {
        let store = random_graph(&mut rng);
        let truth = oracle(&schema, &store);
        // Every graph is a new revision: the cache must forget the previous graph.
        let cached = cache.at(graph, &store);
        for o in objects().iter().filter(|o| o.kind != "user") {
            let e = schema.entity(&o.kind).unwrap();
            let names: Vec<String> = e
                .relations
                .iter()
                .map(|r| r.name.clone())
                .chain(e.permissions.iter().map(|p| p.name.clone()))
                .collect();
            for name in &names {
                let expected = &truth[&(o.clone(), name.clone())];
                let who = engine
                    .lookup_subjects(&store, o, name, "user", None)
                    .await
                    .unwrap();
                assert_eq!(&who, expected, "graph {graph}: lookup_subjects {o}#{name}");
                let who = engine
                    .lookup_subjects(&cached, o, name, "user", None)
                    .await
                    .unwrap();
                assert_eq!(
                    &who, expected,
                    "graph {graph}: cached lookup_subjects {o}#{name}"
                );
                for u in 0..6 {
                    let user = Subject::new("user", format!("u{u}"));
                    let want = expected.contains(&user.id);
                    let got = engine.check(&store, &user, name, o).await.unwrap();
                    assert_eq!(
                        got, want,
                        "graph {graph}: check {user} {name} {o}\n{store:?}"
                    );
                    let got = engine.check(&cached, &user, name, o).await.unwrap();
                    assert_eq!(got, want, "graph {graph}: cached check {user} {name} {o}");
                    let trace = engine.explain(&store, &user, name, o).await.unwrap();
                    assert_eq!(
                        trace.granted, want,
                        "graph {graph}: explain {user} {name} {o}"
                    );
                    compared += 1;
                }
            }
        }
        for (kind, _) in SIZES.iter().filter(|(k, _)| *k != "user") {
            let e = schema.entity(kind).unwrap();
            let names = e
                .relations
                .iter()
                .map(|r| r.name.clone())
                .chain(e.permissions.iter().map(|p| p.name.clone()));
            for name in names {
                for u in 0..6 {
                    let user = Subject::new("user", format!("u{u}"));
                    let expected: BTreeSet<String> = truth
                        .iter()
                        .filter(|((o, n), set)| {
                            o.kind == *kind && *n == name && set.contains(&user.id)
                        })
                        .map(|((o, _), _)| o.id.clone())
                        .collect();
                    let got = engine
                        .lookup_resources(&store, &user, &name, kind)
                        .await
                        .unwrap();
                    assert_eq!(
                        got, expected,
                        "graph {graph}: lookup_resources {user} {name} {kind}"
                    );
                    let got = engine
                        .lookup_resources(&cached, &user, &name, kind)
                        .await
                        .unwrap();
                    assert_eq!(
                        got, expected,
                        "graph {graph}: cached lookup_resources {user} {name} {kind}"
                    );
                }
            }
        }
    }
    assert!(compared > 10_000, "compared only {compared}");
}

#[tokio::test]
async fn usersets_as_subjects_agree_between_check_and_lookups() {
    let schema = Schema::parse(SCHEMA).unwrap();
    let engine = Engine::new(schema);
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20 {
        let store = random_graph(&mut rng);
        for g in 0..4 {
            let set = Subject::userset("group", format!("g{g}"), "member");
            for kind in ["folder", "doc"] {
                let perm = if kind == "folder" { "view" } else { "write" };
                let found = engine
                    .lookup_resources(&store, &set, perm, kind)
                    .await
                    .unwrap();
                let n = if kind == "folder" { 5 } else { 6 };
                for i in 0..n {
                    let o = Object::new(kind, format!("{}{i}", &kind[..1]));
                    let checked = engine.check(&store, &set, perm, &o).await.unwrap();
                    assert_eq!(found.contains(&o.id), checked, "{set} {perm} {o}");
                    let subjects = engine
                        .lookup_subjects(&store, &o, perm, "group", Some("member"))
                        .await
                        .unwrap();
                    assert_eq!(
                        subjects.contains(&set.id),
                        checked,
                        "{set} {perm} {o} subjects"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_cache_never_answers_from_before_a_newer_revision() {
    let engine = Engine::new(Schema::parse(SCHEMA).unwrap());
    let cache = TupleCache::new(1000);
    let alice = Subject::new("user", "alice");
    let doc = Object::new("doc", "d");
    let grant: Tuple = "doc:d#owner@user:alice".parse().unwrap();
    let mut store = MemoryStore::from_tuples([grant.clone()]);
    assert!(engine
        .check(&cache.at(1, &store), &alice, "read", &doc)
        .await
        .unwrap());
    assert!(!cache.is_empty());
    // The revoke commits as revision 2; a request that read revision 2 must see it even
    // though revision 1's answer is cached.
    store.remove(&grant);
    assert!(!engine
        .check(&cache.at(2, &store), &alice, "read", &doc)
        .await
        .unwrap());
    // A straggler still holding revision 1 reads through, and cannot put old data back.
    store.insert(grant.clone());
    assert!(engine
        .check(&cache.at(1, &store), &alice, "read", &doc)
        .await
        .unwrap());
    store.remove(&grant);
    assert!(!engine
        .check(&cache.at(2, &store), &alice, "read", &doc)
        .await
        .unwrap());
}
