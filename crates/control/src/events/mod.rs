//! The event bus: live events for browsers, published after their change commits.
//!
//! In-process by default (a bounded broadcast channel); with Redis every instance publishes to
//! one pub/sub channel and delivers what arrives from it, so browsers connected to any
//! instance see changes made through any other. Each event is stamped with the permission
//! revision read after its change committed; subscribers check who may see it at that
//! revision, so a grant revoked before the change is never bypassed.
//!
//! Delivery is best effort: a crash between commit and publish loses the event, and a
//! subscriber that falls behind is told to resync. Clients refetch what they show on
//! (re)connect and on resync, so nothing they need is lost.

pub(crate) mod live;

use std::sync::Arc;
use std::time::Duration;

use model::events::{LiveEvent, EVENT_VERSION};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::access::model::{Kind, Permission};

/// The Redis channel every instance shares.
pub const CHANNEL: &str = "strata:events";
/// Events one subscriber may fall behind by before it is told to resync.
pub const BACKLOG: usize = 1024;

/// An event and who may see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub event: LiveEvent,
    /// The resource whose `permission` a subscriber needs (None: everyone signed in).
    pub kind: Option<Kind>,
    pub resource: Option<String>,
    pub permission: Permission,
    /// The permission revision after the change committed.
    pub revision: i64,
    /// When it was published (microseconds since the epoch), for latency measurements.
    pub published_us: i64,
    /// The event as JSON, made once however many subscribers send it.
    #[serde(skip)]
    text: std::sync::OnceLock<Arc<str>>,
    /// Who may see it, decided once per person however many of their tabs are connected (all
    /// at this event's revision, so the answer is the same for each), after one warm-up check
    /// that loads the tuples every decision reads into the cache.
    #[serde(skip)]
    decisions: Decisions,
}

type Decision = Arc<tokio::sync::OnceCell<bool>>;

/// Per-person decisions about one envelope; a copy of the envelope starts with none (it may
/// be restamped with another revision).
#[derive(Debug, Default)]
pub(crate) struct Decisions {
    warm: tokio::sync::OnceCell<()>,
    people: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, Decision>>,
}

impl Clone for Decisions {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Envelope {
    pub fn new(event: LiveEvent, target: Option<(Kind, String)>, permission: Permission) -> Self {
        let (kind, resource) = match target {
            Some((k, id)) => (Some(k), Some(id)),
            None => (None, None),
        };
        Self {
            event,
            kind,
            resource,
            permission,
            revision: 0,
            // Real time, not the control plane's clock: it measures delivery latency.
            published_us: crate::clock::system_now().timestamp_micros(),
            text: std::sync::OnceLock::new(),
            decisions: Default::default(),
        }
    }

    /// The event as the JSON text a browser receives.
    pub fn text(&self) -> Arc<str> {
        self.text
            .get_or_init(|| {
                serde_json::to_string(&self.event)
                    .unwrap_or_default()
                    .into()
            })
            .clone()
    }

    /// The cell holding this person's decision (shared by their tabs), and the warm-up cell.
    pub(crate) fn decision(&self, person: uuid::Uuid) -> (Decision, &tokio::sync::OnceCell<()>) {
        let cell = match self.decisions.people.lock() {
            Ok(mut map) => map.entry(person).or_default().clone(),
            Err(_) => Decision::default(),
        };
        (cell, &self.decisions.warm)
    }
}

/// Where events go.
pub struct EventBus {
    local: broadcast::Sender<Arc<Envelope>>,
    redis: Option<redis::aio::MultiplexedConnection>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("redis", &self.redis.is_some())
            .finish()
    }
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach Redis at the configured REDIS_URL: {0}")]
pub struct BusError(String);

impl EventBus {
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(BACKLOG).0,
            redis: None,
        }
    }

    /// Publishes through Redis and delivers what Redis sends (including this instance's own
    /// events). The subscription reconnects by itself when Redis goes away.
    pub async fn with_redis(url: &str) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(|e| BusError(e.to_string()))?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| BusError(e.to_string()))?;
        let local = broadcast::channel(BACKLOG).0;
        // Subscribed before returning, so no event published after start is missed.
        let pubsub = subscribe(&client)
            .await
            .map_err(|e| BusError(e.to_string()))?;
        tokio::spawn(forward(client, pubsub, local.clone()));
        Ok(Self {
            local,
            redis: Some(conn),
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.local.subscribe()
    }

    /// How many subscribers this instance has.
    pub fn subscribers(&self) -> usize {
        self.local.receiver_count()
    }

    /// Delivers locally only (events every instance derives itself, like access changes).
    pub fn deliver_locally(&self, envelope: Envelope) {
        let _ = self.local.send(Arc::new(envelope));
    }

    pub async fn publish(&self, envelope: Envelope) {
        metrics::counter!("strata_events_published_total", "type" => event_type(&envelope.event))
            .increment(1);
        match &self.redis {
            None => {
                let _ = self.local.send(Arc::new(envelope));
            }
            Some(conn) => {
                let payload = match serde_json::to_string(&envelope) {
                    Ok(p) => p,
                    Err(_) => return,
                };
                let mut conn = conn.clone();
                let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(CHANNEL)
                    .arg(payload)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = sent {
                    // Browsers here still hear of it; others resync when they reconnect.
                    tracing::warn!(error = %e, "publishing an event to Redis failed");
                    let _ = self.local.send(Arc::new(envelope));
                }
            }
        }
    }
}

pub fn event_type(e: &LiveEvent) -> &'static str {
    match e {
        LiveEvent::VmUpdate { .. } => "vm_update",
        LiveEvent::ServiceUpdate { .. } => "service_update",
        LiveEvent::OperationUpdate { .. } => "operation_update",
        LiveEvent::Metrics { .. } => "metrics",
        LiveEvent::Log { .. } => "log",
        LiveEvent::Audit { .. } => "audit",
        LiveEvent::NodeUpdate { .. } => "node_update",
        LiveEvent::AccessChanged { .. } => "access_changed",
        LiveEvent::Resync { .. } => "resync",
        LiveEvent::Hello { .. } => "hello",
    }
}

async fn subscribe(client: &redis::Client) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    Ok(pubsub)
}

async fn forward(
    client: redis::Client,
    first: redis::aio::PubSub,
    local: broadcast::Sender<Arc<Envelope>>,
) {
    use tokio_stream::StreamExt;
    let mut pubsub = Some(first);
    let mut delay = Duration::from_millis(200);
    loop {
        let current = match pubsub.take() {
            Some(p) => p,
            None => match subscribe(&client).await {
                Ok(p) => {
                    delay = Duration::from_millis(200);
                    // Whatever was published while we were away is lost: tell everyone.
                    let _ = local.send(Arc::new(Envelope::new(
                        LiveEvent::Resync {
                            v: EVENT_VERSION,
                            reason: "reconnected to Redis".into(),
                        },
                        None,
                        Permission::Read,
                    )));
                    p
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Redis subscription lost; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                    continue;
                }
            },
        };
        let mut messages = current.into_on_message();
        while let Some(msg) = messages.next().await {
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            if let Ok(envelope) = serde_json::from_str::<Envelope>(&payload) {
                let _ = local.send(Arc::new(envelope));
            }
        }
        tracing::warn!("the Redis subscription ended; reconnecting");
    }
}
