//! Work spread over every core: each item once, on whichever thread is free, every failure
//! reported together.

use std::sync::Mutex;

use anyhow::{bail, Result};

/// Runs `work` on every item (in order of the slice, as threads free up) with one thread per
/// core; all items run even when some fail.
pub fn each<T: Sync>(items: &[T], work: impl Fn(&T) -> Result<()> + Sync) -> Result<()> {
    let queue = Mutex::new(items.iter());
    let failed = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let next = queue.lock().map(|mut q| q.next()).ok().flatten();
                let Some(item) = next else { break };
                if let Err(e) = work(item) {
                    if let Ok(mut f) = failed.lock() {
                        f.push(format!("{e:#}"));
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_default();
    if !failed.is_empty() {
        bail!("{}", failed.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_item_runs_once_and_failures_are_all_told() {
        let ran = AtomicUsize::new(0);
        let items: Vec<u32> = (0..50).collect();
        let result = each(&items, |n| {
            ran.fetch_add(1, Ordering::SeqCst);
            if n % 20 == 7 {
                bail!("item {n} failed")
            }
            Ok(())
        });
        assert_eq!(ran.load(Ordering::SeqCst), 50);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("item 7 failed")
                && message.contains("item 27 failed")
                && message.contains("item 47 failed"),
            "{message}"
        );
    }
}
