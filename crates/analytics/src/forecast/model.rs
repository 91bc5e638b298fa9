//! The deal model: each open deal's chance of being won, from what was known of it at the
//! moment, learnt from the team's own closed deals.
//!
//! A logistic regression with one intercept per stage and penalised effects for everything
//! else (segment, source, a named competitor, close-date pushes, time in stage against the
//! stage's typical duration, size, buyer contacts reached or engaged, days since the latest
//! call, e-mail or meeting, gates failed or paused). The ridge penalty is a Gaussian prior
//! centred on zero, so with little evidence an effect stays near nothing and a deal's
//! probability stays near its stage's base rate; with much evidence the data decide. Fitted
//! by Newton's method on the penalised log-likelihood, which is concave, so the fit is unique
//! and needs no tuning of a learning rate. Being a fitted likelihood, the probabilities are
//! calibrated on the training deals by construction; the backtest checks them on deals it
//! has not seen.

use std::fmt::Display;

use rustc_hash::FxHashMap;
use serde::Serialize;
use smallvec::SmallVec;

use crate::{Facts, Observation};

/// Prior precision of the effects: the penalty on each squared coefficient.
const EFFECT_PENALTY: f64 = 2.0;
/// A faint penalty on the stage intercepts, so a stage only ever won (or lost) in training
/// gets a large, finite intercept instead of an infinite one.
const STAGE_PENALTY: f64 = 0.01;
/// Pushes beyond this many count as this many: the demo and real teams alike rarely see more.
const MAX_PUSHES: u32 = 4;
/// Buyer contacts beyond this many add nothing more: a deal is well threaded by then.
const MAX_CONTACTS: u32 = 6;
/// Open gates beyond this many count as this many.
const MAX_GATES_OPEN: u32 = 3;
const MAX_ITERATIONS: usize = 50;

/// One effect's part in a deal's log-odds.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Factor {
    pub factor: String,
    /// Added to the log-odds of winning: positive helps, negative hurts.
    pub log_odds: f64,
}

/// What a column of the design stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Stage(u16),
    Segment(u32),
    Source(u32),
    Competitor,
    Pushes,
    StageAge,
    Size,
    Contacts,
    Quiet,
    GatesOpen,
}

/// The columns every model has, after the stage, segment and source ones.
const FIXED: [Column; 7] = [
    Column::Competitor,
    Column::Pushes,
    Column::StageAge,
    Column::Size,
    Column::Contacts,
    Column::Quiet,
    Column::GatesOpen,
];

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DealModel {
    columns: Vec<Column>,
    index: FxHashMap<Column, usize>,
    weights: Vec<f64>,
    /// Training means of log size, buyer contacts and log quiet days, so those effects read
    /// against a typical deal.
    size_center: f64,
    contacts_center: f64,
    quiet_center: f64,
    pub training_rows: usize,
}

fn log_size(amount: i64) -> f64 {
    // Minor units to major, then log: sizes span orders of magnitude.
    (amount.max(0) as f64 / 100.0 + 1.0).ln()
}

fn contacts(facts: &Facts) -> f64 {
    f64::from(facts.contacts.min(MAX_CONTACTS))
}

/// A week's silence matters early on far more than one more week after two months.
fn log_quiet(facts: &Facts) -> f64 {
    facts.quiet_days.max(0.0).ln_1p()
}

fn mean(rows: &[Observation], value: impl Fn(&Facts) -> f64) -> f64 {
    rows.iter().map(|r| value(&r.facts)).sum::<f64>() / rows.len() as f64
}

impl DealModel {
    /// Fits the model to `rows`; `None` if there are none.
    pub(crate) fn fit(rows: &[Observation]) -> Option<Self> {
        if rows.is_empty() {
            return None;
        }
        let mut model = Self::design(rows);
        let n = model.columns.len();
        let rows = Encoded::new(&model, rows);
        let first_fixed = n - FIXED_COLUMNS;
        for _ in 0..MAX_ITERATIONS {
            let sums = rows.sums(&model.weights);
            // Gradient and Hessian of the penalised log-likelihood, upper triangle first.
            let mut gradient: Vec<f64> = (0..n)
                .map(|j| -model.penalty(j) * model.weights[j])
                .collect();
            let mut hessian = vec![0.0; n * n];
            for (j, h) in (0..n).zip(hessian.iter_mut().step_by(n + 1)) {
                *h = model.penalty(j);
            }
            for (g, columns) in rows.groups.iter().enumerate() {
                for (a, &j) in columns.iter().enumerate() {
                    gradient[j] += sums.residual[g];
                    for &k in &columns[a..] {
                        hessian[j * n + k] += sums.weight[g];
                    }
                    for (f, wx) in sums.weight_x[g].iter().enumerate() {
                        hessian[j * n + first_fixed + f] += wx;
                    }
                }
            }
            for f in 0..FIXED_COLUMNS {
                gradient[first_fixed + f] += sums.residual_x[f];
                for e in f..FIXED_COLUMNS {
                    hessian[(first_fixed + f) * n + first_fixed + e] += sums.weight_xx[f][e];
                }
            }
            for j in 0..n {
                for k in 0..j {
                    hessian[j * n + k] = hessian[k * n + j];
                }
            }
            let step = solve(hessian, gradient, n)?;
            let largest = step.iter().fold(0.0_f64, |m, s| m.max(s.abs()));
            for (w, s) in model.weights.iter_mut().zip(&step) {
                *w += s;
            }
            if largest < 1e-8 {
                break;
            }
        }
        Some(model)
    }

    /// The columns the training rows call for, with zero weights.
    fn design(rows: &[Observation]) -> Self {
        let mut columns = Vec::new();
        let mut index = FxHashMap::default();
        for row in rows {
            let f = &row.facts;
            for column in [
                Column::Stage(f.stage),
                Column::Segment(f.segment),
                Column::Source(f.source),
            ] {
                index.entry(column).or_insert_with(|| {
                    columns.push(column);
                    columns.len() - 1
                });
            }
        }
        columns.extend(FIXED);
        Self {
            weights: vec![0.0; columns.len()],
            columns,
            index,
            size_center: mean(rows, |f| log_size(f.amount)),
            contacts_center: mean(rows, contacts),
            quiet_center: mean(rows, log_quiet),
            training_rows: rows.len(),
        }
    }

    fn penalty(&self, column: usize) -> f64 {
        match self.columns[column] {
            Column::Stage(_) => STAGE_PENALTY,
            _ => EFFECT_PENALTY,
        }
    }

    /// The deal's stage, segment and source columns, each if the design has it.
    fn one_hot(&self, facts: &Facts) -> [Option<usize>; 3] {
        [
            Column::Stage(facts.stage),
            Column::Segment(facts.segment),
            Column::Source(facts.source),
        ]
        .map(|key| self.index.get(&key).copied())
    }

    /// The deal's values for each column into `x`.
    fn encode(&self, facts: &Facts, x: &mut [f64]) {
        x.fill(0.0);
        for j in self.one_hot(facts).into_iter().flatten() {
            x[j] = 1.0;
        }
        // The fixed columns come last, in their order.
        let first_fixed = self.columns.len() - FIXED.len();
        for (j, column) in (first_fixed..).zip(FIXED) {
            x[j] = match column {
                Column::Competitor => f64::from(u8::from(facts.competitor)),
                Column::Pushes => f64::from(facts.pushes.min(MAX_PUSHES)),
                // Zero at the stage's typical duration: the effect reads against a deal on time.
                Column::StageAge => facts.stage_age.ln_1p() - std::f64::consts::LN_2,
                Column::Size => log_size(facts.amount) - self.size_center,
                Column::Contacts => contacts(facts) - self.contacts_center,
                Column::Quiet => log_quiet(facts) - self.quiet_center,
                Column::GatesOpen => f64::from(facts.gates_open.min(MAX_GATES_OPEN)),
                Column::Stage(_) | Column::Segment(_) | Column::Source(_) => continue,
            };
        }
    }

    /// The deal's chance of being won; `None` for a stage the training deals never stood in.
    pub(crate) fn probability(&self, facts: &Facts) -> Option<f64> {
        self.index.get(&Column::Stage(facts.stage))?;
        let mut x = self.zeros();
        self.encode(facts, &mut x);
        Some(logistic(dot(&self.weights, &x)))
    }

    /// Each effect's part in the deal's log-odds beyond its stage's base, largest first;
    /// `name` names a segment or source code.
    pub(crate) fn factors<D: Display>(
        &self,
        facts: &Facts,
        name: impl Fn(u32) -> D,
    ) -> Vec<Factor> {
        let mut x = self.zeros();
        self.encode(facts, &mut x);
        let mut factors: Vec<Factor> = self
            .columns
            .iter()
            .zip(x.iter().zip(&self.weights))
            .map(|(column, (value, weight))| (column, value * weight))
            .filter(|(column, log_odds)| {
                !matches!(column, Column::Stage(_)) && log_odds.abs() >= 0.005
            })
            .map(|(column, log_odds)| Factor {
                factor: match column {
                    Column::Stage(_) => String::new(),
                    Column::Segment(code) => format!("segment {}", name(*code)),
                    Column::Source(code) => format!("source {}", name(*code)),
                    Column::Competitor => "competitor named".to_owned(),
                    Column::Pushes => match facts.pushes {
                        1 => "close date pushed once".to_owned(),
                        n => format!("close date pushed {n} times"),
                    },
                    Column::StageAge => {
                        format!("{:.1}× typical time in stage", facts.stage_age)
                    }
                    Column::Size => "size against the typical deal".to_owned(),
                    Column::Contacts => match facts.contacts {
                        1 => "1 buyer contact engaged".to_owned(),
                        n => format!("{n} buyer contacts engaged"),
                    },
                    Column::Quiet => format!(
                        "{:.0} days since the last call, e-mail or meeting",
                        facts.quiet_days
                    ),
                    Column::GatesOpen => match facts.gates_open {
                        1 => "1 gate failed or paused".to_owned(),
                        n => format!("{n} gates failed or paused"),
                    },
                },
                log_odds,
            })
            .collect();
        factors.sort_by(|a, b| b.log_odds.abs().total_cmp(&a.log_odds.abs()));
        factors
    }

    /// A zero row of the design, on the stack for any model of usual width: read for every
    /// open deal of a forecast.
    fn zeros(&self) -> SmallVec<[f64; 64]> {
        smallvec::smallvec![0.0; self.columns.len()]
    }
}

/// How many fixed columns a design ends with.
const FIXED_COLUMNS: usize = FIXED.len();

/// The training rows as the fit reads them a few times over. A row has one stage, one segment
/// and one source column set to 1, so rows sharing those three form a group whose sums stand
/// in for them in the one-hot rows of the Hessian; only the fixed columns are read row by row.
struct Encoded {
    /// Each group's stage, segment and source columns, ascending, as the Hessian's upper
    /// triangle is filled.
    groups: Vec<Vec<usize>>,
    /// Each row's group.
    group: Vec<usize>,
    fixed: Vec<[f64; FIXED_COLUMNS]>,
    won: Vec<f64>,
}

/// One pass's sums over the rows at the current weights: per group, the residuals, the
/// Newton weights p·(1−p) and those weights times each fixed value; over all rows, the
/// residuals and weights times the fixed values and their products (upper triangle).
struct Sums {
    residual: Vec<f64>,
    weight: Vec<f64>,
    weight_x: Vec<[f64; FIXED_COLUMNS]>,
    residual_x: [f64; FIXED_COLUMNS],
    weight_xx: [[f64; FIXED_COLUMNS]; FIXED_COLUMNS],
}

impl Encoded {
    fn new(model: &DealModel, rows: &[Observation]) -> Self {
        let n = model.columns.len();
        let mut x = vec![0.0; n];
        let mut groups = Vec::new();
        let mut index: FxHashMap<[Option<usize>; 3], usize> = FxHashMap::default();
        let mut encoded = Self {
            groups: Vec::new(),
            group: Vec::with_capacity(rows.len()),
            fixed: Vec::with_capacity(rows.len()),
            won: Vec::with_capacity(rows.len()),
        };
        for row in rows {
            model.encode(&row.facts, &mut x);
            let one_hot = model.one_hot(&row.facts);
            let group = *index.entry(one_hot).or_insert_with(|| {
                let mut columns: Vec<usize> = one_hot.into_iter().flatten().collect();
                columns.sort_unstable();
                groups.push(columns);
                groups.len() - 1
            });
            encoded.group.push(group);
            let mut fixed = [0.0; FIXED_COLUMNS];
            fixed.copy_from_slice(&x[n - FIXED_COLUMNS..]);
            encoded.fixed.push(fixed);
            encoded.won.push(f64::from(u8::from(row.won)));
        }
        encoded.groups = groups;
        encoded
    }

    fn sums(&self, weights: &[f64]) -> Sums {
        let first_fixed = weights.len() - FIXED_COLUMNS;
        let intercepts: Vec<f64> = self
            .groups
            .iter()
            .map(|columns| columns.iter().map(|j| weights[*j]).sum())
            .collect();
        let mut sums = Sums {
            residual: vec![0.0; self.groups.len()],
            weight: vec![0.0; self.groups.len()],
            weight_x: vec![[0.0; FIXED_COLUMNS]; self.groups.len()],
            residual_x: [0.0; FIXED_COLUMNS],
            weight_xx: [[0.0; FIXED_COLUMNS]; FIXED_COLUMNS],
        };
        for ((&g, x), won) in self.group.iter().zip(&self.fixed).zip(&self.won) {
            let p = logistic(intercepts[g] + dot(&weights[first_fixed..], x));
            let residual = won - p;
            let w = p * (1.0 - p);
            sums.residual[g] += residual;
            sums.weight[g] += w;
            for f in 0..FIXED_COLUMNS {
                sums.weight_x[g][f] += w * x[f];
                sums.residual_x[f] += residual * x[f];
                for e in f..FIXED_COLUMNS {
                    sums.weight_xx[f][e] += w * x[f] * x[e];
                }
            }
        }
        sums
    }
}

fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Solves `a · x = b` for a symmetric positive definite `a` (row-major, `n`×`n`) by Cholesky
/// decomposition; `None` if `a` is not positive definite.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    // L·y = b, then Lᵀ·x = y.
    for i in 0..n {
        for k in 0..i {
            b[i] -= a[i * n + k] * b[k];
        }
        b[i] /= a[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            b[i] -= a[k * n + i] * b[k];
        }
        b[i] /= a[i * n + i];
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(stage: u16, pushes: u32, won: bool) -> Observation {
        Observation {
            facts: Facts {
                stage,
                pushes,
                amount: 1_000_000,
                ..Facts::default()
            },
            won,
        }
    }

    proptest::proptest! {
        /// At the fitted weights the penalised log-likelihood is flat: its gradient, summed
        /// row by row over every column of the design, is zero.
        #[test]
        fn the_fit_is_where_the_penalised_likelihood_is_flat(
            rows in proptest::collection::vec(
                (0u16..4, 0u32..3, 0u32..3, 0u32..5, 0u32..8, 0.0f64..90.0, 0.0f64..3.0,
                 1i64..10_000_000, proptest::bool::ANY, proptest::bool::ANY),
                20..200,
            )
        ) {
            let rows: Vec<Observation> = rows
                .into_iter()
                .map(|(stage, segment, source, pushes, contacts, quiet_days, stage_age, amount,
                       competitor, won)| Observation {
                    facts: Facts {
                        stage,
                        stage_age,
                        pushes,
                        segment,
                        source,
                        competitor,
                        amount,
                        contacts,
                        quiet_days,
                        gates_open: pushes % 3,
                    },
                    won,
                })
                .collect();
            let Some(model) = DealModel::fit(&rows) else {
                return Err(proptest::test_runner::TestCaseError::fail("no fit"));
            };
            let n = model.columns.len();
            let mut gradient: Vec<f64> =
                (0..n).map(|j| -model.penalty(j) * model.weights[j]).collect();
            let mut x = vec![0.0; n];
            for row in &rows {
                model.encode(&row.facts, &mut x);
                let residual =
                    f64::from(u8::from(row.won)) - logistic(dot(&model.weights, &x));
                for (g, v) in gradient.iter_mut().zip(&x) {
                    *g += residual * v;
                }
            }
            for (j, g) in gradient.iter().enumerate() {
                proptest::prop_assert!(g.abs() < 1e-6, "column {j}: gradient {g}");
            }
        }
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        // [4 2; 2 3] x = [2; 5] → x = [-0.5, 2].
        let x = solve(vec![4.0, 2.0, 2.0, 3.0], vec![2.0, 5.0], 2).unwrap();
        assert!(
            (x[0] + 0.5).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12,
            "{x:?}"
        );
        assert!(solve(vec![1.0, 2.0, 2.0, 1.0], vec![0.0, 0.0], 2).is_none());
    }

    #[test]
    fn with_nothing_else_to_go_on_a_deal_gets_its_stage_base_rate() {
        // Stage 0: 3 of 10 won; stage 1: 6 of 10. No other fact varies.
        let mut rows = Vec::new();
        for i in 0..10 {
            rows.push(observation(0, 0, i < 3));
            rows.push(observation(1, 0, i < 6));
        }
        let model = DealModel::fit(&rows).unwrap();
        let p = |stage| {
            model
                .probability(&observation(stage, 0, false).facts)
                .unwrap()
        };
        assert!((p(0) - 0.3).abs() < 0.01, "{}", p(0));
        assert!((p(1) - 0.6).abs() < 0.01, "{}", p(1));
        assert_eq!(model.probability(&observation(7, 0, false).facts), None);
    }

    #[test]
    fn engaged_buyers_and_quiet_weeks_are_weighed_as_history_shows() {
        let deal = |contacts, quiet_days, won| Observation {
            facts: Facts {
                contacts,
                quiet_days,
                amount: 1_000_000,
                ..Facts::default()
            },
            won,
        };
        let mut rows = Vec::new();
        for i in 0..200 {
            // Single-threaded deals gone quiet for a month: 1 in 5 won. Deals with four
            // buyers engaged and touched this week: 3 in 5 won.
            rows.push(deal(1, 30.0, i % 5 == 0));
            rows.push(deal(4, 3.0, i % 5 < 3));
        }
        let model = DealModel::fit(&rows).unwrap();
        let thin = model.probability(&deal(1, 30.0, false).facts).unwrap();
        let broad = model.probability(&deal(4, 3.0, false).facts).unwrap();
        assert!((0.2..0.25).contains(&thin), "{thin}");
        assert!((0.55..0.6).contains(&broad), "{broad}");
        let factors = model.factors(&deal(4, 3.0, false).facts, |c| c.to_string());
        let named: Vec<&str> = factors.iter().map(|f| f.factor.as_str()).collect();
        assert!(named.contains(&"4 buyer contacts engaged"), "{named:?}");
        assert!(
            named.contains(&"3 days since the last call, e-mail or meeting"),
            "{named:?}"
        );
        assert!(factors.iter().all(|f| f.log_odds > 0.0), "{factors:?}");
    }

    #[test]
    fn pushes_that_go_with_losses_lower_the_chance_and_are_named() {
        let mut rows = Vec::new();
        for i in 0..200 {
            rows.push(observation(0, 0, i % 2 == 0)); // half won without pushes
            rows.push(observation(0, 2, i % 5 == 0)); // a fifth won after two pushes
        }
        let model = DealModel::fit(&rows).unwrap();
        let clean = model.probability(&observation(0, 0, false).facts).unwrap();
        let pushed = model.probability(&observation(0, 2, false).facts).unwrap();
        // Shrunk a little toward the stage's base rate of 35%, but clearly apart.
        assert!(clean > 0.42 && clean <= 0.5, "{clean}");
        assert!((0.2..0.28).contains(&pushed), "{pushed}");
        let factors = model.factors(&observation(0, 2, false).facts, |c| c.to_string());
        assert_eq!(factors[0].factor, "close date pushed 2 times");
        assert!(factors[0].log_odds < 0.0);
    }
}
