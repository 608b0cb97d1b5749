//! A fixed-window rate limit per key: per client address for sign-in, sign-up and recovery,
//! per token for the REST API.
//!
//! Sign-in is keyed by address, not by account, so an attacker elsewhere cannot lock a person
//! out of their own passkey sign-in. Time is a parameter so tests control the window.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

const WINDOW_SECONDS: i64 = 60;
/// Forget idle addresses once this many are tracked.
const PRUNE_ABOVE: usize = 10_000;

/// Per key: when its window started and how many requests it has made in it.
type Windows<K> = HashMap<K, (DateTime<Utc>, u32)>;

#[derive(Clone, Debug)]
pub struct RateLimiter<K = IpAddr> {
    limit: u32,
    windows: Arc<Mutex<Windows<K>>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// `limit` requests per address per minute; 0 turns the limit off.
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            windows: Arc::default(),
        }
    }

    /// Counts a request from `key` at `now`; false when it is over the limit.
    pub fn check(&self, key: K, now: DateTime<Utc>) -> bool {
        if self.limit == 0 {
            return true;
        }
        let window = Duration::seconds(WINDOW_SECONDS);
        let Ok(mut map) = self.windows.lock() else {
            // A poisoned lock means a panic elsewhere; failing open keeps sign-in possible.
            return true;
        };
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, (start, _)| now - *start < window);
        }
        let entry = map.entry(key).or_insert((now, 0));
        if now - entry.0 >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_address_within_a_window() {
        let rl: RateLimiter = RateLimiter::per_minute(3);
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!((0..3).all(|_| rl.check(a, t0)));
        assert!(
            !rl.check(a, t0 + Duration::seconds(10)),
            "fourth in the window"
        );
        assert!(
            rl.check(b, t0 + Duration::seconds(10)),
            "other addresses are unaffected"
        );
        assert!(
            rl.check(a, t0 + Duration::seconds(61)),
            "a new window starts"
        );
        assert!(RateLimiter::<IpAddr>::per_minute(0).check(a, t0));
    }
}
