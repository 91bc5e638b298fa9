//! What the hygiene rules need from the event log, gathered in one pass over it: how long
//! completed stage visits lasted, when each open deal entered its stage, and how often its
//! close date was pushed in the current quarter.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::calendar::{DateRange, FiscalCalendar};
use crate::ids::OpportunityId;
use crate::keys::{ProcessKey, StageKey};
use crate::opportunity::{Change, OpportunityEvent};
use crate::stats::nearest_rank;

/// Completed visits count towards a stage's P75 if they ended within this many days.
const VISIT_WINDOW_DAYS: i64 = 365;
/// Fewer completed visits than this and a stage's P75 falls back to its typical duration.
pub const MIN_VISITS_FOR_P75: usize = 5;

#[derive(Debug, Clone)]
pub struct StageHistory {
    as_of: NaiveDate,
    visit_window: DateRange,
    push_period: DateRange,
    /// Whole days of completed visits per process and stage.
    visits: BTreeMap<(ProcessKey, StageKey), Vec<i64>>,
    /// When an open deal entered the stage it is in.
    entered: HashMap<OpportunityId, DateTime<Utc>>,
    pushes: HashMap<OpportunityId, u32>,
    /// The deal whose events are being read, and its current visit.
    reading: Option<Reading>,
}

#[derive(Debug, Clone)]
struct Reading {
    id: OpportunityId,
    process: ProcessKey,
    /// The open visit: stage and entry time; `None` once the deal closed.
    visit: Option<(StageKey, DateTime<Utc>)>,
}

impl StageHistory {
    /// Reads history up to and including `as_of`; pushes count in the fiscal quarter that
    /// contains it.
    pub fn new(as_of: NaiveDate, calendar: &FiscalCalendar) -> Self {
        Self {
            as_of,
            visit_window: DateRange::new(
                as_of - Duration::days(VISIT_WINDOW_DAYS - 1),
                as_of + Duration::days(1),
            ),
            push_period: calendar.range(calendar.quarter_of(as_of)),
            visits: BTreeMap::new(),
            entered: HashMap::new(),
            pushes: HashMap::new(),
            reading: None,
        }
    }

    /// Takes in the next event; each deal's events must come together and in order.
    pub fn observe(&mut self, event: &OpportunityEvent) {
        let day = event.effective_at.date_naive();
        if day > self.as_of {
            return;
        }
        let at = event.effective_at;
        if let Change::Created(created) = &event.change {
            self.finish_reading();
            self.reading = Some(Reading {
                id: event.opportunity_id,
                process: created.process.clone(),
                visit: Some((created.stage.clone(), at)),
            });
            return;
        }
        let Some(reading) = self
            .reading
            .as_mut()
            .filter(|r| r.id == event.opportunity_id)
        else {
            return;
        };
        let mut completed = None;
        match &event.change {
            Change::StageChanged(moved) => {
                completed = reading.visit.replace((moved.to.clone(), at));
            }
            Change::ClosedWon(_) | Change::ClosedLost(_) => completed = reading.visit.take(),
            Change::Reopened(reopened) => reading.visit = Some((reopened.stage.clone(), at)),
            Change::CloseDateChanged(change)
                if change.to > change.from && self.push_period.contains(day) =>
            {
                *self.pushes.entry(event.opportunity_id).or_default() += 1;
            }
            _ => {}
        }
        if let Some((stage, entered)) = completed {
            if self.visit_window.contains(day) {
                let process = reading.process.clone();
                self.visits
                    .entry((process, stage))
                    .or_default()
                    .push((at - entered).num_days());
            }
        }
    }

    /// Ends reading; call after the last event.
    pub fn finish(mut self) -> Self {
        self.finish_reading();
        for days in self.visits.values_mut() {
            days.sort_unstable();
        }
        self
    }

    fn finish_reading(&mut self) {
        if let Some(Reading {
            id,
            visit: Some((_, entered)),
            ..
        }) = self.reading.take()
        {
            self.entered.insert(id, entered);
        }
    }

    /// The 75th percentile (nearest rank) of completed visits to the stage, in days, and how
    /// many visits it rests on; `None` without any.
    pub fn p75_days(&self, process: &ProcessKey, stage: &StageKey) -> Option<(i64, usize)> {
        let days = self.visits.get(&(process.clone(), stage.clone()))?;
        nearest_rank(days, 75).map(|p75| (p75, days.len()))
    }

    /// Whole days an open deal has been in its current stage on the as-of day.
    pub fn days_in_stage(&self, id: OpportunityId) -> Option<i64> {
        self.entered
            .get(&id)
            .map(|entered| (self.as_of - entered.date_naive()).num_days())
    }

    /// Close-date pushes (to a later date) in the as-of quarter.
    pub fn pushes(&self, id: OpportunityId) -> u32 {
        self.pushes.get(&id).copied().unwrap_or(0)
    }
}
