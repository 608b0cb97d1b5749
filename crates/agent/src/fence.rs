//! Fencing: an agent that has not heard from the control plane for [`FENCE_AFTER`] stops its
//! service replicas itself (the VMs marked [`FENCED_MARKER`]), because the control plane starts
//! their replacements on other nodes once the node has been silent for longer (see
//! `control::services::lost`). So a replica never runs twice, even when this host is alive but
//! cut off. Plain VMs keep running: nothing replaces them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hypervisor::driver::{Driver, FENCED_MARKER};
use tokio::time::Instant;

/// How long an agent runs its replicas without hearing from the control plane.
pub const FENCE_AFTER: Duration = Duration::from_secs(20);

/// How often the lease is looked at.
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// When the control plane was last heard (a welcome or an acknowledged heartbeat).
#[derive(Debug)]
pub struct Lease {
    renewed: Mutex<Instant>,
}

impl Lease {
    /// A lease that starts now: an agent started cut off fences after [`FENCE_AFTER`].
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            renewed: Mutex::new(Instant::now()),
        })
    }

    pub fn renew(&self) {
        if let Ok(mut at) = self.renewed.lock() {
            *at = Instant::now();
        }
    }

    /// Whether the control plane has been silent for longer than [`FENCE_AFTER`].
    pub fn lapsed(&self) -> bool {
        self.renewed
            .lock()
            .map(|at| at.elapsed() > FENCE_AFTER)
            .unwrap_or(true)
    }
}

/// Stops every running fenced VM while the lease is lapsed; runs for as long as the agent.
pub async fn watch(lease: Arc<Lease>, driver: Arc<dyn Driver>) {
    let mut tick = tokio::time::interval(LOOK_EVERY);
    loop {
        tick.tick().await;
        if lease.lapsed() {
            fence(driver.as_ref()).await;
        }
    }
}

/// Stops the running fenced VMs at once (no grace: a replacement is about to start).
pub async fn fence(driver: &dyn Driver) -> usize {
    let mut stopped = 0;
    for id in driver.running_ids() {
        if !driver.vm_dir(&id).join(FENCED_MARKER).exists() {
            continue;
        }
        match driver.stop(&id, Duration::ZERO).await {
            Ok(_) => {
                stopped += 1;
                tracing::warn!(vm = %id, after = ?FENCE_AFTER, "fenced: stopped a service replica, the control plane has been silent too long");
            }
            Err(e) => tracing::error!(vm = %id, error = %e, "fencing could not stop a replica"),
        }
    }
    stopped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_lease_lapses_after_the_fence_time_and_renews() {
        let lease = Lease::new();
        assert!(!lease.lapsed());
        tokio::time::advance(FENCE_AFTER + Duration::from_millis(1)).await;
        assert!(lease.lapsed());
        lease.renew();
        assert!(!lease.lapsed());
    }
}
