//! The session cookie: its name, and the `Set-Cookie` values that set and clear it.
//!
//! HttpOnly and SameSite=Lax always; Secure and the `__Host-` prefix whenever the public URL
//! is https. The value is the random token only.

use super::AuthConfig;

pub fn name(cfg: &AuthConfig) -> &'static str {
    if cfg.secure() {
        "__Host-strata_session"
    } else {
        "strata_session"
    }
}

pub fn set(cfg: &AuthConfig, token: &str) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        name(cfg),
        cfg.absolute_timeout.num_seconds(),
        if cfg.secure() { "; Secure" } else { "" }
    )
}

pub fn clear(cfg: &AuthConfig) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        name(cfg),
        if cfg.secure() { "; Secure" } else { "" }
    )
}

/// The session token from a `Cookie` header, if present.
pub fn read<'a>(cfg: &AuthConfig, header: &'a str) -> Option<&'a str> {
    let want = name(cfg);
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == want && !v.is_empty()).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_uses_a_plain_httponly_cookie() {
        let cfg = AuthConfig::new("http://localhost:3000");
        let c = set(&cfg, "tok");
        assert!(c.starts_with("strata_session=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age="));
        assert!(!c.contains("Secure"));
        assert_eq!(read(&cfg, "a=b; strata_session=tok; c=d"), Some("tok"));
        assert_eq!(read(&cfg, "strata_session="), None);
        assert!(clear(&cfg).contains("Max-Age=0"));
    }

    #[test]
    fn https_uses_a_secure_host_prefixed_cookie() {
        let cfg = AuthConfig::new("https://cloud.example.com");
        let c = set(&cfg, "tok");
        assert!(c.starts_with("__Host-strata_session=tok; Path=/;"));
        assert!(c.ends_with("; Secure"));
        assert_eq!(read(&cfg, "strata_session=tok"), None);
    }
}
