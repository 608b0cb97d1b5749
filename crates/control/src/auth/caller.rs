//! Who is making a request: the signed-in user behind a session, and where they connect from.

use model::auth::Me;
use sea_orm::prelude::Uuid;

/// A signed-in user, resolved from a live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    /// Where this request came from; the request guard fills it in.
    pub client: ClientInfo,
    /// Set when the request came with an API token: what narrows the user's rights.
    pub token: Option<super::api_tokens::Restriction>,
}

impl Caller {
    /// Who acted, as audit rows name them: "alice", or "alice via token deploy-bot".
    pub fn actor_name(&self) -> String {
        match &self.token {
            Some(t) => format!("{} via token {}", self.username, t.token_name),
            None => self.username.clone(),
        }
    }

    pub fn me(&self) -> Me {
        Me {
            id: self.user_id.to_string(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            is_admin: self.is_admin,
        }
    }
}

/// Where a request came from, recorded on sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

impl ClientInfo {
    /// Bounded copies, safe to store.
    pub fn new(ip: impl Into<String>, user_agent: &str) -> Self {
        Self {
            ip: truncate(ip.into(), 64),
            user_agent: truncate(user_agent.to_owned(), 256),
        }
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}
