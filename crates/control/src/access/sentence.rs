//! The sentence that leads an explanation: who may (or may not) do what, and the one relation
//! that decides it, in words; the exact chain stays below it for those who want it.

/// A relation tuple naming a person: `organization:acme#member@user:bob`.
struct Grant<'a> {
    /// `organization:acme`
    object: &'a str,
    relation: &'a str,
}

fn person_grant(label: &str) -> Option<Grant<'_>> {
    let (left, subject) = label.split_once('@')?;
    subject.strip_prefix("user:")?;
    let (object, relation) = left.split_once('#')?;
    object.contains(':').then_some(Grant { object, relation })
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// `organization:acme` as words: "organization acme" (the platform is "the platform").
fn object_words(object: &str) -> String {
    match object.split_once(':') {
        Some(("platform", _)) => "the platform".to_owned(),
        Some((kind, name)) => format!("{kind} {name}"),
        None => object.to_owned(),
    }
}

/// `username` may or may not do `permission` on `resource` (`vm:web-1`, names already in
/// place of ids), given the granting path (top to bottom, empty when refused).
pub fn sentence(
    username: &str,
    permission: &str,
    resource: &str,
    granted: bool,
    path: &[String],
) -> String {
    let name = resource.split_once(':').map_or(resource, |(_, n)| n);
    if !granted {
        return format!(
            "{username} may not {permission} {name}: no relation in the schema gives it to \
             {username} here."
        );
    }
    match path.last().and_then(|leaf| person_grant(leaf)) {
        Some(g) if g.object == resource => format!(
            "{username} may {permission} {name} because {username} is its {}.",
            g.relation
        ),
        Some(g) => {
            let whose = g.object.split_once(':').map_or(g.object, |(_, n)| n);
            let holders = if g.object.starts_with("platform:") {
                format!("the platform's {}s", g.relation)
            } else {
                format!("{}s of {whose}", g.relation)
            };
            format!(
                "{username} may {permission} {name} because {username} is {} {} of {}, and \
                 the schema lets {holders} {permission} it.",
                article(g.relation),
                g.relation,
                object_words(g.object),
            )
        }
        None => format!("{username} may {permission} {name}: the chain below grants it."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn a_member_is_told_through_the_organization() {
        let p = path(&[
            "vm:web-1#start (permission)",
            "vm:web-1#organization → organization:acme",
            "organization:acme#contribute (permission)",
            "organization:acme#member@user:bob",
        ]);
        assert_eq!(
            sentence("bob", "start", "vm:web-1", true, &p),
            "bob may start web-1 because bob is a member of organization acme, and the \
             schema lets members of acme start it."
        );
    }

    #[test]
    fn a_direct_relation_is_the_resources_own() {
        let p = path(&[
            "vm:web-1#start (permission)",
            "vm:web-1#operator@user:carol",
        ]);
        assert_eq!(
            sentence("carol", "start", "vm:web-1", true, &p),
            "carol may start web-1 because carol is its operator."
        );
    }

    #[test]
    fn administrators_are_the_platforms() {
        let p = path(&["platform:strata#admin@user:root"]);
        assert_eq!(
            sentence("root", "delete", "vm:web-1", true, &p),
            "root may delete web-1 because root is an admin of the platform, and the schema \
             lets the platform's admins delete it."
        );
    }

    #[test]
    fn a_refusal_and_an_odd_chain_still_read() {
        assert_eq!(
            sentence("bob", "delete", "vm:web-1", false, &[]),
            "bob may not delete web-1: no relation in the schema gives it to bob here."
        );
        let p = path(&["organization:acme#member@team:ops#member"]);
        assert_eq!(
            sentence("bob", "read", "vm:web-1", true, &p),
            "bob may read web-1: the chain below grants it."
        );
    }
}
