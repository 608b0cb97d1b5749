//! Compiling parsed entities into a [`Schema`]: names declared, subject types resolved,
//! permission expressions checked, self-reference refused, and the reverse edges lookups walk.

use std::collections::{HashMap, HashSet};

use super::parser::{EntityAst, ExprAst, MemberAst};
use super::*;

pub(super) fn compile(ast: Vec<EntityAst>) -> Result<Schema, SchemaError> {
    let mut by_name = HashMap::new();
    for (i, e) in ast.iter().enumerate() {
        if by_name.insert(e.name.clone(), i).is_some() {
            return Err(SchemaError::at(
                e.pos,
                format!("entity `{}` is defined twice", e.name),
            ));
        }
    }
    // Members first, so expressions can refer to names defined later in the file.
    let mut entities = declare_members(&ast)?;
    resolve_subjects(&ast, &mut entities, &by_name)?;
    compile_permissions(&ast, &mut entities, &by_name)?;
    check_self_reference(&ast, &entities)?;
    let reverse = reverse_edges(&entities, &by_name);
    Ok(Schema {
        entities,
        by_name,
        reverse,
    })
}

/// Every entity's relations and permissions by name (permissions not compiled yet).
fn declare_members(ast: &[EntityAst]) -> Result<Vec<EntityDef>, SchemaError> {
    let mut entities = Vec::with_capacity(ast.len());
    for e in ast {
        let mut members = HashMap::new();
        let mut relations = Vec::new();
        let mut permissions = Vec::new();
        for m in &e.members {
            let (name, pos, member) = match m {
                MemberAst::Relation { name, pos, .. } => {
                    (name, pos, Member::Relation(relations.len()))
                }
                MemberAst::Permission { name, pos, .. } => {
                    (name, pos, Member::Permission(permissions.len()))
                }
            };
            if members.insert(name.clone(), member).is_some() {
                return Err(SchemaError::at(
                    *pos,
                    format!("`{name}` is defined twice in entity `{}`", e.name),
                ));
            }
            match m {
                MemberAst::Relation { name, .. } => relations.push(RelationDef {
                    name: name.clone(),
                    subjects: Vec::new(),
                }),
                MemberAst::Permission { name, .. } => permissions.push(PermissionDef {
                    name: name.clone(),
                    expr: Expr::Name(String::new()),
                }),
            }
        }
        entities.push(EntityDef {
            name: e.name.clone(),
            relations,
            permissions,
            members,
        });
    }
    Ok(entities)
}

/// Each relation's subject types, checked against the entities they name.
fn resolve_subjects(
    ast: &[EntityAst],
    entities: &mut [EntityDef],
    by_name: &HashMap<String, usize>,
) -> Result<(), SchemaError> {
    for (ei, e) in ast.iter().enumerate() {
        for m in &e.members {
            let MemberAst::Relation { name, subjects, .. } = m else {
                continue;
            };
            let mut out = Vec::new();
            for (kind, rel, pos) in subjects {
                let Some(target) = by_name.get(kind).and_then(|i| entities.get(*i)) else {
                    return Err(SchemaError::at(
                        *pos,
                        format!(
                            "relation `{name}` of `{}` names unknown entity `{kind}`",
                            e.name
                        ),
                    ));
                };
                if let Some(r) = rel {
                    if target.member(r).is_none() {
                        return Err(SchemaError::at(
                            *pos,
                            format!("entity `{kind}` has no relation or permission `{r}`"),
                        ));
                    }
                }
                out.push(SubjectType {
                    kind: kind.clone(),
                    relation: rel.clone(),
                });
            }
            if let Some(Member::Relation(ri)) = entities[ei].member(name) {
                entities[ei].relations[ri].subjects = out;
            }
        }
    }
    Ok(())
}

/// Each permission's expression, compiled against every entity's members.
fn compile_permissions(
    ast: &[EntityAst],
    entities: &mut [EntityDef],
    by_name: &HashMap<String, usize>,
) -> Result<(), SchemaError> {
    for (ei, e) in ast.iter().enumerate() {
        for m in &e.members {
            let MemberAst::Permission { name, expr, .. } = m else {
                continue;
            };
            let compiled = compile_expr(entities, by_name, &entities[ei], expr)?;
            if let Some(Member::Permission(pi)) = entities[ei].member(name) {
                entities[ei].permissions[pi].expr = compiled;
            }
        }
    }
    Ok(())
}

fn compile_expr(
    entities: &[EntityDef],
    by_name: &HashMap<String, usize>,
    here: &EntityDef,
    expr: &ExprAst,
) -> Result<Expr, SchemaError> {
    let both = |a: &ExprAst, b: &ExprAst| -> Result<(Box<Expr>, Box<Expr>), SchemaError> {
        Ok((
            Box::new(compile_expr(entities, by_name, here, a)?),
            Box::new(compile_expr(entities, by_name, here, b)?),
        ))
    };
    Ok(match expr {
        ExprAst::Name(n, pos) => {
            if here.member(n).is_none() {
                return Err(SchemaError::at(
                    *pos,
                    format!("entity `{}` has no relation or permission `{n}`", here.name),
                ));
            }
            Expr::Name(n.clone())
        }
        ExprAst::Arrow(via, target, pos) => {
            let Some(rel) = here.relation(via) else {
                return Err(SchemaError::at(
                    *pos,
                    format!(
                        "`{via}.{target}`: entity `{}` has no relation `{via}` (an arrow starts from a relation)",
                        here.name
                    ),
                ));
            };
            let direct: Vec<&SubjectType> = rel
                .subjects
                .iter()
                .filter(|s| s.relation.is_none())
                .collect();
            if direct.is_empty() {
                return Err(SchemaError::at(
                    *pos,
                    format!("`{via}.{target}`: relation `{via}` holds no plain objects to follow"),
                ));
            }
            for s in direct {
                let has = by_name
                    .get(&s.kind)
                    .and_then(|i| entities.get(*i))
                    .is_some_and(|t| t.member(target).is_some());
                if !has {
                    return Err(SchemaError::at(
                        *pos,
                        format!(
                            "`{via}.{target}`: entity `{}` has no relation or permission `{target}`",
                            s.kind
                        ),
                    ));
                }
            }
            Expr::Arrow {
                via: via.clone(),
                target: target.clone(),
            }
        }
        ExprAst::Or(a, b) => {
            let (a, b) = both(a, b)?;
            Expr::Or(a, b)
        }
        ExprAst::And(a, b) => {
            let (a, b) = both(a, b)?;
            Expr::And(a, b)
        }
        ExprAst::Not(a, b) => {
            let (a, b) = both(a, b)?;
            Expr::Not(a, b)
        }
    })
}

fn names_in(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Name(n) => out.push(n.clone()),
        Expr::Arrow { .. } => {}
        Expr::Or(a, b) | Expr::And(a, b) | Expr::Not(a, b) => {
            names_in(a, out);
            names_in(b, out);
        }
    }
}

/// `permission a = b; permission b = a` could never be decided; reject it.
fn check_self_reference(ast: &[EntityAst], entities: &[EntityDef]) -> Result<(), SchemaError> {
    for (e, def) in ast.iter().zip(entities) {
        for m in &e.members {
            let MemberAst::Permission { name, pos, .. } = m else {
                continue;
            };
            let mut stack = vec![name.clone()];
            let mut seen = HashSet::new();
            while let Some(n) = stack.pop() {
                let Some(p) = def.permission(&n) else {
                    continue;
                };
                let mut refs = Vec::new();
                names_in(&p.expr, &mut refs);
                for r in refs {
                    if &r == name {
                        return Err(SchemaError::at(
                            *pos,
                            format!(
                                "permission `{name}` of `{}` depends on itself without going through a relation",
                                e.name
                            ),
                        ));
                    }
                    if seen.insert(r.clone()) {
                        stack.push(r);
                    }
                }
            }
        }
    }
    Ok(())
}

fn reverse_edges(entities: &[EntityDef], by_name: &HashMap<String, usize>) -> Vec<ReverseEdge> {
    let mut edges = Vec::new();
    for e in entities {
        for r in &e.relations {
            for s in &r.subjects {
                if let Some(sr) = &s.relation {
                    edges.push(ReverseEdge {
                        from: (s.kind.clone(), sr.clone()),
                        to: (e.name.clone(), r.name.clone()),
                        step: Step::Userset {
                            relation: r.name.clone(),
                        },
                        exact: true,
                    });
                }
            }
        }
        for p in &e.permissions {
            collect_expr_edges(entities, by_name, e, &p.name, &p.expr, true, &mut edges);
        }
    }
    edges
}

fn collect_expr_edges(
    entities: &[EntityDef],
    by_name: &HashMap<String, usize>,
    e: &EntityDef,
    perm: &str,
    expr: &Expr,
    exact: bool,
    edges: &mut Vec<ReverseEdge>,
) {
    let to = (e.name.clone(), perm.to_owned());
    match expr {
        Expr::Name(n) => edges.push(ReverseEdge {
            from: (e.name.clone(), n.clone()),
            to,
            step: Step::Computed,
            exact,
        }),
        Expr::Arrow { via, target } => {
            if let Some(rel) = e.relation(via) {
                for s in rel.subjects.iter().filter(|s| s.relation.is_none()) {
                    let known = by_name
                        .get(&s.kind)
                        .and_then(|i| entities.get(*i))
                        .is_some_and(|t| t.member(target).is_some());
                    if known {
                        edges.push(ReverseEdge {
                            from: (s.kind.clone(), target.clone()),
                            to: to.clone(),
                            step: Step::Arrow { via: via.clone() },
                            exact,
                        });
                    }
                }
            }
        }
        Expr::Or(a, b) => {
            collect_expr_edges(entities, by_name, e, perm, a, exact, edges);
            collect_expr_edges(entities, by_name, e, perm, b, exact, edges);
        }
        // Anything in `a and b` is in `a`; anything in `a not b` is in `a`. Both only propose.
        Expr::And(a, _) | Expr::Not(a, _) => {
            collect_expr_edges(entities, by_name, e, perm, a, false, edges);
        }
    }
}
