//! Replay: folding an opportunity's events into its state. This is the only code that turns
//! events into state, so the stored state, the API and every history-based number agree.

use super::{Change, Loss, Opportunity, OpportunityEvent, Status};
use crate::ids::OpportunityId;

/// An event that cannot follow the ones before it: the log is damaged or out of order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} of opportunity {opportunity_id}: {problem}")]
pub struct ReplayError {
    pub opportunity_id: OpportunityId,
    pub seq: u32,
    pub problem: String,
}

/// The state after `event`, given the state before it (`None` before the first event).
pub fn apply(
    state: Option<Opportunity>,
    event: &OpportunityEvent,
) -> Result<Opportunity, ReplayError> {
    let fail = |problem: String| ReplayError {
        opportunity_id: event.opportunity_id,
        seq: event.seq,
        problem,
    };
    let mut opp = match (state, &event.change) {
        (None, Change::Created(created)) => {
            if event.seq != 1 {
                return Err(fail("the created event must be the first".into()));
            }
            return Ok(Opportunity {
                id: event.opportunity_id,
                version: 1,
                name: created.name.clone(),
                account_id: created.account_id,
                owner_id: created.owner_id,
                process: created.process.clone(),
                stage: created.stage.clone(),
                status: Status::Open,
                amount: created.amount,
                close_date: created.close_date,
                category_override: None,
                source: created.source.clone(),
                segment: created.segment.clone(),
                competitor: created.competitor.clone(),
                next_step: created.next_step.clone(),
                evidence: created.evidence.clone(),
                loss: None,
                created_at: event.effective_at,
                updated_at: event.effective_at,
            });
        }
        (None, _) => return Err(fail("the log does not start with a created event".into())),
        (Some(_), Change::Created(_)) => return Err(fail("created twice".into())),
        (Some(opp), _) => opp,
    };
    if opp.id != event.opportunity_id {
        return Err(fail(format!(
            "belongs to another opportunity than {}",
            opp.id
        )));
    }
    if event.seq != opp.version + 1 {
        return Err(fail(format!("expected event {} next", opp.version + 1)));
    }
    if event.effective_at < opp.updated_at {
        return Err(fail(format!(
            "takes effect at {}, before the previous event at {}",
            event.effective_at, opp.updated_at
        )));
    }
    let must_be = |opp: &Opportunity, status: Status| {
        if opp.status == status {
            Ok(())
        } else {
            Err(fail(format!(
                "needs a {status} opportunity, but it is {}",
                opp.status
            )))
        }
    };
    let from_matches = |field: &str, matches: bool| {
        if matches {
            Ok(())
        } else {
            Err(fail(format!("its `from` {field} is not the current one")))
        }
    };
    match &event.change {
        Change::Created(_) => unreachable!("handled above"),
        Change::StageChanged(change) => {
            must_be(&opp, Status::Open)?;
            from_matches("stage", change.from == opp.stage)?;
            opp.stage = change.to.clone();
            if change.next_step.is_some() {
                opp.next_step = change.next_step.clone();
            }
        }
        Change::AmountChanged(change) => {
            must_be(&opp, Status::Open)?;
            from_matches("amount", change.from == opp.amount)?;
            opp.amount = change.to;
        }
        Change::CloseDateChanged(change) => {
            must_be(&opp, Status::Open)?;
            from_matches("close date", change.from == opp.close_date)?;
            opp.close_date = change.to;
        }
        Change::CategoryOverridden(change) => {
            must_be(&opp, Status::Open)?;
            let current = opp.category_override.as_ref().map(|o| o.category);
            from_matches("category", change.from == current)?;
            opp.category_override = change.to.clone();
        }
        Change::OwnerChanged(change) => {
            from_matches("owner", change.from == opp.owner_id)?;
            opp.owner_id = change.to;
        }
        Change::ClosedWon(change) => {
            must_be(&opp, Status::Open)?;
            opp.status = Status::Won;
            opp.close_date = change.on;
            opp.category_override = None;
        }
        Change::ClosedLost(change) => {
            must_be(&opp, Status::Open)?;
            opp.status = Status::Lost;
            opp.close_date = change.on;
            opp.category_override = None;
            opp.loss = Some(Loss {
                loss_type: change.loss_type,
                reason: change.reason.clone(),
            });
            if change.competitor.is_some() {
                opp.competitor = change.competitor.clone();
            }
        }
        Change::Reopened(change) => {
            if opp.status == Status::Open {
                return Err(fail("reopens an opportunity that is open".into()));
            }
            opp.status = Status::Open;
            opp.loss = None;
            opp.stage = change.stage.clone();
            opp.close_date = change.close_date;
        }
        Change::FieldChanged(change) => {
            use super::FieldChange::*;
            match change {
                Name(name) => opp.name = name.clone(),
                Account(account) => opp.account_id = *account,
                Source(source) => opp.source = source.clone(),
                Segment(segment) => opp.segment = segment.clone(),
                Competitor(competitor) => opp.competitor = competitor.clone(),
                NextStep(next_step) => opp.next_step = next_step.clone(),
            }
        }
        Change::EvidenceRecorded(change) => {
            must_be(&opp, Status::Open)?;
            opp.evidence.apply(change);
        }
    }
    opp.version = event.seq;
    opp.updated_at = event.effective_at;
    Ok(opp)
}

/// The state after all of `events` (in `seq` order), or `None` for an empty log.
pub fn replay<'a>(
    events: impl IntoIterator<Item = &'a OpportunityEvent>,
) -> Result<Option<Opportunity>, ReplayError> {
    events
        .into_iter()
        .try_fold(None, |state, event| apply(state, event).map(Some))
}
