//! Checks that a workspace's stored opportunities are exactly what its event log replays to:
//! no state without events, no events without a state, and no difference between the two.

use futures_util::StreamExt;
use pipewise_core::ids::{OpportunityId, WorkspaceId};
use pipewise_core::opportunity::{Opportunity, OpportunityEvent, replay};

use crate::{Result, Store};

/// Problems listed in full; beyond this only their number is kept.
const MAX_LISTED: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    pub opportunities: u64,
    pub events: u64,
    /// How many problems were found, of all kinds.
    pub problem_count: u64,
    /// The first problems found, described.
    pub problems: Vec<String>,
}

impl IntegrityReport {
    pub fn is_consistent(&self) -> bool {
        self.problem_count == 0
    }

    fn problem(&mut self, description: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(description);
        }
    }
}

/// Streams every state and every event of a workspace (both in opportunity-id order) and
/// replays each opportunity's events against its stored state.
pub async fn check(store: &dyn Store, workspace: WorkspaceId) -> Result<IntegrityReport> {
    let mut report = IntegrityReport::default();
    let mut states = store.all_opportunities(workspace);
    let mut events = store.event_log(workspace);
    let mut next_state = states.next().await.transpose()?;
    let mut next_event = events.next().await.transpose()?;
    loop {
        let current = match (&next_state, &next_event) {
            (None, None) => break,
            (Some(state), Some(event)) => state.id.min(event.opportunity_id),
            (Some(state), None) => state.id,
            (None, Some(event)) => event.opportunity_id,
        };
        let mut log: Vec<OpportunityEvent> = Vec::new();
        while let Some(event) = next_event.take_if(|e| e.opportunity_id == current) {
            log.push(event);
            next_event = events.next().await.transpose()?;
        }
        report.events += log.len() as u64;
        let stored = match next_state.take_if(|s| s.id == current) {
            Some(state) => {
                report.opportunities += 1;
                next_state = states.next().await.transpose()?;
                Some(state)
            }
            None => None,
        };
        compare(&mut report, current, stored, &log);
    }
    Ok(report)
}

fn compare(
    report: &mut IntegrityReport,
    id: OpportunityId,
    stored: Option<Opportunity>,
    log: &[OpportunityEvent],
) {
    match (stored, replay(log)) {
        (_, Err(error)) => report.problem(format!("{error}")),
        (Some(_), Ok(None)) => report.problem(format!("opportunity {id} has no events")),
        (None, Ok(Some(_))) => report.problem(format!("events of opportunity {id} have no state")),
        (Some(stored), Ok(Some(replayed))) if stored != replayed => report.problem(format!(
            "opportunity {id}: stored state differs from its replayed events \
             (stored version {}, replayed version {})",
            stored.version, replayed.version
        )),
        _ => {}
    }
}
