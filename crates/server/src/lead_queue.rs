//! The sales queue kept resident: each workspace's leads waiting for an attempt, with the
//! attempts made on them, read from the store once and then kept current by reading again
//! only the leads the store announces as written. The response clocks run with time, so they
//! are worked out at each request from what is kept.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pipewise_core::calendar::business::BusinessCalendar;
use pipewise_core::crm::Lead;
use pipewise_core::ids::{LeadId, WorkspaceId};
use pipewise_core::leads::settings::LeadSettings;
use pipewise_core::leads::speed::{Clock, SpeedToLead};
use pipewise_store::leads::{QueuedLead, queued, queued_lead};
use pipewise_store::{Store, StoreError, Written};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::TryRecvError;

/// How often the announcements are taken in when no request does it.
const TAKE_IN_EVERY: Duration = Duration::from_secs(1);

/// A workspace's waiting leads, in id order so that leads due at the same time keep one
/// order from request to request, each with its response clock.
pub(crate) struct Queue {
    leads: BTreeMap<LeadId, Clocked>,
    /// The windows and business hours the clocks were worked out by.
    clocked_by: (SpeedToLead, BusinessCalendar),
    /// The value of [`LeadQueues::lags`] when the queue was read from the store.
    lags: u64,
}

struct Clocked {
    queued: QueuedLead,
    /// `None` if the lead waits no longer by the settings' reckoning.
    clock: Option<Clock>,
}

impl Clocked {
    fn new(queued: QueuedLead, settings: &LeadSettings) -> Self {
        let clock = settings.waiting_clock(&queued.lead, &queued.attempts);
        Self { queued, clock }
    }
}

impl Queue {
    fn new(leads: Vec<QueuedLead>, settings: &LeadSettings, lags: u64) -> Self {
        Self {
            leads: leads
                .into_iter()
                .map(|q| (q.lead.id, Clocked::new(q, settings)))
                .collect(),
            clocked_by: clocked_by(settings),
            lags,
        }
    }

    /// The waiting leads with their clocks.
    pub(crate) fn waiting(&self) -> impl Iterator<Item = (&Lead, &Clock)> {
        self.leads
            .values()
            .filter_map(|c| Some((&c.queued.lead, c.clock.as_ref()?)))
    }

    /// Works every clock out again if `settings` time leads differently.
    fn clock_by(&mut self, settings: &LeadSettings) {
        if self.clocked_by == clocked_by(settings) {
            return;
        }
        for clocked in self.leads.values_mut() {
            clocked.clock = settings.waiting_clock(&clocked.queued.lead, &clocked.queued.attempts);
        }
        self.clocked_by = clocked_by(settings);
    }
}

fn clocked_by(settings: &LeadSettings) -> (SpeedToLead, BusinessCalendar) {
    (settings.speed_to_lead, settings.calendar.clone())
}

type Slot = Arc<tokio::sync::Mutex<Option<Queue>>>;

/// What was written to a workspace since its queue was last brought up to date.
#[derive(Default)]
struct Pending {
    leads: HashSet<LeadId>,
    /// Many records at once: the queue is read again whole.
    replaced: bool,
}

/// Each workspace's sales queue.
pub(crate) struct LeadQueues {
    store: Arc<dyn Store>,
    /// The store's announcements, taken in before each answer, so that a write already
    /// answered is always seen, and every [`TAKE_IN_EVERY`] besides, so that they do not
    /// pile up while no one looks at a queue.
    written: Mutex<Receiver<Written>>,
    pending: Mutex<HashMap<WorkspaceId, Pending>>,
    /// Times announcements were missed; every queue read before the last is read again.
    lags: AtomicU64,
    slots: Mutex<HashMap<WorkspaceId, Slot>>,
}

impl LeadQueues {
    /// Starts following the store's writes. Call within a Tokio runtime.
    pub(crate) fn start(store: Arc<dyn Store>) -> Arc<Self> {
        let queues = Arc::new(Self {
            written: Mutex::new(store.subscribe()),
            store,
            pending: Mutex::default(),
            lags: AtomicU64::new(0),
            slots: Mutex::default(),
        });
        let weak = Arc::downgrade(&queues);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TAKE_IN_EVERY);
            loop {
                every.tick().await;
                match weak.upgrade() {
                    Some(queues) => queues.take_in(),
                    None => return,
                }
            }
        });
        queues
    }

    /// Answers `read` from the workspace's queue, brought up to date first: read whole the
    /// first time, then only the leads written since; clocked by `settings`.
    pub(crate) async fn read<R>(
        &self,
        workspace: WorkspaceId,
        settings: &LeadSettings,
        read: impl FnOnce(&Queue) -> R,
    ) -> Result<R, StoreError> {
        self.take_in();
        let slot = self.slot(workspace);
        let mut kept = slot.lock().await;
        // Taken while holding the slot: whoever takes a lead brings the queue up to date
        // with it before anyone reads the queue.
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&workspace)
            .unwrap_or_default();
        let lags = self.lags.load(Ordering::Acquire);
        let mut current = match kept.take() {
            Some(queue) if !pending.replaced && queue.lags == lags => {
                self.update(workspace, queue, pending.leads, settings)
                    .await?
            }
            _ => Queue::new(queued(&*self.store, workspace).await?, settings, lags),
        };
        current.clock_by(settings);
        Ok(read(kept.insert(current)))
    }

    /// `queue` with each of `leads` read again. On an error the queue is dropped, to be read
    /// whole by the next request, since the leads taken would otherwise be forgotten.
    async fn update(
        &self,
        workspace: WorkspaceId,
        mut queue: Queue,
        leads: HashSet<LeadId>,
        settings: &LeadSettings,
    ) -> Result<Queue, StoreError> {
        for id in leads {
            match queued_lead(&*self.store, workspace, id).await? {
                Some(waiting) => queue.leads.insert(id, Clocked::new(waiting, settings)),
                None => queue.leads.remove(&id),
            };
        }
        Ok(queue)
    }

    fn slot(&self, workspace: WorkspaceId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(workspace).or_default().clone()
    }

    /// Takes in the announcements made so far.
    fn take_in(&self) {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match written.try_recv() {
                Ok(Written::Record { workspace, leads }) => {
                    pending.entry(workspace).or_default().leads.extend(leads);
                }
                Ok(Written::Touch {
                    workspace,
                    lead: Some(lead),
                    ..
                }) => {
                    pending.entry(workspace).or_default().leads.insert(lead);
                }
                Ok(Written::Replaced { workspace }) => {
                    pending.entry(workspace).or_default().replaced = true;
                }
                Ok(Written::Events { .. } | Written::Touch { lead: None, .. }) => {}
                Err(TryRecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "the lead queue fell behind the writes; reading it again"
                    );
                    self.lags.fetch_add(1, Ordering::Release);
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }
}
