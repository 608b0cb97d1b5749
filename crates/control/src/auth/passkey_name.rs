//! The name a new passkey gets until its owner renames it: the browser and system it was made
//! on ("Chrome on Linux"), which tells two passkeys apart better than "Passkey 2" does.

/// The browser and system in a `User-Agent` header, when it names them.
fn device(user_agent: &str) -> Option<String> {
    let has = |s: &str| user_agent.contains(s);
    // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") {
        "Opera"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("Chromium/") {
        "Chromium"
    } else if has("Chrome/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        return None;
    };
    // Android says Linux too; iPads may say Macintosh, which reads fine.
    let system = if has("Android") {
        "Android"
    } else if has("iPhone") || has("iPad") {
        "iOS"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Windows") {
        "Windows"
    } else if has("Mac OS X") || has("Macintosh") {
        "macOS"
    } else if has("Linux") {
        "Linux"
    } else {
        return Some(browser.to_owned());
    };
    Some(format!("{browser} on {system}"))
}

/// A name for a new passkey, different from every name in `taken` (the person's others).
pub(crate) fn suggested(user_agent: &str, taken: &[String]) -> String {
    let Some(base) = device(user_agent) else {
        return (taken.len() + 1..)
            .map(|n| format!("Passkey {n}"))
            .find(|n| !taken.contains(n))
            .unwrap_or_else(|| "Passkey".to_owned());
    };
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base} ({n})"))
        .find(|n| !taken.contains(n))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";

    #[test]
    fn browsers_and_systems_are_named() {
        assert_eq!(suggested(CHROME_LINUX, &[]), "Chrome on Linux");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0";
        assert_eq!(suggested(firefox, &[]), "Firefox on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        assert_eq!(suggested(safari, &[]), "Safari on iOS");
        let edge = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0";
        assert_eq!(suggested(edge, &[]), "Edge on macOS");
        let android = "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Mobile Safari/537.36";
        assert_eq!(suggested(android, &[]), "Chrome on Android");
    }

    #[test]
    fn a_second_passkey_from_the_same_browser_is_numbered() {
        let taken = vec!["Chrome on Linux".to_owned()];
        assert_eq!(suggested(CHROME_LINUX, &taken), "Chrome on Linux (2)");
    }

    #[test]
    fn an_unknown_client_gets_a_number() {
        assert_eq!(suggested("", &[]), "Passkey 1");
        assert_eq!(suggested("curl/8", &["Passkey 1".to_owned()]), "Passkey 2");
        // A removed first passkey leaves "Passkey 2": the new one is not a second "Passkey 2".
        assert_eq!(suggested("", &["Passkey 2".to_owned()]), "Passkey 3");
    }
}
