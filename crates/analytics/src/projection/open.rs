//! The open pipeline as it stands now, by stage: what a pipeline board totals in its columns,
//! read from each deal's latest span rather than from the store.

use std::collections::{HashMap, HashSet};

use pipewise_core::calendar::DateRange;
use pipewise_core::ids::UserId;
use pipewise_core::money::Money;
use pipewise_core::opportunity::Status;
use pipewise_core::process::{ForecastCategory, ProcessKey, StageKey};

use super::outcomes::day_in;
use super::{Projection, Tally};

/// Which open deals a count of the pipeline takes in; `None` takes in every one.
#[derive(Debug, Clone, Copy)]
pub struct OpenFilter<'a> {
    pub process: &'a ProcessKey,
    pub owners: Option<&'a HashSet<UserId>>,
    pub closing: Option<DateRange>,
    pub segment: Option<&'a str>,
    /// The deal's category, the rep's override included.
    pub category: Option<ForecastCategory>,
}

impl Projection {
    /// The open deals `filter` keeps, as they stand after every event, counted by stage with
    /// their amounts summed as `amount` values each deal's (0 for a deal without one).
    pub fn open_by_stage(
        &self,
        filter: &OpenFilter,
        amount: impl Fn(Money) -> i64,
    ) -> HashMap<StageKey, Tally> {
        let in_period = filter.closing.map(day_in);
        let mut by_stage: HashMap<StageKey, Tally> = HashMap::new();
        let segment = match filter.segment {
            None => None,
            Some(wanted) => match self.labels.codes.iter().find(|(l, _)| l.as_str() == wanted) {
                Some((_, code)) => Some(*code),
                // No deal ever had the segment.
                None => return by_stage,
            },
        };
        for d in 0..self.deals.id.len() {
            let span = self.deals.last[d] as usize;
            if self.spans.status[span] != Status::Open
                || filter
                    .category
                    .is_some_and(|c| self.spans.category[span] != c)
                || segment.is_some_and(|s| self.deals.segment[d] != s)
                || in_period
                    .as_ref()
                    .is_some_and(|due| !due(self.spans.close_date[span]))
            {
                continue;
            }
            let info = &self.stages[self.spans.stage[span] as usize];
            let owner = self.people.value(self.spans.owner[span]);
            if &info.process != filter.process || filter.owners.is_some_and(|o| !o.contains(owner))
            {
                continue;
            }
            let value = self.currency(span).map_or(0, |currency| {
                amount(Money::new(self.spans.amount[span], currency))
            });
            let tally = by_stage.entry(info.stage.clone()).or_default();
            tally.count += 1;
            tally.amount = tally.amount.saturating_add(value);
        }
        by_stage
    }
}
