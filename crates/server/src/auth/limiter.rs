//! Failed sign-ins, counted per e-mail address and per client address: after too many in a
//! window, sign-in is refused until the oldest failure leaves the window, whatever the
//! password. Kept in memory: a restart forgives, which a guesser cannot cause.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed in one window.
const MAX_FAILURES: usize = 5;
/// How long a failure counts.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many keys, keys with no failure left in the window are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// How long until any of `keys` may try again; `None` if all may now.
    pub(crate) fn wait(&self, keys: &[String], now: Instant) -> Option<Duration> {
        let mut failures = self.lock();
        keys.iter()
            .filter_map(|key| {
                let times = failures.get_mut(key)?;
                forget_old(times, now);
                (times.len() >= MAX_FAILURES)
                    .then(|| times.front().map(|first| WINDOW - (now - *first)))
                    .flatten()
            })
            .max()
    }

    pub(crate) fn failed(&self, keys: &[String], now: Instant) {
        let mut failures = self.lock();
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
        for key in keys {
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
        let keys = vec!["acme:raj@acme.example".to_owned(), "ip:10.0.0.1".to_owned()];
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
        // The same client trying another address is held back too.
        let other = vec![
            "acme:rosa@acme.example".to_owned(),
            "ip:10.0.0.1".to_owned(),
        ];
        assert!(limiter.wait(&other, sixth).is_some());
        // Once the first failure is 15 minutes old, one more try is allowed.
        assert_eq!(limiter.wait(&keys, start + WINDOW), None);
        limiter.succeeded("acme:raj@acme.example");
        assert_eq!(limiter.wait(&keys[..1], sixth), None);
    }
}
