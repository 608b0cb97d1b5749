//! Where a browser may be sent after sign-in: only a path on this site, never another origin.
//!
//! Browsers strip tabs and newlines from URLs and read `\` as `/`, so `/%09/evil.example`
//! becomes `//evil.example`, another site. The check parses the candidate the way a browser
//! does (WHATWG URL rules) against a placeholder origin and keeps it only when the origin is
//! unchanged; anything with control characters or whitespace is refused before parsing.
//!
//! The parsing is a parameter: the server and the tests use the `url` crate, the browser its
//! own `URL` (so the WASM does not carry `url`, IDNA and their Unicode tables).

/// The origin relative paths are resolved against; it never leaves this module (the resolver
/// gets it as an argument).
const BASE: &str = "http://strata.invalid/";

/// A same-origin path (with its query and fragment) from a `?next=` value, or `/`.
#[cfg(not(target_arch = "wasm32"))]
pub fn safe_next(next: Option<&str>) -> String {
    safe_next_with(next, resolve_on_site)
}

/// [`safe_next`] with the WHATWG parsing done by `resolve`: given a candidate and [`BASE`], it
/// returns the candidate's path, query and fragment (`/p?q#f`) when the parsed URL kept the
/// base's origin and carries no user name or password, and `None` otherwise.
pub fn safe_next_with(
    next: Option<&str>,
    resolve: impl Fn(&str, &str) -> Option<String>,
) -> String {
    next.and_then(|n| same_origin_path(n, &resolve))
        .unwrap_or_else(|| "/".to_owned())
}

fn same_origin_path(next: &str, resolve: &impl Fn(&str, &str) -> Option<String>) -> Option<String> {
    // Only a rooted path; "//host" and "/\host" name another host.
    let rest = next.strip_prefix('/')?;
    if rest.starts_with('/') || rest.starts_with('\\') {
        return None;
    }
    // Tabs, newlines and other controls are dropped by browsers (or confuse them); spaces
    // and non-ASCII whitespace have no place in a path we send people to.
    if next.chars().any(|c| c.is_control() || c.is_whitespace()) || next.contains('\\') {
        return None;
    }
    let out = resolve(next, BASE)?;
    if !out.starts_with('/') || out.starts_with("//") {
        return None;
    }
    Some(out)
}

/// The `url` crate's WHATWG parser as a resolver for [`safe_next_with`].
#[cfg(not(target_arch = "wasm32"))]
pub fn resolve_on_site(next: &str, base: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    let parsed = base.join(next).ok()?;
    if parsed.origin() != base.origin() || parsed.username() != "" || parsed.password().is_some() {
        return None;
    }
    let mut out = parsed.path().to_owned();
    if let Some(q) = parsed.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = parsed.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for ok in [
            "/",
            "/vms",
            "/ok?x=1",
            "/vms/abc?tab=console#log",
            "/a/b/../c",
        ] {
            let got = safe_next(Some(ok));
            assert!(
                got.starts_with('/') && !got.starts_with("//"),
                "{ok} -> {got}"
            );
        }
        assert_eq!(safe_next(Some("/ok?x=1")), "/ok?x=1");
        assert_eq!(
            safe_next(Some("/vms/abc?tab=console#log")),
            "/vms/abc?tab=console#log"
        );
        assert_eq!(safe_next(Some("/a/b/../c")), "/a/c");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("")), "/");
    }

    #[test]
    fn other_origins_and_tricks_fall_back_to_the_root() {
        let bad = [
            "//evil.example",
            "//evil.example/x",
            "/\\evil.example",
            "/\\/evil.example",
            "\\\\evil.example",
            "/\t/evil.example/x",
            "/\n/evil.example/x",
            "/\r/evil.example/x",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{7f}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "https://evil.example",
            "http://strata.invalid/x",
            "HTTPS://evil.example",
            "https:evil.example/x",
            "\t//evil.example/x",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "evil.example",
            "@evil.example",
            "/x\\y",
            "///evil.example",
        ];
        for b in bad {
            assert_eq!(safe_next(Some(b)), "/", "{b:?}");
        }
    }

    #[test]
    fn percent_encoded_controls_stay_encoded_in_the_path() {
        // A query parameter decodes once; a still-encoded `%09` is harmless text in a path.
        let got = safe_next(Some("/%09/evil.example/x"));
        assert_eq!(got, "/%09/evil.example/x");
        assert!(!got.starts_with("//"));
    }
}
