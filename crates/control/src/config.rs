//! What the control plane needs to know at start, independent of how it was configured.

use model::EventTransport;

use crate::auth::AuthConfig;

#[derive(Clone, Debug)]
pub struct ControlConfig {
    /// A SeaORM URL: `sqlite://…?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// How live events travel between instances.
    pub events: EventTransport,
    /// Passkeys, sessions and sign-up.
    pub auth: AuthConfig,
}
