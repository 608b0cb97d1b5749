//! Identity: passkey ceremonies, sessions, single-use links, and the user administration that
//! goes with them.
//!
//! Every function takes `now` so tests decide the time. Ceremony state and sessions live in the
//! database; nothing here trusts the browser beyond the signed WebAuthn responses it returns.

pub mod admin;
pub mod api_tokens;
pub mod caller;
pub mod ceremony;
pub mod cookie;
mod passkey_name;
pub mod passkeys;
pub mod sessions;
pub mod signin;
pub mod signup;
pub mod tokens;
mod webauthn_err;

use chrono::Duration;
use model::auth::SignupPolicy;

pub use caller::{Caller, ClientInfo};

/// Identity settings, from the server's configuration.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// `http(s)://host[:port]`; the relying party id is its host.
    pub public_url: String,
    pub signup_policy: SignupPolicy,
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
    /// How long a begun passkey ceremony may take.
    pub ceremony_ttl: Duration,
    /// How long invite and recovery links stay valid.
    pub link_ttl: Duration,
    /// How long a passkey check (sign-in or reauthentication) allows adding or removing
    /// passkeys and ending sessions.
    pub fresh_verification: Duration,
    /// The longest a personal API token may live, in days.
    pub token_max_days: u32,
}

impl AuthConfig {
    /// Defaults for a public URL: invite-only after the first account, 12 h idle, 7 d absolute,
    /// 5 min ceremonies, 72 h links, 5 min of fresh verification.
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            signup_policy: SignupPolicy::Invite,
            idle_timeout: Duration::hours(12),
            absolute_timeout: Duration::days(7),
            ceremony_ttl: Duration::minutes(5),
            link_ttl: Duration::hours(72),
            fresh_verification: Duration::minutes(5),
            token_max_days: 90,
        }
    }

    /// Whether cookies must be Secure (and take the `__Host-` prefix).
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Display format for times in DTOs.
pub(crate) fn show_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
