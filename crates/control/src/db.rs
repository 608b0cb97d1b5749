//! Opening the database, applying migrations and reporting readiness.

use chrono::{DateTime, Utc};
use migrations::{Migrator, MigratorTrait};
use model::{AppError, DatabaseBackend, EventTransport};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use std::sync::Arc;
use std::time::Duration;

use agent::node_driver::{InProcess, NodeDriver};
use hypervisor::driver::{Driver, DriverError};
use hypervisor::qemu_driver::QemuDriver;
use sea_orm::prelude::Uuid;
use tokio::sync::Notify;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::access::{Access, AccessError};
use crate::auth::AuthConfig;
use crate::clock::{Clock, SystemClock};

use crate::{error::internal, ControlConfig};

/// The control plane: one handle shared by every request.
#[derive(Clone)]
pub struct Control {
    db: DatabaseConnection,
    events: EventTransport,
    started_at: DateTime<Utc>,
    auth: Arc<AuthConfig>,
    webauthn: Arc<Webauthn>,
    access: Arc<Access>,
    driver: Arc<dyn Driver>,
    local_node: Uuid,
    /// Names this process as the holder of operation leases.
    runner_id: Arc<str>,
    runner_wake: Arc<Notify>,
    bus: Arc<crate::events::EventBus>,
    usage: Arc<crate::compute::usage::Usage>,
    /// The only directory images may be registered from.
    pub(crate) image_dir: Arc<std::path::PathBuf>,
    /// Where "now" comes from (tests move a manual one).
    clock: Arc<dyn Clock>,
    /// Agents' links open in this instance.
    pub(crate) links: Arc<crate::agents::Links>,
    /// The node CA, loaded or made on first use.
    pub(crate) authority: Arc<tokio::sync::OnceCell<Arc<agent::pki::Authority>>>,
    /// Where agents dial (`wss://host:port`), once the server listens for them.
    agent_url: Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("backend", &self.db.get_database_backend())
            .field("events", &self.events)
            .field("local_node", &self.local_node)
            .field("runner_id", &self.runner_id)
            .finish_non_exhaustive()
    }
}

/// Whether this instance can serve requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub database: bool,
    pub migrations: bool,
}

impl Readiness {
    pub fn ready(self) -> bool {
        self.database && self.migrations
    }
}

/// Why the control plane could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not open the database: {0}")]
    Connect(#[source] sea_orm::DbErr),
    #[error("could not apply database migrations: {0}")]
    Migrate(#[source] sea_orm::DbErr),
    #[error("could not register the local node: {0}")]
    LocalNode(#[source] sea_orm::DbErr),
    #[error("{0}")]
    Access(#[from] AccessError),
    #[error("could not write the platform's grants: {0}")]
    Grants(model::AppError),
    #[error("{0}")]
    Events(#[from] crate::events::BusError),
    #[error("could not connect to Redis for metrics: {0}")]
    Metrics(#[source] redis::RedisError),
    #[error("could not register the ready image: {0}")]
    ReadyImage(model::AppError),
    #[error("passkeys cannot work with public URL {0}: the relying party must be a host name such as localhost, not an IP address")]
    RelyingParty(String),
}

impl Control {
    /// Connects, applies pending migrations and registers the local node.
    pub async fn start(config: &ControlConfig, now: DateTime<Utc>) -> Result<Self, StartError> {
        let webauthn = relying_party(&config.auth.public_url)
            .ok_or_else(|| StartError::RelyingParty(config.auth.public_url.clone()))?;
        let access = Access::new(crate::access::SCHEMA)?;
        let db = connect(&config.database_url)
            .await
            .map_err(StartError::Connect)?;
        Migrator::up(&db, None).await.map_err(StartError::Migrate)?;
        let local_node = crate::compute::nodes::ensure_local_node(&db, now)
            .await
            .map_err(StartError::LocalNode)?;
        let bus = match (&config.redis_url, config.events) {
            (Some(url), EventTransport::Redis) => crate::events::EventBus::with_redis(url).await?,
            _ => crate::events::EventBus::in_process(),
        };
        let usage = match &config.redis_url {
            Some(url) => crate::compute::usage::Usage::with_redis(url)
                .await
                .map_err(StartError::Metrics)?,
            None => crate::compute::usage::Usage::in_memory(),
        };
        let control = Self {
            db,
            events: config.events,
            started_at: now,
            auth: Arc::new(config.auth.clone()),
            webauthn: Arc::new(webauthn),
            access: Arc::new(access),
            driver: Arc::new(NodeDriver::new(InProcess::new(Arc::new(
                QemuDriver::new(config.compute.vm_dir.clone()).with_network(Arc::new(
                    hypervisor::NetPlane::at(
                        config.compute.net_dir.clone(),
                        config.compute.node_netns.clone(),
                    ),
                )),
            )))),
            local_node,
            runner_id: format!("runner-{}", Uuid::new_v4().simple()).into(),
            runner_wake: Arc::new(Notify::new()),
            bus: Arc::new(bus),
            usage: Arc::new(usage),
            image_dir: Arc::new(config.compute.image_dir.clone()),
            clock: Arc::new(SystemClock),
            links: Arc::default(),
            authority: Arc::default(),
            agent_url: Arc::default(),
        };
        if let Err(e) = std::fs::create_dir_all(&config.compute.image_dir) {
            tracing::warn!(dir = %config.compute.image_dir.display(), error = %e, "the image directory cannot be made");
        }
        crate::access::grants::ensure_platform_grants(&control.db, now)
            .await
            .map_err(StartError::Grants)?;
        crate::services::repair_replica_grants(&control.db, now)
            .await
            .map_err(StartError::Grants)?;
        if let Some(source) = &config.compute.ready_image {
            control
                .ensure_ready_image(source, &config.compute.image_dir, now)
                .await
                .map_err(StartError::ReadyImage)?;
        }
        Ok(control)
    }

    /// The same control plane reading time from `clock` (tests: a [`crate::clock::ManualClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Says where agents dial this control plane (the server, once its agent listener is
    /// bound); join tokens carry it. Only the first call counts.
    pub fn set_agent_url(&self, url: String) {
        let _ = self.agent_url.set(url);
    }

    /// Where agents dial, when this instance listens for them.
    pub fn agent_url(&self) -> Option<String> {
        self.agent_url.get().cloned()
    }

    /// The agents' links open in this instance.
    pub fn agent_links(&self) -> &crate::agents::Links {
        &self.links
    }

    /// The current time by this control plane's clock: what the edges pass to use cases.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The embedded node's driver (inside `control` only: the edges go through use cases
    /// such as [`Control::open_console`]). Its calls take the path a joined node's do,
    /// answered in this process.
    pub(crate) fn driver(&self) -> &dyn Driver {
        self.driver.as_ref()
    }

    /// The driver of the node a VM is on (`None`: a VM from before nodes, on the embedded
    /// node): the embedded node's, or calls over the node's link when it is open in this
    /// instance. A node without one is unreachable from here, an error a retry may mend.
    pub(crate) fn node_driver(&self, node: Option<Uuid>) -> Result<Arc<dyn Driver>, DriverError> {
        let node = match node {
            Some(node) if node != self.local_node => node,
            _ => return Ok(self.driver.clone()),
        };
        match self.links.calls(node) {
            Some(calls) => Ok(Arc::new(NodeDriver::new(calls))),
            None => Err(DriverError::Remote {
                public: "the VM's node is unreachable".into(),
                transient: true,
                detail: format!("node {node} has no link open in this instance"),
            }),
        }
    }

    /// The embedded node and the nodes whose links are open in this instance: the nodes this
    /// instance can look at.
    pub(crate) fn reachable_nodes(&self) -> Vec<Uuid> {
        let mut nodes = vec![self.local_node];
        nodes.extend(self.links.linked());
        nodes
    }

    /// The embedded node's id.
    pub fn local_node(&self) -> Uuid {
        self.local_node
    }

    pub(crate) fn runner_id(&self) -> &str {
        &self.runner_id
    }

    pub(crate) fn runner_wake(&self) -> &Notify {
        &self.runner_wake
    }

    /// Live events for browsers.
    pub fn bus(&self) -> &crate::events::EventBus {
        &self.bus
    }

    /// Usage samples of VMs.
    pub(crate) fn usage(&self) -> &crate::compute::usage::Usage {
        &self.usage
    }

    /// Whether usage samples are kept in Redis (else in memory).
    pub fn metrics_in_redis(&self) -> bool {
        self.usage.in_redis()
    }

    /// The database connection pool (inside `control` only: every read and write is a use
    /// case that checked its caller).
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn auth(&self) -> &AuthConfig {
        &self.auth
    }

    /// The permission engine and its cache.
    pub fn access(&self) -> &Access {
        &self.access
    }

    pub(crate) fn access_arc(&self) -> Arc<Access> {
        self.access.clone()
    }

    pub(crate) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }

    pub fn events(&self) -> EventTransport {
        self.events
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    pub fn backend(&self) -> DatabaseBackend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => DatabaseBackend::Postgres,
            // MySQL is not compiled in; everything else is SQLite.
            _ => DatabaseBackend::Sqlite,
        }
    }

    /// Database reachable and every migration applied.
    pub async fn readiness(&self) -> Readiness {
        let database = self.db.ping().await.is_ok();
        let migrations = database
            && Migrator::get_pending_migrations(&self.db)
                .await
                .map(|pending| pending.is_empty())
                .unwrap_or(false);
        Readiness {
            database,
            migrations,
        }
    }

    /// Runs a statement that must succeed; used by health checks and tests.
    pub async fn execute_unprepared(&self, sql: &str) -> Result<(), AppError> {
        self.db
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|e| internal("execute", e))
    }
}

/// The WebAuthn relying party for a public URL: its host is the relying party id.
fn relying_party(public_url: &str) -> Option<Webauthn> {
    let origin = Url::parse(public_url).ok()?;
    let host = origin.domain()?.to_owned();
    WebauthnBuilder::new(&host, &origin)
        .ok()?
        .rp_name("Strata")
        .build()
        .ok()
}

/// Opens a pool with settings that suit both backends.
pub async fn connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed during a write and is remembered by the file. sqlx already
        // turns on foreign keys and a busy timeout on every pooled connection.
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Ok(db)
}

/// Applies pending migrations; returns how many were applied.
pub async fn migrate(url: &str) -> Result<usize, sea_orm::DbErr> {
    let db = connect(url).await?;
    let pending = Migrator::get_pending_migrations(&db).await?.len();
    Migrator::up(&db, None).await?;
    Ok(pending)
}
