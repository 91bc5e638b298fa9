//! API tokens as this server last read them, so a program's request costs the database one
//! query (the record it asks for) rather than two. A token is read again once it has been
//! kept for [`FRESH_FOR`]: a token revoked by another process on the same database is refused
//! within that time, one revoked through this server at once.
//! The secret a request presents is checked against the kept hash every time, as it would be
//! against the stored one; only tokens the store holds are kept.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pipewise_core::credentials::ApiToken;
use pipewise_core::ids::{TokenId, WorkspaceId};
use pipewise_store::StoreError;

use crate::directory::FRESH_FOR;

/// A token's record and the hash of its secret, as the store holds them.
#[derive(Clone)]
pub(crate) struct StoredToken {
    pub(crate) token: ApiToken,
    pub(crate) hash: Vec<u8>,
}

pub(crate) struct KnownTokens {
    known: Mutex<Known>,
    /// [`FRESH_FOR`] outside tests.
    fresh_for: Duration,
}

#[derive(Default)]
struct Known {
    /// How many times a token was forgotten: a read that began before a forgetting is not
    /// kept, for it may predate the revocation.
    forgotten: u64,
    /// Each token with when its read began.
    tokens: HashMap<(WorkspaceId, TokenId), (Instant, Arc<StoredToken>)>,
}

impl Default for KnownTokens {
    fn default() -> Self {
        Self::with_fresh_for(FRESH_FOR)
    }
}

impl KnownTokens {
    fn with_fresh_for(fresh_for: Duration) -> Self {
        Self {
            known: Mutex::default(),
            fresh_for,
        }
    }

    /// The token `id` of `workspace`: the one kept if it is fresh, else what `read` reads from
    /// the store, which is kept unless the store fails or a token was forgotten meanwhile.
    pub(crate) async fn get<F>(
        &self,
        workspace: WorkspaceId,
        id: TokenId,
        read: impl FnOnce() -> F,
    ) -> Result<Arc<StoredToken>, StoreError>
    where
        F: Future<Output = Result<(ApiToken, Vec<u8>), StoreError>>,
    {
        let forgotten = {
            let known = self.lock();
            if let Some((read_at, stored)) = known.tokens.get(&(workspace, id)) {
                if read_at.elapsed() < self.fresh_for {
                    return Ok(stored.clone());
                }
            }
            known.forgotten
        };
        let began = Instant::now();
        let (token, hash) = read().await?;
        let stored = Arc::new(StoredToken { token, hash });
        let mut known = self.lock();
        if known.forgotten == forgotten {
            known
                .tokens
                .insert((workspace, id), (began, stored.clone()));
        }
        Ok(stored)
    }

    /// Forgets a token this server has just revoked, so its next use is checked in the store.
    pub(crate) fn forget(&self, workspace: WorkspaceId, id: TokenId) {
        let mut known = self.lock();
        known.forgotten += 1;
        known.tokens.remove(&(workspace, id));
    }

    /// Notes that the token's use at `at` is being recorded, so the kept token does not ask
    /// for it to be recorded again before a minute has passed.
    pub(crate) fn used(&self, workspace: WorkspaceId, id: TokenId, at: DateTime<Utc>) {
        if let Some((_, stored)) = self.lock().tokens.get_mut(&(workspace, id)) {
            Arc::make_mut(stored).token.last_used_at = Some(at);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use pipewise_core::credentials::TokenScope;
    use pipewise_core::ids::UserId;
    use pipewise_core::text::Label;
    use tokio::sync::oneshot;

    use super::*;

    fn token(id: TokenId) -> ApiToken {
        ApiToken {
            id,
            user_id: UserId::generate(),
            name: Label::parse("Nightly sync").unwrap(),
            scope: TokenScope::Read,
            created_at: Utc::now(),
            last_used_at: None,
            revoked_at: None,
        }
    }

    /// A store read that counts how often it is made, and finds the token revoked from the
    /// third read on.
    struct Reads(AtomicUsize);

    impl Reads {
        fn new() -> Self {
            Self(AtomicUsize::new(0))
        }

        fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }

        fn read(
            &self,
            id: TokenId,
        ) -> impl Future<Output = Result<(ApiToken, Vec<u8>), StoreError>> + use<> {
            let made = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                let mut token = token(id);
                if made >= 3 {
                    token.revoked_at = Some(Utc::now());
                }
                Ok((token, vec![7; 32]))
            }
        }
    }

    #[tokio::test]
    async fn a_fresh_token_is_read_once_and_a_forgotten_one_again() {
        let (known, reads) = (KnownTokens::default(), Reads::new());
        let (workspace, id) = (WorkspaceId::generate(), TokenId::generate());
        for _ in 0..3 {
            let stored = known.get(workspace, id, || reads.read(id)).await.unwrap();
            assert_eq!(stored.hash, vec![7; 32]);
        }
        assert_eq!(reads.count(), 1);

        // The same token id under another workspace is not the kept one.
        known
            .get(WorkspaceId::generate(), id, || reads.read(id))
            .await
            .unwrap();
        assert_eq!(reads.count(), 2);

        known.forget(workspace, id);
        let revoked = known.get(workspace, id, || reads.read(id)).await.unwrap();
        assert!(revoked.token.revoked_at.is_some());
        assert_eq!(reads.count(), 3);
    }

    #[tokio::test]
    async fn a_token_kept_for_its_fresh_time_is_read_again() {
        let (known, reads) = (KnownTokens::with_fresh_for(Duration::ZERO), Reads::new());
        let (workspace, id) = (WorkspaceId::generate(), TokenId::generate());
        for _ in 0..3 {
            known.get(workspace, id, || reads.read(id)).await.unwrap();
        }
        assert_eq!(reads.count(), 3);
    }

    #[tokio::test]
    async fn a_read_under_way_when_a_token_is_forgotten_is_not_kept() {
        let (known, reads) = (KnownTokens::default(), Reads::new());
        let (workspace, id) = (WorkspaceId::generate(), TokenId::generate());
        let (release, released) = oneshot::channel::<()>();
        let slow = known.get(workspace, id, || async {
            released.await.unwrap();
            Ok((token(id), vec![7; 32]))
        });
        let revoke = async {
            // The slow read has begun: the first poll of the join ran it up to its wait.
            tokio::task::yield_now().await;
            known.forget(workspace, id);
            release.send(()).unwrap();
        };
        let (read, ()) = tokio::join!(slow, revoke);
        assert!(read.unwrap().token.revoked_at.is_none());

        known.get(workspace, id, || reads.read(id)).await.unwrap();
        assert_eq!(
            reads.count(),
            1,
            "the read from before the forgetting was not kept"
        );
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let (known, reads) = (KnownTokens::default(), Reads::new());
        let (workspace, id) = (WorkspaceId::generate(), TokenId::generate());
        let missing = known
            .get(workspace, id, || async {
                Err(StoreError::NotFound {
                    what: "API token",
                    key: id.to_string(),
                })
            })
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound { .. })));
        known.get(workspace, id, || reads.read(id)).await.unwrap();
        assert_eq!(reads.count(), 1);
    }

    #[tokio::test]
    async fn a_recorded_use_shows_on_the_kept_token() {
        let (known, reads) = (KnownTokens::default(), Reads::new());
        let (workspace, id) = (WorkspaceId::generate(), TokenId::generate());
        let first = known.get(workspace, id, || reads.read(id)).await.unwrap();
        assert_eq!(first.token.last_used_at, None);
        let at = Utc::now();
        known.used(workspace, id, at);
        let again = known.get(workspace, id, || reads.read(id)).await.unwrap();
        assert_eq!(again.token.last_used_at, Some(at));
        assert_eq!(reads.count(), 1);
    }
}
