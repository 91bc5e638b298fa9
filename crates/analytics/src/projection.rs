//! The projection: every deal's history as a chain of *spans*, each the deal's state from one
//! event until the next, stored column by column so scans over millions of deals touch only
//! the columns they need.
//!
//! A new event appends one span and links it to its deal's previous one, so an update costs
//! the same whatever the size of the history. Evidence events and activities the deal model
//! reads (stakeholders, gates, calls, e-mails, meetings) go to a chain of dated signals per
//! deal beside the spans; events that change nothing a number reads (descriptive fields, the
//! rest of the evidence) only advance the deal's sequence number.

mod coverage;
mod forecasting;
mod open;
mod outcomes;
mod signals;
mod slicing;
mod stages;
mod velocity;
mod waterfall;

pub use coverage::{Coverage, CoverageMode};
pub use forecasting::{CategoryHistory, CategoryHistoryRow, OpenDeal};
pub(crate) use forecasting::{Facts, Observation};
pub use open::OpenFilter;
pub use outcomes::{Outcomes, Ratio, Tally, required_coverage};
pub use slicing::{Dimension, NO_VALUE, SizeBands, Slice, SliceContext, Slicing};
pub use stages::{Conversion, StageTime, StageWins};
pub use velocity::{Flow, SalesCycle, Velocity};
pub use waterfall::Waterfall;

use signals::Signals;
use slicing::Groups;

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use pipewise_core::crm::DealTouch;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::ids::{AccountId, OpportunityId, UserId};
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{Change, FieldChange, LossType, OpportunityEvent, Status};
use pipewise_core::process::{ForecastCategory, ProcessKey, ProcessSet, StageKey};
use pipewise_core::text::Label;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// No span: the end of a chain.
const END: u32 = u32::MAX;
/// No amount, or no category override.
const NONE_U16: u16 = u16::MAX;
const NONE_U8: u8 = u8::MAX;

/// An event the projection cannot take: out of order, for an unknown deal, or naming a stage
/// no process in force has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} of opportunity {opportunity_id}: {problem}")]
pub struct ProjectionError {
    pub opportunity_id: OpportunityId,
    pub seq: u32,
    pub problem: String,
}

/// A deal's state at a moment, as the projection holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealState {
    pub opportunity_id: OpportunityId,
    pub process: ProcessKey,
    pub stage: StageKey,
    pub status: Status,
    pub category: ForecastCategory,
    pub amount: Option<Money>,
    pub close_date: NaiveDate,
    pub owner_id: UserId,
}

/// Open deals of one forecast category: how many, and their amounts per currency in minor
/// units (conversion to the corporate currency comes with the exchange-rate table).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CategoryTotals {
    pub count: u64,
    pub amounts: BTreeMap<Currency, i64>,
}

/// The open pipeline at a moment, by forecast category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Pipeline {
    pub categories: BTreeMap<ForecastCategory, CategoryTotals>,
}

/// Stable small numbers for values that repeat across millions of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interner<T: Eq + Hash + Clone> {
    values: Vec<T>,
    codes: HashMap<T, u32>,
}

impl<T: Eq + Hash + Clone> Default for Interner<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            codes: HashMap::new(),
        }
    }
}

impl<T: Eq + Hash + Clone> Interner<T> {
    fn code(&mut self, value: &T) -> u32 {
        if let Some(code) = self.codes.get(value) {
            return *code;
        }
        let code = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value.clone());
        self.codes.insert(value.clone(), code);
        code
    }

    /// The value of a code this interner handed out.
    fn value(&self, code: u32) -> &T {
        &self.values[code as usize]
    }
}

/// What the projection needs to know of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StageInfo {
    process: ProcessKey,
    stage: StageKey,
    category: ForecastCategory,
    /// At or after the process's SAL stage.
    qualified: bool,
    /// How long buyers usually stay in the stage, in days (at least one).
    typical_days: u32,
}

/// One row per deal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Deals {
    id: Vec<OpportunityId>,
    first: Vec<u32>,
    last: Vec<u32>,
    /// The `seq` of the latest event applied.
    seq: Vec<u32>,
    /// When the deal first reached its process's SAL stage, if it has.
    qualified_at: Vec<Option<i64>>,
    /// The deal's latest account, segment, source and competitor (interned; `NONE` for none).
    account: Vec<u32>,
    segment: Vec<u32>,
    source: Vec<u32>,
    competitor: Vec<u32>,
    /// When a competitor was first named on the deal (`i64::MAX`: never), so a model reading
    /// a past moment does not learn from a competitor named only when the deal was lost.
    competitor_since: Vec<i64>,
    /// The earliest and latest close date any span of the deal had: a deal never due in a
    /// period plays no part in it, and scans of the period pass it by without a walk.
    due: Vec<(i32, i32)>,
}

/// One row per span, in the order events arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Spans {
    /// Effective time of the event that started the span, in microseconds since 1970.
    from: Vec<i64>,
    next: Vec<u32>,
    stage: Vec<u16>,
    status: Vec<Status>,
    category: Vec<ForecastCategory>,
    /// The hand-set category, or `NONE_U8`.
    overridden: Vec<u8>,
    amount: Vec<i64>,
    /// Interned currency of `amount`, or `NONE_U16` for no amount.
    currency: Vec<u16>,
    /// Days since 1 January of year 1.
    close_date: Vec<i32>,
    owner: Vec<u32>,
    /// How a lost deal was lost.
    loss: Vec<Option<LossType>>,
}

/// The values of one span while it is being built.
#[derive(Debug, Clone, Copy)]
struct Row {
    from: i64,
    stage: u16,
    status: Status,
    overridden: u8,
    amount: i64,
    currency: u16,
    close_date: i32,
    owner: u32,
    loss: Option<LossType>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    stages: Vec<StageInfo>,
    stage_codes: HashMap<(ProcessKey, StageKey), u16>,
    deals: Deals,
    spans: Spans,
    signals: Signals,
    /// Each deal's row; looked up once per event while building, so a fast hash.
    index: FxHashMap<OpportunityId, u32>,
    currencies: Interner<Currency>,
    people: Interner<UserId>,
    accounts: Interner<AccountId>,
    labels: Interner<Label>,
}

/// No value for an interned attribute.
const NONE: u32 = u32::MAX;

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// `moments` in microseconds, ascending, each with its index in `moments`; and the times
/// alone, for cursors.
fn sorted_moments(moments: &[DateTime<Utc>]) -> (Vec<(i64, usize)>, Vec<i64>) {
    let mut order: Vec<(i64, usize)> = moments
        .iter()
        .enumerate()
        .map(|(i, m)| (micros(*m), i))
        .collect();
    order.sort_unstable();
    let times = order.iter().map(|(at, _)| *at).collect();
    (order, times)
}

fn category_code(category: ForecastCategory) -> u8 {
    ForecastCategory::ALL
        .iter()
        .position(|c| *c == category)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(NONE_U8)
}

impl Projection {
    /// An empty projection for deals following the processes of `versions`, oldest first.
    /// A stage that later versions still have takes its latest definition; a stage since
    /// removed keeps its last one, so deals that were in it stay readable.
    pub fn new<'a>(versions: impl IntoIterator<Item = &'a ProcessSet>) -> Self {
        let mut stages: Vec<StageInfo> = Vec::new();
        let mut stage_codes = HashMap::new();
        for set in versions {
            for process in set.processes() {
                for stage in process.stages() {
                    let info = StageInfo {
                        process: process.key.clone(),
                        stage: stage.key.clone(),
                        category: process.category_of_phase(stage.phase),
                        qualified: process.is_qualified(&stage.key),
                        typical_days: stage.typical_days.max(1),
                    };
                    let key = (process.key.clone(), stage.key.clone());
                    match stage_codes.get(&key) {
                        Some(&code) => stages[code as usize] = info,
                        None => {
                            stage_codes
                                .insert(key, u16::try_from(stages.len()).unwrap_or(NONE_U16));
                            stages.push(info);
                        }
                    }
                }
            }
        }
        Self {
            stages,
            stage_codes,
            deals: Deals::default(),
            spans: Spans::default(),
            signals: Signals::default(),
            index: FxHashMap::default(),
            currencies: Interner::default(),
            people: Interner::default(),
            accounts: Interner::default(),
            labels: Interner::default(),
        }
    }

    /// Builds the projection from a log: each deal's events together or interleaved, each
    /// deal's in `seq` order. Evidence events may be left out; the deal model then goes
    /// without stakeholders and gates.
    pub fn build<'a>(
        versions: impl IntoIterator<Item = &'a ProcessSet>,
        events: impl IntoIterator<Item = &'a OpportunityEvent>,
    ) -> Result<Self, ProjectionError> {
        let mut projection = Self::new(versions);
        for event in events {
            projection.apply(event)?;
        }
        Ok(projection)
    }

    /// Number of deals.
    pub fn len(&self) -> usize {
        self.deals.id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deals.id.is_empty()
    }

    /// The `seq` of the latest event of a deal taken in, if the deal is known: an event at
    /// or before it has been applied already.
    pub fn applied_seq(&self, id: OpportunityId) -> Option<u32> {
        self.index.get(&id).map(|d| self.deals.seq[*d as usize])
    }

    /// Takes in the next event of a deal.
    pub fn apply(&mut self, event: &OpportunityEvent) -> Result<(), ProjectionError> {
        let fail = |problem: String| ProjectionError {
            opportunity_id: event.opportunity_id,
            seq: event.seq,
            problem,
        };
        let at = micros(event.effective_at);
        if let Change::Created(created) = &event.change {
            if self.index.contains_key(&event.opportunity_id) || event.seq != 1 {
                return Err(fail("a deal is created once, by its first event".into()));
            }
            let stage = self
                .stage_code(&created.process, &created.stage)
                .map_err(fail)?;
            let (amount, currency) = self.money(created.amount);
            let row = Row {
                from: at,
                stage,
                status: Status::Open,
                overridden: NONE_U8,
                amount,
                currency,
                close_date: created.close_date.num_days_from_ce(),
                owner: self.people.code(&created.owner_id),
                loss: None,
            };
            let deal = u32::try_from(self.deals.id.len()).unwrap_or(END);
            let span = self.push_span(row);
            self.index.insert(event.opportunity_id, deal);
            self.deals.id.push(event.opportunity_id);
            self.deals.first.push(span);
            self.deals.last.push(span);
            self.deals.seq.push(1);
            self.deals.qualified_at.push(None);
            self.deals.due.push((row.close_date, row.close_date));
            self.signals.add_deal();
            self.signals.opening(deal as usize, at, &created.evidence);
            let account = self.accounts.code(&created.account_id);
            let segment = self.label(created.segment.as_ref());
            let source = self.label(created.source.as_ref());
            let competitor = self.label(created.competitor.as_ref());
            self.deals.account.push(account);
            self.deals.segment.push(segment);
            self.deals.source.push(source);
            self.deals.competitor.push(competitor);
            self.deals
                .competitor_since
                .push(if created.competitor.is_some() {
                    at
                } else {
                    i64::MAX
                });
            self.note_span(deal as usize, row);
            return Ok(());
        }
        let Some(&deal) = self.index.get(&event.opportunity_id) else {
            return Err(fail("no created event came before it".into()));
        };
        let d = deal as usize;
        // Later than the latest applied; gaps are events a reader left out (evidence).
        if event.seq <= self.deals.seq[d] {
            return Err(fail(format!("comes after event {}", self.deals.seq[d])));
        }
        let last = self.deals.last[d] as usize;
        if at < self.spans.from[last] {
            return Err(fail(
                "takes effect before the deal's previous change".into(),
            ));
        }
        let mut row = self.row(last);
        row.from = at;
        let process = self.stages[row.stage as usize].process.clone();
        match &event.change {
            Change::StageChanged(moved) => {
                row.stage = self.stage_code(&process, &moved.to).map_err(fail)?;
            }
            Change::AmountChanged(changed) => (row.amount, row.currency) = self.money(changed.to),
            Change::CloseDateChanged(changed) => row.close_date = changed.to.num_days_from_ce(),
            Change::CategoryOverridden(changed) => {
                row.overridden = changed
                    .to
                    .as_ref()
                    .map_or(NONE_U8, |o| category_code(o.category));
            }
            Change::OwnerChanged(changed) => row.owner = self.people.code(&changed.to),
            Change::ClosedWon(won) => {
                row.status = Status::Won;
                row.close_date = won.on.num_days_from_ce();
                row.overridden = NONE_U8;
            }
            Change::ClosedLost(lost) => {
                if lost.competitor.is_some() {
                    self.deals.competitor[d] = self.label(lost.competitor.as_ref());
                    self.deals.competitor_since[d] = self.deals.competitor_since[d].min(at);
                }
                row.status = Status::Lost;
                row.close_date = lost.on.num_days_from_ce();
                row.overridden = NONE_U8;
                row.loss = Some(lost.loss_type);
            }
            Change::Reopened(reopened) => {
                row.status = Status::Open;
                row.loss = None;
                row.stage = self.stage_code(&process, &reopened.stage).map_err(fail)?;
                row.close_date = reopened.close_date.num_days_from_ce();
            }
            Change::FieldChanged(field) => {
                match field {
                    FieldChange::Account(account) => {
                        self.deals.account[d] = self.accounts.code(account)
                    }
                    FieldChange::Segment(segment) => {
                        self.deals.segment[d] = self.label(segment.as_ref())
                    }
                    FieldChange::Source(source) => {
                        self.deals.source[d] = self.label(source.as_ref())
                    }
                    FieldChange::Competitor(competitor) => {
                        self.deals.competitor[d] = self.label(competitor.as_ref());
                        if competitor.is_some() {
                            self.deals.competitor_since[d] = self.deals.competitor_since[d].min(at);
                        }
                    }
                    FieldChange::Name(_) | FieldChange::NextStep(_) => {}
                }
                self.deals.seq[d] = event.seq;
                return Ok(());
            }
            Change::EvidenceRecorded(change) => {
                self.signals.evidence(d, at, change);
                self.deals.seq[d] = event.seq;
                return Ok(());
            }
            Change::Created(_) => {
                self.deals.seq[d] = event.seq;
                return Ok(());
            }
        }
        let span = self.push_span(row);
        self.spans.next[last] = span;
        self.deals.last[d] = span;
        self.deals.seq[d] = event.seq;
        self.note_span(d, row);
        Ok(())
    }

    /// Takes in a call, e-mail or meeting on a deal, in any order; `false` if the deal is
    /// unknown, and then nothing changes.
    pub fn touch(&mut self, touch: &DealTouch) -> bool {
        let Some(&deal) = self.index.get(&touch.opportunity_id) else {
            return false;
        };
        self.signals
            .touch(deal as usize, micros(touch.occurred_at), touch.contact_id);
        true
    }

    /// Keeps what the deal's row holds of all its spans current with a new one.
    fn note_span(&mut self, deal: usize, row: Row) {
        if self.deals.qualified_at[deal].is_none() && self.stages[row.stage as usize].qualified {
            self.deals.qualified_at[deal] = Some(row.from);
        }
        let (earliest, latest) = &mut self.deals.due[deal];
        *earliest = (*earliest).min(row.close_date);
        *latest = (*latest).max(row.close_date);
    }

    /// Every deal's state at `at`: after the events that took effect at or before it. Deals
    /// created later are absent.
    pub fn states_at(&self, at: DateTime<Utc>) -> impl Iterator<Item = DealState> + '_ {
        let at = micros(at);
        (0..self.deals.id.len())
            .filter_map(move |d| self.span_at(d, at).map(|span| self.state(d, span)))
    }

    /// One deal's state at `at`, if it existed then.
    pub fn state_at(&self, id: OpportunityId, at: DateTime<Utc>) -> Option<DealState> {
        let d = *self.index.get(&id)? as usize;
        self.span_at(d, micros(at)).map(|span| self.state(d, span))
    }

    /// Whether the deal was open, won or lost at `at`, without the rest of its state.
    pub(crate) fn status_at(&self, id: OpportunityId, at: DateTime<Utc>) -> Option<Status> {
        let d = *self.index.get(&id)? as usize;
        self.span_at(d, micros(at))
            .map(|span| self.spans.status[span])
    }

    /// The open pipeline at `at`, by forecast category.
    pub fn pipeline_at(&self, at: DateTime<Utc>) -> Pipeline {
        self.pipeline_series(&[at]).pop().unwrap_or_default()
    }

    /// The open pipeline at each of `moments` (in any order), in one pass over each deal's
    /// history: weekly snapshots of a year cost about one pass, not fifty-two.
    pub fn pipeline_series(&self, moments: &[DateTime<Utc>]) -> Vec<Pipeline> {
        slicing::whole(self.grouped_series(moments, &mut Groups::whole(self)))
    }

    /// [`Projection::pipeline_series`] broken down by `slicing`, each deal by its state at
    /// each moment.
    pub fn pipeline_series_by(
        &self,
        moments: &[DateTime<Utc>],
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Slice<Vec<Pipeline>>>, ConversionError> {
        let mut groups = Groups::new(self, slicing, rates);
        let values = self.grouped_series(moments, &mut groups)?;
        Ok(groups.into_slices(values))
    }

    fn grouped_series(
        &self,
        moments: &[DateTime<Utc>],
        groups: &mut Groups,
    ) -> Result<Vec<Vec<Pipeline>>, ConversionError> {
        let (order, times) = sorted_moments(moments);
        // Per group, moment and category, the open deals; and per currency too, their amount
        // and how many carried it. Flat, so a deal adds to numbers instead of looking up maps.
        let categories = ForecastCategory::ALL.len();
        let currencies = self.currencies.values.len();
        let per_group = moments.len() * categories;
        let mut counts: Vec<u64> = Vec::new();
        let mut amounts: Vec<(i64, u64)> = Vec::new();
        let mut slices = Vec::new();
        // Each open span counts at the moments from its start until the next span's: a deal
        // costs its spans and the moments it was open at, not every moment.
        for d in 0..self.deals.id.len() {
            for (s, covered) in self.spans_over(d, &times) {
                if covered.is_empty() || self.spans.status[s] != Status::Open {
                    continue;
                }
                let category = usize::from(category_code(self.spans.category[s]));
                groups.of(d, s, &mut slices)?;
                counts.resize(groups.len() * per_group, 0);
                amounts.resize(counts.len() * currencies, (0, 0));
                let currency = self.spans.currency[s];
                for &(_, index) in &order[covered] {
                    for &g in &slices {
                        let cell = (g * moments.len() + index) * categories + category;
                        counts[cell] += 1;
                        if currency != NONE_U16 {
                            let (sum, carried) =
                                &mut amounts[cell * currencies + currency as usize];
                            *sum += self.spans.amount[s];
                            *carried += 1;
                        }
                    }
                }
            }
        }
        let pipeline = |g: usize, index: usize| {
            let mut pipeline = Pipeline::default();
            for (c, category) in ForecastCategory::ALL.iter().enumerate() {
                let cell = (g * moments.len() + index) * categories + c;
                let count = counts.get(cell).copied().unwrap_or(0);
                if count == 0 {
                    continue;
                }
                let cells = &amounts[cell * currencies..(cell + 1) * currencies];
                let amounts = cells
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, carried))| *carried > 0)
                    .map(|(code, (sum, _))| (*self.currencies.value(code as u32), *sum))
                    .collect();
                pipeline
                    .categories
                    .insert(*category, CategoryTotals { count, amounts });
            }
            pipeline
        };
        Ok((0..groups.len())
            .map(|g| (0..moments.len()).map(|index| pipeline(g, index)).collect())
            .collect())
    }

    #[inline]
    fn span_at(&self, deal: usize, at: i64) -> Option<usize> {
        // Most questions are about the present, which the latest span answers without a walk.
        let last = self.deals.last[deal] as usize;
        if self.spans.from[last] <= at {
            return Some(last);
        }
        let mut span = self.deals.first[deal];
        if self.spans.from[span as usize] > at {
            return None;
        }
        loop {
            let next = self.spans.next[span as usize];
            if next == END || self.spans.from[next as usize] > at {
                return Some(span as usize);
            }
            span = next;
        }
    }

    /// Each span of the deal in turn with the range of `times` (ascending) it was in force
    /// at, found with one cursor over them; ends once the times run out.
    fn spans_over<'a>(
        &'a self,
        deal: usize,
        times: &'a [i64],
    ) -> impl Iterator<Item = (usize, Range<usize>)> + 'a {
        // A deal unchanged since before the first time needs no walk: its latest span covers
        // them all.
        let last = self.deals.last[deal];
        let mut span = if times
            .first()
            .is_some_and(|t| self.spans.from[last as usize] <= *t)
        {
            last
        } else {
            self.deals.first[deal]
        };
        let mut k = times.partition_point(|at| *at < self.spans.from[span as usize]);
        std::iter::from_fn(move || {
            if span == END || k == times.len() {
                return None;
            }
            let s = span as usize;
            span = self.spans.next[s];
            let until = match span {
                END => i64::MAX,
                next => self.spans.from[next as usize],
            };
            let first = k;
            k += times[k..].partition_point(|at| *at < until);
            Some((s, first..k))
        })
    }

    fn state(&self, deal: usize, span: usize) -> DealState {
        let info = &self.stages[self.spans.stage[span] as usize];
        DealState {
            opportunity_id: self.deals.id[deal],
            process: info.process.clone(),
            stage: info.stage.clone(),
            status: self.spans.status[span],
            category: self.spans.category[span],
            amount: self
                .currency(span)
                .map(|currency| Money::new(self.spans.amount[span], currency)),
            close_date: NaiveDate::from_num_days_from_ce_opt(self.spans.close_date[span])
                .unwrap_or_default(),
            owner_id: *self.people.value(self.spans.owner[span]),
        }
    }

    fn currency(&self, span: usize) -> Option<Currency> {
        match self.spans.currency[span] {
            NONE_U16 => None,
            code => Some(*self.currencies.value(u32::from(code))),
        }
    }

    fn stage_code(&self, process: &ProcessKey, stage: &StageKey) -> Result<u16, String> {
        self.stage_codes
            .get(&(process.clone(), stage.clone()))
            .copied()
            .ok_or_else(|| format!("stage `{stage}` is not in process `{process}`"))
    }

    fn label(&mut self, label: Option<&Label>) -> u32 {
        label.map_or(NONE, |l| self.labels.code(l))
    }

    fn money(&mut self, money: Option<Money>) -> (i64, u16) {
        match money {
            Some(m) => {
                let code = self.currencies.code(&m.currency);
                (m.minor, u16::try_from(code).unwrap_or(NONE_U16))
            }
            None => (0, NONE_U16),
        }
    }

    fn row(&self, span: usize) -> Row {
        let s = &self.spans;
        Row {
            from: s.from[span],
            stage: s.stage[span],
            status: s.status[span],
            overridden: s.overridden[span],
            amount: s.amount[span],
            currency: s.currency[span],
            close_date: s.close_date[span],
            owner: s.owner[span],
            loss: s.loss[span],
        }
    }

    fn push_span(&mut self, row: Row) -> u32 {
        let category = match row.status {
            Status::Won => ForecastCategory::Closed,
            Status::Lost => ForecastCategory::Omitted,
            Status::Open => match ForecastCategory::ALL.get(row.overridden as usize) {
                Some(category) => *category,
                None => self.stages[row.stage as usize].category,
            },
        };
        let s = &mut self.spans;
        let span = u32::try_from(s.from.len()).unwrap_or(END);
        s.from.push(row.from);
        s.next.push(END);
        s.stage.push(row.stage);
        s.status.push(row.status);
        s.category.push(category);
        s.overridden.push(row.overridden);
        s.amount.push(row.amount);
        s.currency.push(row.currency);
        s.close_date.push(row.close_date);
        s.owner.push(row.owner);
        s.loss.push(row.loss);
        span
    }
}
