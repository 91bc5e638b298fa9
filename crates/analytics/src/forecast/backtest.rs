//! The backtest: what every method would have said at the end of each week of past periods,
//! replayed from the event log as it stood then, against what was booked; and how well the
//! per-deal probabilities held up (calibration, Brier score), so a team sees which method to
//! trust and when.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipewise_core::calendar::{DateRange, FiscalCalendar, Period};
use pipewise_core::forecast::Submission;
use pipewise_core::opportunity::Status;
use serde::Serialize;

use rayon::prelude::*;

use super::{Detail, ForecastRequest, Method, StageRates, baseline, forecast, learn_stage_rates};
use crate::Tally;
use crate::reports::{ReportError, ReportInputs, end_of};

/// Weeks of a quarter the backtest replays at most.
const WEEKS: i64 = 13;
/// A probability bucket is flagged when at least this many deal-weeks fell in it…
const ALERT_MIN_DEALS: u64 = 30;
/// …and their win rate is this far from what they were given.
const ALERT_GAP: f64 = 0.15;

/// What is asked for.
#[derive(Debug, Clone)]
pub struct BacktestRequest {
    /// How many closed quarters before the one holding `as_of`.
    pub periods: usize,
    pub as_of: NaiveDate,
    pub now: DateTime<Utc>,
}

impl BacktestRequest {
    /// The quarters replayed, oldest first.
    pub fn quarters(&self, calendar: FiscalCalendar) -> Vec<Period> {
        let mut periods = Vec::new();
        let mut start = calendar.range(calendar.quarter_of(self.as_of)).start;
        for _ in 0..self.periods {
            let earlier = calendar.quarter_of(start - Duration::days(1));
            start = calendar.range(earlier).start;
            periods.push(earlier);
        }
        periods.reverse();
        periods
    }
}

/// One method's number.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct MethodNumber {
    pub method: Method,
    pub forecast: i64,
}

/// Every method's number at the end of one week of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct WeekForecast {
    /// 1 for the first week of the period.
    pub week: u32,
    pub day: NaiveDate,
    pub forecasts: Vec<MethodNumber>,
}

/// One past period: what was booked and what each method said week by week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PeriodBacktest {
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Closed won with a close date in the period, as known now.
    pub actual: i64,
    pub weeks: Vec<WeekForecast>,
}

/// A method's error at one week of the period, over the periods replayed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WeekAccuracy {
    pub week: u32,
    pub periods: usize,
    /// Mean of |forecast − actual| / actual.
    pub mean_absolute_error: f64,
    /// Mean of (forecast − actual) / actual: above zero, the method over-called.
    pub bias: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MethodAccuracy {
    pub method: Method,
    /// Over every week of every period replayed.
    pub mean_absolute_error: Option<f64>,
    pub bias: Option<f64>,
    pub by_week: Vec<WeekAccuracy>,
}

/// Deals given a probability in [from, to), and how often they were won.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Bucket {
    pub from: f64,
    pub to: f64,
    /// Deal-weeks: a deal open for five weeks counts five times.
    pub deals: u64,
    /// Mean probability given.
    pub predicted: f64,
    /// Share won.
    pub won: f64,
}

/// How well one kind of per-deal probability predicted wins.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Calibration {
    pub method: Method,
    pub deals: u64,
    /// Mean squared difference between probability and outcome (0 is perfect; always
    /// saying 50% scores 0.25).
    pub brier: Option<f64>,
    pub log_loss: Option<f64>,
    pub buckets: Vec<Bucket>,
    /// Buckets whose deals were won far more or less often than they were given.
    pub alerts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BacktestReport {
    pub as_of: NaiveDate,
    pub periods: Vec<PeriodBacktest>,
    pub accuracy: Vec<MethodAccuracy>,
    /// The method with the smallest mean absolute error.
    pub most_accurate: Option<Method>,
    pub calibration: Vec<Calibration>,
}

/// Replays the forecast at the end of each week of the last `periods` closed quarters.
/// `submissions` are the calls and adjustments of those quarters; each week sees those
/// submitted by its end.
pub fn backtest(
    request: &BacktestRequest,
    inputs: &ReportInputs,
    submissions: &[Submission],
) -> Result<BacktestReport, ReportError> {
    let calendar = inputs.calendar;
    let moment = end_of(request.as_of).min(request.now);

    let periods = request.quarters(calendar);
    let weeks: Vec<Week> = periods
        .iter()
        .flat_map(|period| {
            let range = calendar.range(*period);
            (1..=WEEKS)
                .map(move |week| (week, range.start + Duration::days(7 * week - 1)))
                .take_while(move |(_, day)| *day <= range.last_day())
                .map(move |(week, day)| Week {
                    period: *period,
                    week,
                    day,
                    window: baseline(calendar, *period, day).1,
                })
        })
        .collect();
    // The weeks of a quarter learn their stage rates from the same year of history, each as
    // known at its own end: one pass over the deals gives them all.
    let stage_rates: Vec<StageRates> = weeks
        .chunk_by(|a, b| a.window == b.window)
        .collect::<Vec<_>>()
        .par_iter()
        .flat_map_iter(|same| {
            let moments: Vec<DateTime<Utc>> = same
                .iter()
                .map(|w| end_of(w.day).min(request.now))
                .collect();
            learn_stage_rates(inputs, same[0].window, &moments)
        })
        .collect();
    // Every week of every quarter replays on its own, so the weeks share the cores; they
    // are gathered back in order, which keeps the report the same run after run.
    let mut replays = weeks
        .into_par_iter()
        .zip(stage_rates)
        .map(|(week, rates)| replay(inputs, submissions, request.now, moment, week, rates))
        .collect::<Result<Vec<Replay>, ReportError>>()?
        .into_iter()
        .peekable();

    let mut replayed = Vec::new();
    let mut model = Outcomes::default();
    let mut staged = Outcomes::default();
    for period in periods {
        let range = calendar.range(period);
        let actual = inputs
            .projection
            .won_by_owner(range, moment, inputs.rates)?
            .values()
            .fold(Tally::default(), |a, b| a + *b)
            .amount;
        let mut weeks = Vec::new();
        while let Some(replay) = replays.next_if(|r| r.period == period) {
            for (model_p, stage_p, won) in replay.scored {
                if let Some(p) = model_p {
                    model.add(p, won);
                }
                if let Some(p) = stage_p {
                    staged.add(p, won);
                }
            }
            weeks.push(replay.week);
        }
        replayed.push(PeriodBacktest {
            period: period.to_string(),
            from: range.start,
            to: range.last_day(),
            actual,
            weeks,
        });
    }
    let accuracy: Vec<MethodAccuracy> = METHODS.iter().map(|m| accuracy(*m, &replayed)).collect();
    let most_accurate = accuracy
        .iter()
        .filter_map(|a| Some((a.method, a.mean_absolute_error?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(m, _)| m);
    Ok(BacktestReport {
        as_of: request.as_of,
        periods: replayed,
        accuracy,
        most_accurate,
        calibration: vec![
            model.calibration(Method::DealModel),
            staged.calibration(Method::StageWeighted),
        ],
    })
}

const METHODS: [Method; 4] = [
    Method::DealCall,
    Method::CategoryWeighted,
    Method::StageWeighted,
    Method::DealModel,
];

fn accuracy(method: Method, periods: &[PeriodBacktest]) -> MethodAccuracy {
    // Per week of the period: (sum of |error|, sum of error, periods).
    let mut weeks: Vec<(f64, f64, usize)> = Vec::new();
    for period in periods.iter().filter(|p| p.actual > 0) {
        for week in &period.weeks {
            let Some(number) = week.forecasts.iter().find(|n| n.method == method) else {
                continue;
            };
            let error = (number.forecast - period.actual) as f64 / period.actual as f64;
            let at = week.week as usize - 1;
            if weeks.len() <= at {
                weeks.resize(at + 1, (0.0, 0.0, 0));
            }
            weeks[at].0 += error.abs();
            weeks[at].1 += error;
            weeks[at].2 += 1;
        }
    }
    let by_week: Vec<WeekAccuracy> = weeks
        .iter()
        .enumerate()
        .filter(|(_, w)| w.2 > 0)
        .map(|(i, (abs, signed, n))| WeekAccuracy {
            week: u32::try_from(i + 1).unwrap_or(u32::MAX),
            periods: *n,
            mean_absolute_error: abs / *n as f64,
            bias: signed / *n as f64,
        })
        .collect();
    let n: usize = weeks.iter().map(|w| w.2).sum();
    let mean = |pick: fn(&(f64, f64, usize)) -> f64| {
        (n > 0).then(|| weeks.iter().map(pick).sum::<f64>() / n as f64)
    };
    MethodAccuracy {
        method,
        mean_absolute_error: mean(|w| w.0),
        bias: mean(|w| w.1),
        by_week,
    }
}

/// Probabilities given and what became of the deals.
#[derive(Debug, Default)]
struct Outcomes {
    given: Vec<(f64, bool)>,
}

/// One week replayed: each method's number, and each deal's probabilities with whether it
/// was won in the end (deals still open left out).
struct Replay {
    period: Period,
    week: WeekForecast,
    scored: Vec<(Option<f64>, Option<f64>, bool)>,
}

/// A week of a past quarter to replay, and the baseline its rates come from.
struct Week {
    period: Period,
    /// 1 for the first week of the period.
    week: i64,
    /// The week's last day.
    day: NaiveDate,
    window: DateRange,
}

fn replay(
    inputs: &ReportInputs,
    submissions: &[Submission],
    now: DateTime<Utc>,
    moment: DateTime<Utc>,
    Week {
        period, week, day, ..
    }: Week,
    stage_rates: StageRates,
) -> Result<Replay, ReportError> {
    let seen: Vec<Submission> = submissions
        .iter()
        .filter(|s| s.period == period && s.submitted_at <= end_of(day))
        .cloned()
        .collect();
    let request = ForecastRequest {
        period: Some(period),
        as_of: day,
        now,
    };
    let forecast = forecast(&request, inputs, &seen, Detail::Numbers, Some(stage_rates))?;
    let scored = forecast
        .deals
        .iter()
        .filter_map(|deal| {
            let won = match inputs.projection.status_at(deal.opportunity_id, moment) {
                Some(Status::Won) => true,
                Some(Status::Lost) => false,
                _ => return None,
            };
            Some((deal.model_probability, deal.stage_probability, won))
        })
        .collect();
    Ok(Replay {
        period,
        week: WeekForecast {
            week: u32::try_from(week).unwrap_or(u32::MAX),
            day,
            forecasts: forecast.numbers(),
        },
        scored,
    })
}

impl Outcomes {
    fn add(&mut self, probability: f64, won: bool) {
        self.given.push((probability, won));
    }

    fn calibration(&self, method: Method) -> Calibration {
        calibrate(method, &self.given)
    }
}

/// Brier score and log loss of `given` (probability, won); `None` for nothing given.
pub(crate) fn scores(given: &[(f64, bool)]) -> (Option<f64>, Option<f64>) {
    let n = given.len();
    let outcome = |won: bool| f64::from(u8::from(won));
    let brier = (n > 0).then(|| {
        given
            .iter()
            .map(|(p, won)| (p - outcome(*won)).powi(2))
            .sum::<f64>()
            / n as f64
    });
    let log_loss = (n > 0).then(|| {
        given
            .iter()
            .map(|(p, won)| {
                let p = p.clamp(1e-6, 1.0 - 1e-6);
                if *won { -p.ln() } else { -(1.0 - p).ln() }
            })
            .sum::<f64>()
            / n as f64
    });
    (brier, log_loss)
}

/// Brier score, log loss and ten buckets of `given` (probability, won).
pub(crate) fn calibrate(method: Method, given: &[(f64, bool)]) -> Calibration {
    let n = given.len();
    let (brier, log_loss) = scores(given);
    let mut sums = [(0u64, 0.0f64, 0u64); 10];
    for (p, won) in given {
        let at = ((p * 10.0).floor() as usize).min(9);
        sums[at].0 += 1;
        sums[at].1 += p;
        sums[at].2 += u64::from(*won);
    }
    let buckets: Vec<Bucket> = sums
        .iter()
        .enumerate()
        .filter(|(_, s)| s.0 > 0)
        .map(|(i, (deals, p, won))| Bucket {
            from: i as f64 / 10.0,
            to: (i + 1) as f64 / 10.0,
            deals: *deals,
            predicted: p / *deals as f64,
            won: *won as f64 / *deals as f64,
        })
        .collect();
    let alerts = buckets
        .iter()
        .filter(|b| b.deals >= ALERT_MIN_DEALS && (b.won - b.predicted).abs() >= ALERT_GAP)
        .map(|b| {
            format!(
                "{}: deals given {:.0}–{:.0}% ({:.0}% on average) were won {:.0}% of the time \
                 ({} deal-weeks)",
                method.as_str(),
                b.from * 100.0,
                b.to * 100.0,
                b.predicted * 100.0,
                b.won * 100.0,
                b.deals
            )
        })
        .collect();
    Calibration {
        method,
        deals: n as u64,
        brier,
        log_loss,
        buckets,
        alerts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deals_marked_70_percent_that_close_at_40_raise_an_alert() {
        // 50 deals at 0.7, 20 of them won; 10 deals at 0.2, 2 won.
        let mut given: Vec<(f64, bool)> = (0..50).map(|i| (0.7, i < 20)).collect();
        given.extend((0..10).map(|i| (0.2, i < 2)));
        let c = calibrate(Method::DealModel, &given);
        assert_eq!(c.deals, 60);
        let seventy = c.buckets.iter().find(|b| b.from == 0.7).unwrap();
        assert_eq!((seventy.deals, seventy.won), (50, 0.4));
        assert!((seventy.predicted - 0.7).abs() < 1e-12);
        assert_eq!(
            c.alerts,
            [
                "deal-model: deals given 70–80% (70% on average) were won 40% of the time (50 deal-weeks)"
            ]
        );
        // Brier: 20 won at 0.7 → 0.09 each; 30 lost at 0.7 → 0.49; 2 won at 0.2 → 0.64;
        // 8 lost at 0.2 → 0.04. (1.8 + 14.7 + 1.28 + 0.32) / 60.
        let expected = (20.0 * 0.09 + 30.0 * 0.49 + 2.0 * 0.64 + 8.0 * 0.04) / 60.0;
        assert!((c.brier.unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn a_calibrated_bucket_or_a_small_one_raises_nothing() {
        let mut given: Vec<(f64, bool)> = (0..50).map(|i| (0.42, i < 21)).collect();
        given.extend((0..10).map(|i| (0.9, i < 2)));
        assert!(calibrate(Method::StageWeighted, &given).alerts.is_empty());
    }

    #[test]
    fn error_and_bias_are_shares_of_what_was_booked() {
        let week = |week: u32, forecast: i64| WeekForecast {
            week,
            day: "2026-01-01".parse().unwrap(),
            forecasts: vec![MethodNumber {
                method: Method::DealCall,
                forecast,
            }],
        };
        let period = |actual: i64, weeks: Vec<WeekForecast>| PeriodBacktest {
            period: "2026-Q1".to_owned(),
            from: "2026-01-01".parse().unwrap(),
            to: "2026-03-31".parse().unwrap(),
            actual,
            weeks,
        };
        // Week 1 called 80 then 120 against 100 booked: no bias, 20% error. Week 2: 90, 90.
        let periods = [
            period(100, vec![week(1, 80), week(2, 90)]),
            period(100, vec![week(1, 120), week(2, 90)]),
        ];
        let a = accuracy(Method::DealCall, &periods);
        assert_eq!(a.by_week.len(), 2);
        assert!((a.by_week[0].mean_absolute_error - 0.2).abs() < 1e-12);
        assert!(a.by_week[0].bias.abs() < 1e-12);
        assert!((a.by_week[1].bias + 0.1).abs() < 1e-12);
        assert!((a.mean_absolute_error.unwrap() - 0.15).abs() < 1e-12);
    }
}
