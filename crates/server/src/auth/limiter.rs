//! Failed sign-ins, counted per e-mail address and per client address: after too many in a
//! window, sign-in is refused until the oldest failure leaves the window, whatever the
//! password. A client address may fail more often than one account, since an office or a
//! proxy puts many people behind one. Kept in memory: a restart forgives, which a guesser
//! cannot cause.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed in one window for one e-mail address.
pub(crate) const MAX_FAILURES_PER_ACCOUNT: usize = 5;
/// Failures allowed in one window from one client address.
pub(crate) const MAX_FAILURES_PER_CLIENT: usize = 50;
/// How long a failure counts.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many keys, keys with no failure left in the window are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// How long until any of `keys`, each with the failures it is allowed, may try again;
    /// `None` if all may now.
    pub(crate) fn wait(&self, keys: &[(String, usize)], now: Instant) -> Option<Duration> {
        let mut failures = self.lock();
        keys.iter()
            .filter_map(|(key, allowed)| {
                let times = failures.get_mut(key)?;
                forget_old(times, now);
                // The oldest failure that keeps the count at its limit must leave first.
                let excess = times.len().checked_sub(*allowed)?;
                times.get(excess).map(|oldest| WINDOW - (now - *oldest))
            })
            .max()
    }

    pub(crate) fn failed(&self, keys: &[(String, usize)], now: Instant) {
        let mut failures = self.lock();
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
        for (key, _) in keys {
            failures.entry(key.clone()).or_default().push_back(now);
        }
    }

    /// A successful sign-in clears its e-mail address's failures.
    pub(crate) fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // The map holds plain counts; one left by a panicking thread is still usable.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|t| now - *t >= WINDOW) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_try_within_the_window_waits_for_the_first_to_expire() {
        let limiter = LoginLimiter::default();
        let raj = ("acme:raj@acme.example".to_owned(), MAX_FAILURES_PER_ACCOUNT);
        let client = ("ip:10.0.0.1".to_owned(), MAX_FAILURES_PER_CLIENT);
        let keys = vec![raj.clone(), client.clone()];
        let start = Instant::now();
        for minute in 0..5 {
            let at = start + Duration::from_secs(60 * minute);
            assert_eq!(limiter.wait(&keys, at), None);
            limiter.failed(&keys, at);
        }
        let sixth = start + Duration::from_secs(5 * 60);
        assert_eq!(
            limiter.wait(&keys, sixth),
            Some(Duration::from_secs(10 * 60))
        );
        // Another account from the same client may still try: the client has 45 left.
        let rosa = (
            "acme:rosa@acme.example".to_owned(),
            MAX_FAILURES_PER_ACCOUNT,
        );
        assert_eq!(limiter.wait(&[rosa.clone(), client.clone()], sixth), None);
        // Once the first failure is 15 minutes old, one more try is allowed.
        assert_eq!(limiter.wait(&keys, start + WINDOW), None);
        limiter.succeeded(&raj.0);
        assert_eq!(limiter.wait(&keys, sixth), None);
        // Fifty failures from one client hold back every account it tries (four of its
        // first five are still in the window).
        for _ in 0..46 {
            limiter.failed(std::slice::from_ref(&client), sixth);
        }
        assert!(limiter.wait(&[rosa, client], sixth).is_some());
    }
}
