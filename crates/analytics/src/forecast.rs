//! The forecast of a period (DESIGN §5): four methods side by side, each saying which deals
//! it weighs and at which rates, over the same closed-won amount and the same open deals;
//! with the period's quota and attainment, and each open deal's probabilities.
//!
//! Every rate is learnt from the workspace's own history: the year of like periods (four
//! quarters, twelve months, or one year) before the period, or before the period holding the
//! as-of day if that comes first, as known at the as-of moment.

mod backtest;
mod evaluation;
mod gap;
mod methods;
mod model;
mod rollup;
mod simulation;
mod snapshot;

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipewise_core::calendar::{DateRange, FiscalCalendar, Period};
use pipewise_core::crm::{TargetOwner, targets_of};
use pipewise_core::forecast::{Submission, SubmissionKind, included_by_default};
use pipewise_core::ids::{OpportunityId, UserId};
use pipewise_core::process::{ForecastCategory, ProcessKey, StageKey};
use rayon::prelude::*;
use serde::Serialize;

use crate::reports::{ReportError, ReportInputs, Scope, end_of};
use crate::{CategoryHistory, OpenDeal, Projection, Tally};

pub use backtest::{
    BacktestReport, BacktestRequest, Bucket, Calibration, MethodAccuracy, MethodNumber,
    PeriodBacktest, WeekAccuracy, WeekForecast, backtest,
};
pub use evaluation::{Evaluation, ScorerScore, evaluate};
pub use gap::{FLAG_AT, Flag, Gap};
pub use methods::{Line, weigh};
pub use model::Factor;
pub use rollup::{Adjusted, Own, PersonCall};
pub use simulation::{OutcomeRange, TRIALS};
pub use snapshot::{
    Change, Comparison, DealAtSnapshot, DealChange, Headline, Listed, MethodChange, PersonChange,
    PersonNumber, Snapshot, compare,
};

use model::DealModel;

/// Deals read to train the deal model at most, spread evenly over the history.
const TRAINING_DEALS: usize = 10_000;

/// What is asked for.
#[derive(Debug, Clone)]
pub struct ForecastRequest {
    /// The fiscal period [default: the quarter holding `as_of`].
    pub period: Option<Period>,
    /// The day at whose end the forecast is taken (or `now`, if that comes first).
    pub as_of: NaiveDate,
    pub now: DateTime<Utc>,
}

impl ForecastRequest {
    /// The period forecast: the one asked for, else the quarter holding the as-of day.
    pub fn period_in(&self, calendar: FiscalCalendar) -> Period {
        self.period
            .unwrap_or_else(|| calendar.quarter_of(self.as_of))
    }
}

/// The four methods.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    DealCall,
    CategoryWeighted,
    StageWeighted,
    DealModel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::DealCall => "deal-call",
            Method::CategoryWeighted => "category-weighted",
            Method::StageWeighted => "stage-weighted",
            Method::DealModel => "deal-model",
        }
    }
}

/// One method's number: closed won plus what it expects of the open deals.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MethodForecast {
    pub method: Method,
    /// Corporate minor units.
    pub forecast: i64,
    pub from_open: i64,
    /// Which deals it weighs, at which rates.
    pub how: String,
    pub lines: Vec<Line>,
    /// For the deal model: the simulated range of the forecast (closed won included).
    pub range: Option<OutcomeRange>,
}

/// One open deal due in the period, as each method sees it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DealForecast {
    pub opportunity_id: OpportunityId,
    pub owner_id: UserId,
    pub owner: String,
    pub process: ProcessKey,
    pub stage: StageKey,
    pub category: ForecastCategory,
    /// Corporate minor units.
    pub amount: i64,
    pub close_date: NaiveDate,
    /// Counted in the deal-specific call.
    pub in_call: bool,
    pub stage_probability: Option<f64>,
    pub model_probability: Option<f64>,
    /// What moves the model's probability away from the stage's base rate, largest first.
    pub factors: Vec<Factor>,
}

/// The history the rates were learnt from.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Baseline {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub periods: Vec<String>,
    /// Days from the start of the period to the as-of moment: each past period is seen from
    /// the same point.
    pub point_days: i64,
    /// Deal-weeks the deal model was fitted to.
    pub training_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ForecastReport {
    #[serde(flatten)]
    pub scope: Scope,
    /// The company quota for the period, if set.
    pub quota: Option<i64>,
    /// Won with a close date in the period.
    pub won: Tally,
    /// Won over quota.
    pub attainment: Option<f64>,
    pub baseline: Baseline,
    pub methods: Vec<MethodForecast>,
    /// Calls rolled up through the hierarchy, each manager followed by their reports.
    pub people: Vec<PersonCall>,
    /// Each rep's and team's call against history's number for the same pipeline.
    pub gaps: Vec<Gap>,
    /// Largest first.
    pub deals: Vec<DealForecast>,
}

impl ForecastReport {
    /// Each method's number, without its workings.
    pub fn numbers(&self) -> Vec<MethodNumber> {
        self.methods
            .iter()
            .map(|m| MethodNumber {
                method: m.method,
                forecast: m.forecast,
            })
            .collect()
    }
}

/// The forecast of one period; `submissions` are the period's calls and adjustments, oldest
/// first.
pub fn run(
    request: &ForecastRequest,
    inputs: &ReportInputs,
    submissions: &[Submission],
) -> Result<ForecastReport, ReportError> {
    forecast(request, inputs, submissions, Detail::Explained, None)
}

/// How much of a forecast to work out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Everything a person reads: each deal's factors and the deal model's range.
    Explained,
    /// The numbers and probabilities alone, for the backtest's hundred replays.
    Numbers,
}

/// The forecast; `stage_rates`, if given, are those of the request's baseline and moment,
/// learnt together with other forecasts' (else they are learnt here).
fn forecast(
    request: &ForecastRequest,
    inputs: &ReportInputs,
    submissions: &[Submission],
    detail: Detail,
    stage_rates: Option<StageRates>,
) -> Result<ForecastReport, ReportError> {
    let (calendar, rates, projection) = (inputs.calendar, inputs.rates, inputs.projection);
    let period = request.period_in(calendar);
    let range = calendar.range(period);
    let moment = end_of(request.as_of).min(request.now);
    let (periods, window) = baseline(calendar, period, request.as_of);
    let ranges: Vec<DateRange> = periods.iter().map(|p| calendar.range(*p)).collect();
    let offset = moment.timestamp_micros() - start_micros(range.start);
    // Two independent halves, each a few passes over every deal: one per core.
    let (read, learnt) = rayon::join(
        || -> Result<_, ReportError> {
            Ok((
                projection.won_by_owner(range, moment, rates)?,
                projection.category_history(&ranges, offset, moment, rates)?,
                projection.open_deals(range, moment, rates)?,
            ))
        },
        || -> Result<_, ReportError> {
            let stage_rates = stage_rates.unwrap_or_else(|| {
                learn_stage_rates(inputs, window, &[moment])
                    .into_iter()
                    .next()
                    .unwrap_or_default()
            });
            Ok((stage_rates, fit_model(projection, window, moment, inputs)?))
        },
    );
    let (won_by_owner, history, open) = read?;
    let (stage_rates, model) = learnt?;
    let won = won_by_owner.values().fold(Tally::default(), |a, b| a + *b);
    let mut quota = 0i64;
    for target in targets_of(inputs.targets, &calendar, period, &TargetOwner::Workspace) {
        quota = quota.saturating_add(rates.convert(target.amount, range.start)?);
    }
    let quota = (quota > 0).then_some(quota);
    let calls = Calls::latest(submissions);

    // Each deal's rows, the roll-up by person and the deal model's simulated range:
    // independent, so side by side, the deals themselves spread over the cores too. The
    // deals are listed largest first, then soonest due, ties as found.
    let mut listed: Vec<&OpenDeal> = open.iter().collect();
    listed.sort_by(|a, b| {
        b.amount
            .cmp(&a.amount)
            .then(a.close_date.cmp(&b.close_date))
    });
    // The deal model's chance of each deal, its stage's where the model has none.
    let chances: Vec<Option<f64>> = listed
        .par_iter()
        .map(|deal| {
            model
                .as_ref()
                .and_then(|m| m.probability(&deal.facts))
                .or_else(|| stage_rates.of_code(deal.facts.stage))
        })
        .collect();
    let (deals, ((people, gaps), outcomes)) = rayon::join(
        || {
            deal_forecasts(
                &listed,
                &chances,
                inputs,
                &calls,
                &stage_rates,
                model.as_ref(),
                detail,
            )
        },
        || {
            rayon::join(
                || people_and_gaps(inputs, &won_by_owner, &open, &calls, &history),
                || {
                    (detail == Detail::Explained).then(|| {
                        let weighed: Vec<(i64, f64)> = listed
                            .iter()
                            .zip(&chances)
                            .map(|(deal, p)| (deal.amount, p.unwrap_or(0.0)))
                            .collect();
                        simulation::simulate(&weighed, TRIALS)
                    })
                },
            )
        },
    );
    let methods = vec![
        deal_call(won.amount, &open, &calls),
        category_weighted(won.amount, &open, &history),
        stage_weighted(won.amount, &open, &stage_rates),
        deal_model(won.amount, &deals, outcomes),
    ];
    Ok(ForecastReport {
        scope: Scope::new(period, range, request.as_of, inputs.currency, Vec::new()),
        quota,
        won,
        attainment: quota.map(|q| won.amount as f64 / q as f64),
        baseline: Baseline {
            from: window.start,
            to: window.last_day(),
            periods: periods.iter().map(ToString::to_string).collect(),
            point_days: offset.div_euclid(86_400_000_000),
            training_rows: model.as_ref().map_or(0, |m| m.training_rows),
        },
        methods,
        people,
        gaps,
        deals,
    })
}

/// Calls rolled up through the hierarchy, and each rep's and team's call against what
/// history makes of the same pipeline.
fn people_and_gaps(
    inputs: &ReportInputs,
    won_by_owner: &HashMap<UserId, Tally>,
    open: &[OpenDeal],
    calls: &Calls,
    history: &CategoryHistory,
) -> (Vec<PersonCall>, Vec<Gap>) {
    let (own, pipelines) = by_owner(won_by_owner, open, calls);
    let people = rollup::roll_up(
        &rollup::Hierarchy {
            names: &inputs.context.user_names,
            managers: &inputs.context.managers,
        },
        &own,
        &calls.adjustments(&inputs.context.user_names),
        &calls.called_at(),
    );
    let category_rates: HashMap<ForecastCategory, f64> = history
        .categories
        .iter()
        .filter_map(|(category, row)| Some((*category, row.rate()?)))
        .collect();
    let gaps = gap::gaps(
        &pipelines,
        &category_rates,
        &inputs.context.user_names,
        &inputs.context.teams,
    );
    (people, gaps)
}

/// Each open deal as the methods see it, in the order of `open`, with its deal model chance
/// from `chances`.
fn deal_forecasts(
    open: &[&OpenDeal],
    chances: &[Option<f64>],
    inputs: &ReportInputs,
    calls: &Calls,
    stage_rates: &StageRates,
    model: Option<&DealModel>,
    detail: Detail,
) -> Vec<DealForecast> {
    open.par_iter()
        .zip(chances)
        .map(|(deal, chance)| {
            let stage_p = stage_rates.of_code(deal.facts.stage);
            DealForecast {
                opportunity_id: deal.opportunity_id,
                owner_id: deal.owner_id,
                owner: inputs
                    .context
                    .user_names
                    .get(&deal.owner_id)
                    .cloned()
                    .unwrap_or_else(|| deal.owner_id.to_string()),
                process: deal.process.clone(),
                stage: deal.stage.clone(),
                category: deal.category,
                amount: deal.amount,
                close_date: deal.close_date,
                in_call: calls.includes(deal),
                stage_probability: stage_p,
                model_probability: *chance,
                factors: match (model, detail) {
                    (Some(m), Detail::Explained) => {
                        m.factors(&deal.facts, |code| inputs.projection.label_text(code))
                    }
                    _ => Vec::new(),
                },
            }
        })
        .collect()
}

/// The calls and adjustments standing: the latest of each per person.
struct Calls<'a> {
    calls: HashMap<UserId, (&'a Submission, HashMap<OpportunityId, bool>)>,
    adjustments: HashMap<UserId, &'a Submission>,
}

impl<'a> Calls<'a> {
    fn latest(submissions: &'a [Submission]) -> Self {
        let mut calls = HashMap::new();
        let mut adjustments = HashMap::new();
        for s in submissions {
            match &s.kind {
                SubmissionKind::Call { lines } => {
                    let lines = lines
                        .iter()
                        .map(|l| (l.opportunity_id, l.include))
                        .collect();
                    calls.insert(s.subject_id, (s, lines));
                }
                SubmissionKind::Adjustment { .. } => {
                    adjustments.insert(s.subject_id, s);
                }
            }
        }
        Self { calls, adjustments }
    }

    /// Whether the owner's call counts the deal: as the call says, else by its category.
    fn includes(&self, deal: &OpenDeal) -> bool {
        self.calls
            .get(&deal.owner_id)
            .and_then(|(_, lines)| lines.get(&deal.opportunity_id).copied())
            .unwrap_or_else(|| included_by_default(deal.category))
    }

    /// Whether the rep has submitted a call.
    fn called(&self, rep: UserId) -> bool {
        self.calls.contains_key(&rep)
    }

    fn adjustments(&self, names: &HashMap<UserId, String>) -> HashMap<UserId, Adjusted> {
        self.adjustments
            .iter()
            .filter_map(|(subject, s)| match &s.kind {
                SubmissionKind::Adjustment { amount, note } => Some((
                    *subject,
                    Adjusted {
                        amount: amount.minor,
                        note: note.to_string(),
                        by: names
                            .get(&s.submitted_by)
                            .cloned()
                            .unwrap_or_else(|| s.submitted_by.to_string()),
                        at: s.submitted_at,
                    },
                )),
                SubmissionKind::Call { .. } => None,
            })
            .collect()
    }

    fn called_at(&self) -> HashMap<UserId, DateTime<Utc>> {
        self.calls
            .iter()
            .map(|(rep, (s, _))| (*rep, s.submitted_at))
            .collect()
    }
}

/// Each owner's wins and open deals: in and out of their call (for the roll-up), and by
/// category (for bottom-up against top-down).
fn by_owner(
    won: &HashMap<UserId, Tally>,
    open: &[OpenDeal],
    calls: &Calls,
) -> (HashMap<UserId, Own>, HashMap<UserId, gap::Pipeline>) {
    let mut own: HashMap<UserId, Own> = HashMap::new();
    let mut pipelines: HashMap<UserId, gap::Pipeline> = HashMap::new();
    for (owner, tally) in won {
        own.entry(*owner).or_default().won = tally.amount;
        let pipeline = pipelines.entry(*owner).or_default();
        pipeline.won = tally.amount;
        pipeline.called = calls.called(*owner);
    }
    for deal in open {
        let mine = own.entry(deal.owner_id).or_default();
        let pipeline = pipelines.entry(deal.owner_id).or_default();
        pipeline.called = calls.called(deal.owner_id);
        *pipeline.open.entry(deal.category).or_default() += deal.amount;
        if calls.includes(deal) {
            mine.included += deal.amount;
            pipeline.included += deal.amount;
        } else if matches!(
            deal.category,
            ForecastCategory::Commit | ForecastCategory::BestCase
        ) {
            mine.upside += deal.amount;
        }
    }
    (own, pipelines)
}

/// The year of like periods before `period`, or before the one holding `as_of` if that
/// comes first, oldest first, and the days they cover.
fn baseline(
    calendar: FiscalCalendar,
    period: Period,
    as_of: NaiveDate,
) -> (Vec<Period>, DateRange) {
    let anchor = calendar
        .range(period)
        .start
        .min(calendar.range(calendar.period_like(period, as_of)).start);
    let mut periods = Vec::new();
    let mut start = anchor;
    while periods.len() < periods_in_a_year(period) {
        let earlier = calendar.period_like(period, start - Duration::days(1));
        start = calendar.range(earlier).start;
        periods.push(earlier);
    }
    periods.reverse();
    (periods, DateRange::new(start, anchor))
}

fn periods_in_a_year(period: Period) -> usize {
    match period {
        Period::Year(_) => 1,
        Period::Quarter { .. } => 4,
        Period::Month { .. } => 12,
    }
}

fn start_micros(day: NaiveDate) -> i64 {
    day.and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_micros()
}

/// Each stage's chance of a win, and the stages in process order.
#[derive(Debug, Default)]
struct StageRates {
    stages: Vec<(ProcessKey, StageKey)>,
    probability: HashMap<(ProcessKey, StageKey), f64>,
    /// The same by the projection's stage code, for a look-up per open deal.
    by_code: Vec<Option<f64>>,
}

impl StageRates {
    fn of_code(&self, code: u16) -> Option<f64> {
        self.by_code.get(usize::from(code)).copied().flatten()
    }
}

/// Each stage's chance of a win as known at each of `moments`, learnt from deals that
/// entered it in `window` and had closed by then (won over won and lost); a stage with no
/// such deal takes the probability its process fixes, if any.
fn learn_stage_rates(
    inputs: &ReportInputs,
    window: DateRange,
    moments: &[DateTime<Utc>],
) -> Vec<StageRates> {
    let mut rates: Vec<StageRates> = moments.iter().map(|_| StageRates::default()).collect();
    for process in inputs.processes.processes() {
        let learnt = inputs.projection.stage_wins_at(process, window, moments);
        for (rates, wins) in rates.iter_mut().zip(learnt) {
            for (stage, wins) in process.stages().iter().zip(wins) {
                let key = (process.key.clone(), stage.key.clone());
                let closed = wins.won + wins.lost;
                let learnt = (closed > 0).then(|| wins.won as f64 / closed as f64);
                let fixed = stage.probability.map(|p| f64::from(p) / 100.0);
                if let Some(p) = learnt.or(fixed) {
                    rates.probability.insert(key.clone(), p);
                    if let Some(code) = inputs.projection.stage_code_of(&key.0, &key.1) {
                        let at = usize::from(code);
                        if rates.by_code.len() <= at {
                            rates.by_code.resize(at + 1, None);
                        }
                        rates.by_code[at] = Some(p);
                    }
                }
                rates.stages.push(key);
            }
        }
    }
    rates
}

/// The deal model fitted to qualified deals as they stood at the end of each week of
/// `window`, with how they ended as known at `moment`.
fn fit_model(
    projection: &Projection,
    window: DateRange,
    moment: DateTime<Utc>,
    inputs: &ReportInputs,
) -> Result<Option<DealModel>, ReportError> {
    let weeks: Vec<DateTime<Utc>> = (0..)
        .map(|w| window.start + Duration::days(7 * w + 6))
        .take_while(|day| *day < window.end)
        .map(end_of)
        .filter(|at| *at <= moment)
        .collect();
    let stride = projection.len().div_ceil(TRAINING_DEALS).max(1);
    let rows = projection.observations(&weeks, moment, stride, inputs.rates)?;
    Ok(DealModel::fit(&rows))
}

fn method(method: Method, won: i64, how: String, lines: Vec<Line>) -> MethodForecast {
    let from_open = methods::expected(&lines);
    MethodForecast {
        method,
        forecast: won + from_open,
        from_open,
        how,
        lines,
        range: None,
    }
}

fn deal_call(won: i64, open: &[OpenDeal], calls: &Calls) -> MethodForecast {
    let (included, upside) = methods::deal_call(open, |deal| calls.includes(deal));
    method(
        Method::DealCall,
        won,
        "Closed won plus the deals each rep's latest call includes; a deal the call does not \
         name, or whose rep has not called, follows its category (Commit in). Excluded \
         Commit and Best Case deals are the upside. Managers' adjustments show in the \
         roll-up by person, not in this sum."
            .to_owned(),
        vec![included, upside],
    )
}

fn category_weighted(won: i64, open: &[OpenDeal], history: &CategoryHistory) -> MethodForecast {
    let lines = methods::category_weighted(&methods::by_category(open), history);
    method(
        Method::CategoryWeighted,
        won,
        format!(
            "Closed won plus each category's open amount at the share of it won in the \
             {} periods before, seen from the same point of each period; plus the pipeline \
             a period gained after that point on average (line `later`), at the share of \
             it won.",
            history.periods
        ),
        lines,
    )
}

fn stage_weighted(won: i64, open: &[OpenDeal], rates: &StageRates) -> MethodForecast {
    method(
        Method::StageWeighted,
        won,
        "Closed won plus each open deal's amount at its stage's win probability: of the \
         deals that entered the stage in the baseline and have closed, the share won (the \
         process's fixed probability where history has none)."
            .to_owned(),
        methods::stage_weighted(open, &rates.stages, &rates.probability),
    )
}

fn deal_model(won: i64, deals: &[DealForecast], range: Option<OutcomeRange>) -> MethodForecast {
    let mut by_category: Vec<(ForecastCategory, Tally, f64)> = Vec::new();
    for deal in deals {
        let p = deal.model_probability.unwrap_or(0.0);
        let at = match by_category.iter().position(|(c, ..)| *c == deal.category) {
            Some(at) => at,
            None => {
                by_category.push((deal.category, Tally::default(), 0.0));
                by_category.len() - 1
            }
        };
        let (_, tally, expected) = &mut by_category[at];
        *tally = *tally
            + Tally {
                count: 1,
                amount: deal.amount,
            };
        *expected += deal.amount as f64 * p;
    }
    by_category.sort_by_key(|(c, ..)| std::cmp::Reverse(*c));
    let lines = by_category
        .into_iter()
        .map(|(category, tally, expected)| Line {
            label: category.as_str().to_owned(),
            count: tally.count,
            amount: tally.amount,
            rate: (tally.amount > 0).then(|| expected / tally.amount as f64),
            expected: expected.round() as i64,
        })
        .collect();
    let mut forecast = method(
        Method::DealModel,
        won,
        "Closed won plus each open deal's amount at its own win probability from the deal \
         model (stage, segment, source, competitor, close-date pushes, time in stage against \
         the typical, size, buyer contacts engaged, days since the last touch, gates failed \
         or paused), learnt from the baseline's deals week by week; the range is simulated \
         from the same probabilities."
            .to_owned(),
        lines,
    );
    forecast.range = range.map(|range| OutcomeRange {
        p10: won + range.p10,
        p50: won + range.p50,
        p90: won + range.p90,
        ..range
    });
    forecast
}
