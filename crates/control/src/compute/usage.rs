//! Usage metrics: every five seconds, the CPU, memory and uptime of each running VM on this
//! node, read from its QEMU process; kept for an hour as capped lists (`metrics:vm:{id}` and,
//! for replicas, `metrics:{service_id}`) in Redis when it is configured and in memory
//! otherwise; pushed live to whoever may read the VM or its service.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use model::events::{LiveEvent, EVENT_VERSION};
use model::services::{MetricSample, MAX_REPLICAS};
use model::vms::VmState;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::parse_id;
use crate::auth::Caller;
use crate::entities::vm;
use crate::events::Envelope;
use crate::{internal, Control};

/// How often every running VM is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// How long samples are kept.
const KEEP_MS: i64 = 60 * 60 * 1000;
/// Samples per VM in an hour.
const PER_VM: usize = (KEEP_MS / 5_000) as usize;

/// Where samples are kept.
pub(crate) enum Store {
    Memory(Mutex<HashMap<String, VecDeque<MetricSample>>>),
    Redis(redis::aio::MultiplexedConnection),
}

/// Samples and the CPU time seen last per VM (to turn CPU seconds into a percentage).
pub(crate) struct Usage {
    store: Store,
    last: Mutex<HashMap<Uuid, (f64, Instant)>>,
}

impl Usage {
    pub(crate) fn in_memory() -> Self {
        Self {
            store: Store::Memory(Mutex::default()),
            last: Mutex::default(),
        }
    }

    pub(crate) async fn with_redis(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(Self {
            store: Store::Redis(conn),
            last: Mutex::default(),
        })
    }

    /// Whether samples live in Redis.
    pub fn in_redis(&self) -> bool {
        matches!(self.store, Store::Redis(_))
    }

    async fn push(&self, key: &str, sample: &MetricSample, cap: usize) {
        match &self.store {
            Store::Memory(map) => {
                if let Ok(mut map) = map.lock() {
                    let list = map.entry(key.to_owned()).or_default();
                    list.push_back(sample.clone());
                    while list.len() > cap {
                        list.pop_front();
                    }
                }
            }
            Store::Redis(conn) => {
                let Ok(text) = serde_json::to_string(sample) else {
                    return;
                };
                let mut conn = conn.clone();
                let cap = isize::try_from(cap).unwrap_or(isize::MAX);
                let done: redis::RedisResult<()> = redis::pipe()
                    .rpush(key, text)
                    .ignore()
                    .ltrim(key, -cap, -1)
                    .ignore()
                    .expire(key, KEEP_MS / 1000 * 2)
                    .ignore()
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = done {
                    tracing::warn!(error = %e, key, "metrics sample not stored");
                }
            }
        }
    }

    async fn read(&self, key: &str, now: DateTime<Utc>) -> Result<Vec<MetricSample>, AppError> {
        let since = now.timestamp_millis() - KEEP_MS;
        let all = match &self.store {
            Store::Memory(map) => map
                .lock()
                .map(|m| {
                    m.get(key)
                        .map(|l| l.iter().cloned().collect())
                        .unwrap_or_default()
                })
                .unwrap_or_default(),
            Store::Redis(conn) => {
                let mut conn = conn.clone();
                let texts: Vec<String> = redis::cmd("LRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| internal("read metrics", e))?;
                texts
                    .iter()
                    .filter_map(|t| serde_json::from_str::<MetricSample>(t).ok())
                    .collect::<Vec<_>>()
            }
        };
        Ok(all.into_iter().filter(|s| s.at_ms >= since).collect())
    }

    /// CPU use since the previous sample of this VM (since its start for the first one).
    fn cpu_percent(&self, id: Uuid, cpu_seconds: f64, uptime: f64) -> f64 {
        let now = Instant::now();
        let previous = self
            .last
            .lock()
            .ok()
            .and_then(|mut m| m.insert(id, (cpu_seconds, now)));
        let (used, over) = match previous {
            Some((cpu, at)) if cpu <= cpu_seconds => {
                (cpu_seconds - cpu, now.duration_since(at).as_secs_f64())
            }
            _ => (cpu_seconds, uptime),
        };
        if over > 0.0 {
            (used / over * 100.0).max(0.0)
        } else {
            0.0
        }
    }
}

fn vm_key(id: &str) -> String {
    format!("metrics:vm:{id}")
}

fn service_key(id: &str) -> String {
    format!("metrics:{id}")
}

impl Control {
    /// Samples the running VMs of the nodes this instance reaches every [`SAMPLE_EVERY`] for as long as the process lives.
    pub fn spawn_usage_sampler(&self) -> tokio::task::JoinHandle<()> {
        let control = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = control.sample_usage().await {
                    tracing::warn!(error = %e, "sampling usage failed");
                }
            }
        })
    }

    /// Takes one sample of every running VM on the nodes this instance reaches; returns how
    /// many were taken.
    pub async fn sample_usage(&self) -> Result<usize, AppError> {
        let rows = vm::Entity::find()
            .filter(vm::Column::NodeId.is_in(self.reachable_nodes()))
            .filter(vm::Column::ObservedState.eq(VmState::Running.as_str()))
            .all(self.db())
            .await
            .map_err(|e| internal("list running vms", e))?;
        let mut taken = 0;
        for row in rows {
            let id = row.id.to_string();
            // A VM that stopped between the query and now has nothing to read.
            let Ok(driver) = self.node_driver(row.node_id) else {
                continue;
            };
            let Ok(Some(u)) = driver.usage(&id).await else {
                continue;
            };
            let sample = MetricSample {
                at_ms: self.now().timestamp_millis(),
                vm_id: id.clone(),
                cpu_percent: self
                    .usage()
                    .cpu_percent(row.id, u.cpu_seconds, u.uptime_seconds),
                rss_bytes: u.rss_bytes,
                uptime_seconds: u.uptime_seconds,
            };
            self.usage().push(&vm_key(&id), &sample, PER_VM).await;
            self.publish_sample(Kind::Vm, &id, &sample).await;
            if let Some(service) = row.service_id {
                let sid = service.to_string();
                self.usage()
                    .push(&service_key(&sid), &sample, PER_VM * MAX_REPLICAS as usize)
                    .await;
                self.publish_sample(Kind::Service, &sid, &sample).await;
            }
            taken += 1;
        }
        Ok(taken)
    }

    async fn publish_sample(&self, kind: Kind, id: &str, sample: &MetricSample) {
        let event = LiveEvent::Metrics {
            v: EVENT_VERSION,
            id: id.to_owned(),
            sample: sample.clone(),
        };
        self.publish(Envelope::new(
            event,
            Some((kind, id.to_owned())),
            Permission::Read,
        ))
        .await;
    }

    /// The last hour of samples of every replica of a service.
    pub async fn service_metrics(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<MetricSample>, AppError> {
        let id = parse_id(id, Kind::Service)?;
        self.authorize(caller, Permission::Read, &Resource::new(Kind::Service, id))
            .await?;
        self.usage()
            .read(&service_key(&id.to_string()), self.now())
            .await
    }

    /// The last hour of samples of one VM.
    pub async fn vm_metrics(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<MetricSample>, AppError> {
        let id = parse_id(id, Kind::Vm)?;
        self.authorize(caller, Permission::Read, &Resource::vm(id))
            .await?;
        self.usage()
            .read(&vm_key(&id.to_string()), self.now())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_use_is_measured_between_samples() {
        let u = Usage::in_memory();
        let id = Uuid::new_v4();
        // First sample: average since start.
        let first = u.cpu_percent(id, 1.0, 4.0);
        assert!((first - 25.0).abs() < 1e-9, "{first}");
        // A second sample right after, with no more CPU time: (almost) idle.
        let second = u.cpu_percent(id, 1.0, 4.1);
        assert!(second.abs() < 1e-9, "{second}");
    }

    #[tokio::test]
    async fn memory_lists_are_capped() {
        let u = Usage::in_memory();
        let t0 = crate::clock::system_now();
        let now = t0.timestamp_millis();
        for i in 0..10 {
            let s = MetricSample {
                at_ms: now + i,
                vm_id: "v".into(),
                cpu_percent: 1.0,
                rss_bytes: 1,
                uptime_seconds: 1.0,
            };
            u.push("k", &s, 4).await;
        }
        let kept = u.read("k", t0).await.unwrap();
        assert_eq!(kept.len(), 4);
        assert_eq!(kept[0].at_ms, now + 6);
    }
}
