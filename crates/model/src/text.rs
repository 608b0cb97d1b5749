//! Free text people type (descriptions, OS labels, kernel command lines, markers, names):
//! bounded in length, and free of control and bidirectional-override characters, which can
//! hide or reorder what another person reads.

/// Whether `c` may not appear in text people type: control characters (newline and tab only
/// where `multiline` allows them) and the Unicode bidirectional controls.
pub fn is_forbidden(c: char, multiline: bool) -> bool {
    if multiline && matches!(c, '\n' | '\t') {
        return false;
    }
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Checks `value` (already trimmed by the caller where that matters) for `what`: at most `max`
/// characters, none forbidden. Empty text passes; callers that need some say so themselves.
pub fn check_text(what: &str, value: &str, max: usize, multiline: bool) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("{what}: at most {max} characters."));
    }
    if value.chars().any(|c| is_forbidden(c, multiline)) {
        return Err(format!(
            "{what}: no control characters or text-direction overrides."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_bounded_and_clean() {
        assert!(check_text("OS", "Debian 12", 64, false).is_ok());
        assert!(check_text("OS", &"x".repeat(65), 64, false).is_err());
        assert!(check_text("OS", "a\u{202E}b", 64, false).is_err());
        assert!(check_text("OS", "a\u{2067}b", 64, false).is_err());
        assert!(check_text("OS", "a\u{1b}[2Jb", 64, false).is_err());
        assert!(check_text("OS", "a\nb", 64, false).is_err());
        assert!(check_text("Description", "a\nb", 64, true).is_ok());
        assert!(check_text("Description", "a\rb", 64, true).is_err());
        assert!(check_text("Description", "ünïcödé ok", 64, true).is_ok());
    }
}
