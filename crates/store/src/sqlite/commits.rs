//! Group commit: the deal changes that arrive while the writer is busy are written together,
//! in one transaction, by the one task that takes the writer's turn for them.
//!
//! SQLite has one writer. Written alone, each change is a transaction of its own — take the
//! writer, begin, update, insert, commit, give the writer back — and every step is a round
//! trip to the connection's thread. Under concurrent writers those transactions queue one
//! behind another. Written together, the changes waiting share one begin and one commit, so
//! the more there are, the less each costs.

use std::sync::Arc;

use pipewise_core::ids::WorkspaceId;
use pipewise_core::opportunity::Recorded;
use sqlx::SqlitePool;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{begin_write, record_in};
use crate::retry::retrying;
use crate::{Result, StoreError, Written};

/// The most changes written in one transaction: enough to take in every request a busy
/// server has waiting, few enough that none waits long for the others.
const MOST_PER_COMMIT: usize = 64;
/// How many changes may wait for the writer before callers wait to join the queue.
const QUEUED: usize = 1024;

/// One command's outcome, waiting for its commit.
struct Change {
    workspace: WorkspaceId,
    recorded: Recorded,
    committed: oneshot::Sender<Result<()>>,
}

/// The queue of changes waiting for the writer, and the task that writes them.
pub(super) struct Committer {
    queue: mpsc::Sender<Change>,
    task: JoinHandle<()>,
}

impl Committer {
    /// Starts writing queued changes on `writer`, announcing each on `written` in commit
    /// order. Call within a Tokio runtime.
    pub(super) fn start(writer: SqlitePool, written: broadcast::Sender<Written>) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUED);
        Self {
            queue,
            task: tokio::spawn(commit_waiting(writer, waiting, written)),
        }
    }

    /// Queues a change and waits for its outcome. A change is written even if its caller stops
    /// waiting, as if it had been committed a moment before.
    pub(super) async fn record(&self, workspace: WorkspaceId, recorded: &Recorded) -> Result<()> {
        let (committed, outcome) = oneshot::channel();
        let change = Change {
            workspace,
            recorded: recorded.clone(),
            committed,
        };
        self.queue.send(change).await.map_err(stopped)?;
        outcome.await.map_err(stopped)?
    }
}

/// The answer when the writing task is gone: it panicked, which is a bug.
fn stopped<E>(_gone: E) -> StoreError {
    tracing::error!("the task that writes deal changes to the SQLite file has stopped");
    StoreError::WriterStopped
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Writes what is waiting, as many changes at a time as have arrived, until the queue closes.
async fn commit_waiting(
    writer: SqlitePool,
    mut waiting: mpsc::Receiver<Change>,
    written: broadcast::Sender<Written>,
) {
    let mut changes = Vec::with_capacity(MOST_PER_COMMIT);
    while waiting.recv_many(&mut changes, MOST_PER_COMMIT).await > 0 {
        // On a failure the transaction rolled back whole.
        let outcomes = match retrying(|| write_together(&writer, &changes)).await {
            Ok(outcomes) => outcomes,
            Err(error) if changes.len() == 1 => vec![Err(error)],
            // A change's own data can fail it (it names a record that is gone): each change
            // written alone gets its own outcome, and one change's failure is not the others'.
            Err(StoreError::Conflict(_) | StoreError::Corrupt { .. }) => {
                let mut outcomes = Vec::with_capacity(changes.len());
                for change in &changes {
                    let alone = std::slice::from_ref(change);
                    outcomes.push(match retrying(|| write_together(&writer, alone)).await {
                        Ok(mut outcome) => outcome.pop().unwrap_or(Err(StoreError::WriterStopped)),
                        Err(error) => Err(error),
                    });
                }
                outcomes
            }
            // The database failed (busy past every retry, out of disk): written alone, each
            // would fail the same way, one after another.
            Err(error) => {
                let error = Arc::new(error);
                changes
                    .iter()
                    .map(|_| Err(StoreError::Shared(Arc::clone(&error))))
                    .collect()
            }
        };
        for (change, outcome) in changes.drain(..).zip(outcomes) {
            if outcome.is_ok() {
                // Nobody listening is no error.
                let _ = written.send(Written::Events {
                    workspace: change.workspace,
                    events: change.recorded.events.into(),
                });
            }
            // Neither is a caller that stopped waiting.
            let _ = change.committed.send(outcome);
        }
    }
}

/// Writes `changes` in one transaction. A change refused because its deal changed first, or
/// is gone, wrote nothing, so the others go on without it and it gets its own refusal; any
/// other failure rolls the transaction back whole and is returned.
async fn write_together(writer: &SqlitePool, changes: &[Change]) -> Result<Vec<Result<()>>> {
    let mut tx = begin_write(writer).await?;
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        match record_in(&mut tx, change.workspace.as_uuid(), &change.recorded).await {
            Ok(()) => outcomes.push(Ok(())),
            Err(refused @ (StoreError::VersionConflict { .. } | StoreError::NotFound { .. })) => {
                outcomes.push(Err(refused));
            }
            Err(error) => return Err(error),
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}
