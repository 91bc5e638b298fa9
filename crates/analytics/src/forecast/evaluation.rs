//! How well the deal model scores deals it has not seen, against two scorers open-source CRMs
//! use: fixed stage probabilities, and a naive-Bayes frequency scorer in the style of Odoo's
//! predictive lead scoring. Time-based split: every scorer learns from what was known at the
//! cutoff and is scored on deals as they stood each week after it, against how they ended.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::process::ProcessSet;
use serde::Serialize;

use super::backtest::scores;
use super::model::DealModel;
use crate::reports::end_of;
use crate::{Facts, Observation, Projection};

/// Deals read at most on each side of the split, spread evenly.
const SAMPLE_DEALS: usize = 20_000;
/// The classic ladder of fixed probabilities by stage position, as CRMs ship them, for
/// stages whose process sets none.
const LADDER: [f64; 6] = [0.1, 0.2, 0.4, 0.6, 0.8, 0.9];
/// Odoo's smoothing: added to every count.
const SMOOTHING: f64 = 0.1;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ScorerScore {
    pub scorer: &'static str,
    pub brier: f64,
    pub log_loss: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evaluation {
    pub cutoff: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Deal-weeks before the cutoff the deal model learnt from.
    pub training_rows: usize,
    /// Deal-weeks after the cutoff every scorer was scored on.
    pub test_rows: usize,
    pub scores: Vec<ScorerScore>,
}

/// Trains on the year before `cutoff` (outcomes known at the cutoff) and scores on every week
/// from the cutoff to `end` (outcomes known at `end`).
pub fn evaluate(
    projection: &Projection,
    processes: &ProcessSet,
    cutoff: DateTime<Utc>,
    end: DateTime<Utc>,
    rates: &ExchangeRates,
) -> Result<Evaluation, ConversionError> {
    let weeks = |from: DateTime<Utc>, to: DateTime<Utc>| -> Vec<DateTime<Utc>> {
        let first = from.date_naive() + Duration::days(6);
        (0..)
            .map(|w| end_of(first + Duration::days(7 * w)))
            .take_while(|at| *at < to)
            .collect()
    };
    let stride = projection.len().div_ceil(SAMPLE_DEALS).max(1);
    let training = projection.observations(
        &weeks(cutoff - Duration::days(365), cutoff),
        cutoff,
        stride,
        rates,
    )?;
    let test = projection.observations(&weeks(cutoff, end), end, stride, rates)?;
    let model = DealModel::fit(&training);
    let bayes = NaiveBayes::learn(projection, processes, &projection.closed_deals(cutoff));
    let fixed = |facts: &Facts| {
        let (process, stage) = projection.stage_key(facts.stage);
        let process = processes.get(process);
        let set = process.and_then(|p| p.stage(stage)?.probability);
        let position = process.and_then(|p| p.position(stage)).unwrap_or(0);
        set.map_or(LADDER[position.min(LADDER.len() - 1)], |p| {
            f64::from(p) / 100.0
        })
    };
    let score = |scorer: &'static str, p: &dyn Fn(&Facts) -> f64| {
        let given: Vec<(f64, bool)> = test.iter().map(|o| (p(&o.facts), o.won)).collect();
        let (brier, log_loss) = scores(&given);
        ScorerScore {
            scorer,
            brier: brier.unwrap_or(f64::NAN),
            log_loss: log_loss.unwrap_or(f64::NAN),
        }
    };
    let base = training.iter().filter(|o| o.won).count() as f64 / training.len().max(1) as f64;
    Ok(Evaluation {
        cutoff,
        end,
        training_rows: training.len(),
        test_rows: test.len(),
        scores: vec![
            score("deal model", &|f| {
                model
                    .as_ref()
                    .and_then(|m| m.probability(f))
                    .unwrap_or(base)
            }),
            score("fixed stage probabilities", &fixed),
            score("naive Bayes (Odoo style)", &|f| bayes.probability(f)),
        ],
    })
}

/// Won and lost counts per field value; a stage counts for every deal that reached it.
struct NaiveBayes {
    won: f64,
    lost: f64,
    /// Per field (stage reached, segment, source, competitor): value → (won, lost).
    fields: [HashMap<u32, (f64, f64)>; 4],
}

impl NaiveBayes {
    fn learn(projection: &Projection, processes: &ProcessSet, closed: &[Observation]) -> Self {
        let mut nb = Self {
            won: 0.0,
            lost: 0.0,
            fields: Default::default(),
        };
        // Stage codes of each process in order, to count every stage a deal reached.
        let earlier = |code: u16| -> Vec<u16> {
            let (process, stage) = projection.stage_key(code);
            let Some(process) = processes.get(process) else {
                return vec![code];
            };
            let upto = process.position(stage).unwrap_or(0);
            process.stages()[..=upto]
                .iter()
                .filter_map(|s| projection.stage_code_of(&process.key, &s.key))
                .collect()
        };
        for row in closed {
            let f = &row.facts;
            let count = |counts: &mut (f64, f64)| {
                if row.won {
                    counts.0 += 1.0;
                } else {
                    counts.1 += 1.0;
                }
            };
            if row.won {
                nb.won += 1.0;
            } else {
                nb.lost += 1.0;
            }
            let (process, _) = projection.stage_key(f.stage);
            let reached = if row.won {
                // A won deal reached every stage of its process.
                processes.get(process).map_or(vec![f.stage], |p| {
                    p.stages()
                        .iter()
                        .filter_map(|s| projection.stage_code_of(&p.key, &s.key))
                        .collect()
                })
            } else {
                earlier(f.stage)
            };
            for stage in reached {
                count(nb.fields[0].entry(u32::from(stage)).or_default());
            }
            count(nb.fields[1].entry(f.segment).or_default());
            count(nb.fields[2].entry(f.source).or_default());
            count(nb.fields[3].entry(u32::from(f.competitor)).or_default());
        }
        nb
    }

    fn probability(&self, facts: &Facts) -> f64 {
        let values = [
            u32::from(facts.stage),
            facts.segment,
            facts.source,
            u32::from(facts.competitor),
        ];
        let total = self.won + self.lost;
        let (mut won, mut lost) = (
            (self.won + SMOOTHING) / (total + 2.0 * SMOOTHING),
            (self.lost + SMOOTHING) / (total + 2.0 * SMOOTHING),
        );
        for (field, value) in self.fields.iter().zip(values) {
            let kinds = field.len().max(1) as f64;
            let (w, l) = field.get(&value).copied().unwrap_or((0.0, 0.0));
            won *= (w + SMOOTHING) / (self.won + SMOOTHING * kinds);
            lost *= (l + SMOOTHING) / (self.lost + SMOOTHING * kinds);
        }
        if won + lost > 0.0 {
            won / (won + lost)
        } else {
            0.5
        }
    }
}
