//! Identity types shared by the server and the browser: who is signed in, passkeys, sessions,
//! users, and the input rules for names (checked in the browser for quick feedback and again on
//! the server, which is what counts).

use serde::{Deserialize, Serialize};

/// Who may create an account once the first (admin) account exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupPolicy {
    /// Anyone who can reach Strata may sign up.
    Open,
    /// Only with a single-use invite link made by an admin.
    Invite,
}

impl std::str::FromStr for SignupPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            other => Err(format!(
                "signup policy must be open or invite, not {other:?}"
            )),
        }
    }
}

/// The signed-in person, as the UI needs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
}

/// What the sign-up page needs to know before it asks for anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupStatus {
    /// No account exists yet: this sign-up makes the platform admin.
    pub first_account: bool,
    pub policy: SignupPolicy,
}

/// What an invite link's sign-up page says before anything is typed: who invited, and until
/// when the link works.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteInfo {
    /// The inviting administrator's display name.
    pub invited_by: String,
    /// As every time on the pages: `2026-12-07 15:04 UTC`.
    pub expires_at: String,
}

/// A WebAuthn ceremony begun on the server: its id and the options for
/// `navigator.credentials.create/get` as JSON (`{"publicKey": {...}}`, base64url binary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeremonyStart {
    pub ceremony_id: String,
    pub options: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub user_agent: String,
    pub ip: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// The session making this request.
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: String,
    pub passkeys: u64,
}

/// A single-use link for a person to open (invite or recovery).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCreated {
    pub url: String,
    pub expires_at: String,
}

/// 3–32 characters: lowercase letters, digits, `-` and `_`, starting with a letter.
pub fn validate_username(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(3..=32).contains(&len) {
        return Err("Username must be 3 to 32 characters long.".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("Username must start with a lowercase letter.".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err("Username may contain only lowercase letters, digits, - and _.".into());
    }
    Ok(())
}

/// 1–64 characters after trimming, no control characters.
pub fn validate_display_name(name: &str) -> Result<(), String> {
    validate_label(name, "Display name", 64)
}

/// 1–64 characters after trimming, no control characters.
pub fn validate_passkey_name(name: &str) -> Result<(), String> {
    validate_label(name, "Passkey name", 64)
}

fn validate_label(value: &str, what: &str, max: usize) -> Result<(), String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(format!("{what} must not be empty."));
    }
    if trimmed.chars().count() > max {
        return Err(format!("{what} must be at most {max} characters."));
    }
    if trimmed.chars().any(|c| crate::text::is_forbidden(c, false)) {
        return Err(format!(
            "{what} must not contain control characters or text-direction overrides."
        ));
    }
    Ok(())
}

/// The refusal of a sensitive change (adding or removing a passkey, ending sessions) when the
/// session has not confirmed its user with a passkey in the last few minutes.
pub const REAUTH_REQUIRED: &str = "Confirm with your passkey first.";

/// Whether `e` asks for a passkey confirmation before retrying.
pub fn needs_reauth(e: &crate::AppError) -> bool {
    matches!(e, crate::AppError::Forbidden(m) if m == REAUTH_REQUIRED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert!(validate_username("ada").is_ok());
        assert!(validate_username("ada_l-9").is_ok());
        assert!(validate_username("ab").is_err());
        assert!(validate_username("Ada").is_err());
        assert!(validate_username("9ada").is_err());
        assert!(validate_username("ada lovelace").is_err());
        assert!(validate_username(&"a".repeat(33)).is_err());
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert!(validate_display_name("  Ada  ").is_ok());
        assert!(validate_display_name("   ").is_err());
        assert!(validate_display_name(&"x".repeat(65)).is_err());
        assert!(validate_passkey_name("Laptop\u{7}").is_err());
        assert!("invite".parse::<SignupPolicy>().is_ok());
        assert!("closed".parse::<SignupPolicy>().is_err());
    }
}
