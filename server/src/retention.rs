//! Audit retention: when configured, hourly deletion of audit rows older than the limit.
//! (Without it, rows are kept forever; nothing else in Strata deletes them.)

use control::Control;

pub fn spawn(control: Control, days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let cutoff = control.now() - chrono::Duration::days(i64::from(days));
            match control.prune_audit(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, days, "audit rows past retention deleted"),
                Err(e) => tracing::warn!(error = %e, "audit retention failed"),
            }
        }
    });
}
