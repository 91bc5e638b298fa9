//! Records passed from the reading thread to the writer while reading goes on, so that the
//! database is written on one core while the files are read on the other.

use std::sync::atomic::{AtomicBool, Ordering};

use pipewise_core::external::ExternalSystem;
use pipewise_store::Batch;
use tokio::sync::mpsc::Sender;

use crate::Prepared;

/// Records written per transaction: large enough to amortise the commit, small enough that
/// an interrupted import loses little work.
pub(crate) const BATCH_RECORDS: usize = 5_000;

/// What the reader sends the writer.
#[derive(Debug)]
pub(crate) enum Message {
    /// Comes first: how many new deals the import brings, which decides how to load them.
    Start {
        deals: u64,
    },
    Batch(Box<Batch>),
}

/// Where a reader puts the records it has finished: kept in its [`Prepared`] for the caller
/// (a dry run), or sent to the writer. Records are handed over only once every record they
/// refer to has been, so the writer can store each batch as it comes.
#[derive(Debug)]
pub(crate) struct HandOver {
    /// The writer, and the system whose ids the batches record.
    to: Option<(Sender<Message>, ExternalSystem)>,
    started: AtomicBool,
    /// The writer has gone (it failed): reading can stop.
    stopped: AtomicBool,
}

impl HandOver {
    /// Records stay with the reader.
    pub(crate) fn keep() -> Self {
        Self::new(None)
    }

    pub(crate) fn to(writer: Sender<Message>, system: ExternalSystem) -> Self {
        Self::new(Some((writer, system)))
    }

    fn new(to: Option<(Sender<Message>, ExternalSystem)>) -> Self {
        Self {
            to,
            started: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        }
    }

    /// Whether records go to a writer while reading goes on.
    pub(crate) fn streams(&self) -> bool {
        self.to.is_some()
    }

    /// Whether the writer has stopped taking records.
    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Tells the writer how many new deals to expect, before the first batch. Only the first
    /// call counts.
    pub(crate) fn start(&self, deals: u64) {
        if !self.started.swap(true, Ordering::Relaxed) {
            self.deliver(Message::Start { deals });
        }
    }

    /// Sends the records `out` holds to the writer in batches, leaving its counts, issues and
    /// notices; without a writer, leaves everything. Called from the reading thread, never
    /// from an asynchronous task.
    pub(crate) fn send(&self, out: &mut Prepared) {
        let Some((_, system)) = &self.to else { return };
        let records = out.take_records();
        self.start(records.opportunities.len() as u64);
        for batch in records.into_batches(*system, BATCH_RECORDS) {
            self.deliver(Message::Batch(Box::new(batch)));
        }
    }

    fn deliver(&self, message: Message) {
        let Some((to, _)) = &self.to else { return };
        if self.stopped() || to.blocking_send(message).is_err() {
            self.stopped.store(true, Ordering::Relaxed);
        }
    }
}
