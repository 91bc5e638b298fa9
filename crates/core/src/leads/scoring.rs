//! Fit and intent scores, each 0–10 and each with the evidence behind it.
//!
//! Fit (who the lead is) is assessed by a person, part by part, with a line of evidence for
//! every part. Intent (what the lead is doing) is computed from dated signals: each kind of
//! signal is worth a number of points in one part of the score, its weight halves every
//! half-life, and a part never exceeds its maximum. Both scores are rounded to whole points
//! and read in bands: low, medium, high.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crm::LeadStatus;
use crate::keys::SignalKey;
use crate::text::{Label, Note};
use crate::validation::{FieldErrors, Fields, InvalidValue};

text_enum! {
    /// A score read in three bands.
    pub enum Band {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
}

text_enum! {
    /// The parts of the fit score.
    pub enum FitPart {
        /// Company profile: industry, size, region, the person's role.
        Profile = "profile",
        /// The problem they are likely to buy for is one the product solves.
        UseCase = "use_case",
        /// Their timeline and scope can be delivered.
        Feasibility = "feasibility",
    }
}

text_enum! {
    /// The parts of the intent score.
    pub enum IntentPart {
        /// Quotes, requirements, implementation questions.
        Commercial = "commercial",
        /// Depth of engagement, including replies and meetings with sales.
        Engagement = "engagement",
        /// Content consumed: pricing sheets, integration documents, comparisons.
        Content = "content",
    }
}

text_enum! {
    /// The four kinds of intent signal; sales interactions count towards engagement.
    pub enum SignalKind {
        Content = "content",
        Engagement = "engagement",
        Commercial = "commercial",
        SalesInteraction = "sales_interaction",
    }
}

impl SignalKind {
    pub fn part(self) -> IntentPart {
        match self {
            SignalKind::Content => IntentPart::Content,
            SignalKind::Engagement | SignalKind::SalesInteraction => IntentPart::Engagement,
            SignalKind::Commercial => IntentPart::Commercial,
        }
    }
}

/// A kind of signal the rubric knows.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SignalDefinition {
    pub kind: SignalKind,
    /// Points when fresh, before the part's cap.
    pub points: f64,
    /// Shows the lead can progress soon (a meeting booked, a demo asked for).
    pub readiness: bool,
}

/// Where the bands start and what the intent score must reach for each funnel stage.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Thresholds {
    /// Lowest medium score; below is low.
    pub medium: u8,
    /// Lowest high score.
    pub high: u8,
    /// Intent that makes a lead marketing qualified.
    pub mql_intent: u8,
    /// Intent that, with readiness and no low fit, justifies sales-qualification outreach.
    pub sql_intent: u8,
    /// A readiness signal counts for this many days.
    pub readiness_days: u32,
}

/// The scoring rules: points per part, the signal catalogue, decay and thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Rubric {
    pub fit: BTreeMap<FitPart, u8>,
    pub intent: BTreeMap<IntentPart, u8>,
    pub signals: BTreeMap<SignalKey, SignalDefinition>,
    /// Days after which a signal counts half.
    pub half_life_days: f64,
    pub thresholds: Thresholds,
    /// Questions that check a score before it is acted on, per score.
    pub questions: BTreeMap<Layer, Vec<String>>,
}

text_enum! {
    /// The layers a lead is qualified on.
    pub enum Layer {
        Fit = "fit",
        Intent = "intent",
        Readiness = "readiness",
    }
}

/// Points given to one part of the fit score and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FitEvidence {
    pub points: u8,
    /// What was seen: "VP Operations, 200 employees, logistics".
    pub evidence: Note,
}

/// A fit assessment: points and evidence for the parts assessed.
pub type FitAssessment = BTreeMap<FitPart, FitEvidence>;

/// Something the lead did, when, and what exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IntentSignal {
    pub signal: SignalKey,
    pub at: DateTime<Utc>,
    /// What was seen: "requested a rollout plan for 3 sites".
    pub evidence: Option<Label>,
    /// The campaign, sequence or event that brought it about, for attribution.
    #[serde(default)]
    pub channel: Option<Label>,
}

/// What a lead's scores rest on: the fit assessment, the intent signals and the answers to
/// the questions that check them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LeadEvidence {
    #[serde(default)]
    pub fit: FitAssessment,
    #[serde(default)]
    pub signals: Vec<IntentSignal>,
    #[serde(default)]
    pub answers: Vec<ValidationAnswer>,
}

/// A question asked to check a score, and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ValidationAnswer {
    pub layer: Layer,
    pub question: Label,
    pub answer: Note,
    pub at: DateTime<Utc>,
}

/// A score with its band and what each part contributed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Score<P: Ord> {
    pub score: u8,
    pub band: Band,
    /// Points per part after caps, before rounding.
    pub parts: BTreeMap<P, f64>,
}

/// One signal's share of the intent score.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Contribution {
    pub signal: SignalKey,
    pub at: DateTime<Utc>,
    pub part: IntentPart,
    /// Points when fresh.
    pub points: f64,
    /// What is left after decay, before the part's cap.
    pub decayed: f64,
}

/// The intent score with every signal's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IntentScore {
    #[serde(flatten)]
    pub score: Score<IntentPart>,
    pub contributions: Vec<Contribution>,
    /// A readiness signal recent enough to count.
    pub ready: bool,
}

/// What the scores say about the lead's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Qualification {
    /// `sql` (sales qualification is justified), `mql`, or none.
    pub stage: Option<LeadStatus>,
    /// The layers that keep the lead short of sales qualification.
    pub missing: Vec<Layer>,
}

impl Rubric {
    /// The band a whole-point score falls in.
    pub fn band(&self, score: u8) -> Band {
        if score >= self.thresholds.high {
            Band::High
        } else if score >= self.thresholds.medium {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// The signal definition for `key`, or an error naming the known signals.
    pub fn signal(&self, key: &str) -> Result<(&SignalKey, &SignalDefinition), InvalidValue> {
        self.signals
            .iter()
            .find(|(k, _)| k.as_str() == key.trim())
            .ok_or_else(|| {
                let known: Vec<&str> = self.signals.keys().map(SignalKey::as_str).collect();
                InvalidValue::new(key, format!("a signal of the rubric: {}", known.join(", ")))
            })
    }

    /// Refuses an assessment giving a part more points than the rubric allows it.
    pub fn check_fit(&self, assessment: &FitAssessment) -> Result<(), FieldErrors> {
        let mut fields = Fields::default();
        for (part, given) in assessment {
            let max = self.fit.get(part).copied().unwrap_or(0);
            if given.points > max {
                fields.push(
                    InvalidValue::new(&given.points.to_string(), format!("0 to {max} points"))
                        .at(format!("fit.{part}.points")),
                );
            }
        }
        fields.finish()
    }

    /// The fit score of an assessment; parts not assessed count zero, and points above a
    /// part's maximum (given under an earlier rubric) count as the maximum.
    pub fn fit(&self, assessment: &FitAssessment) -> Score<FitPart> {
        let parts = assessment
            .iter()
            .map(|(part, given)| {
                let max = self.fit.get(part).copied().unwrap_or(0);
                (*part, f64::from(given.points.min(max)))
            })
            .collect();
        self.scored(parts)
    }

    /// The intent score at `now` of the signals recorded; signals from after `now` are left out.
    pub fn intent(&self, signals: &[IntentSignal], now: DateTime<Utc>) -> IntentScore {
        let mut totals: BTreeMap<IntentPart, f64> = BTreeMap::new();
        let mut contributions = Vec::new();
        let mut ready = false;
        for signal in signals.iter().filter(|s| s.at <= now) {
            let Some(definition) = self.signals.get(&signal.signal) else {
                continue; // A signal dropped from the rubric no longer counts.
            };
            let age_days = (now - signal.at).num_seconds() as f64 / 86_400.0;
            let decayed = definition.points * 0.5f64.powf(age_days / self.half_life_days);
            let part = definition.kind.part();
            *totals.entry(part).or_default() += decayed;
            ready |= definition.readiness && age_days <= f64::from(self.thresholds.readiness_days);
            contributions.push(Contribution {
                signal: signal.signal.clone(),
                at: signal.at,
                part,
                points: definition.points,
                decayed,
            });
        }
        let capped = totals
            .into_iter()
            .map(|(part, total)| {
                let max = f64::from(self.intent.get(&part).copied().unwrap_or(0));
                (part, total.min(max))
            })
            .collect();
        IntentScore {
            score: self.scored(capped),
            contributions,
            ready,
        }
    }

    /// Which stage the scores justify: sales qualification needs intent at `sql_intent`, a
    /// recent readiness signal and a fit not assessed as low; marketing qualification needs
    /// intent at `mql_intent` and a fit not assessed as low. An unassessed fit does not block.
    pub fn qualify(&self, fit: Option<&Score<FitPart>>, intent: &IntentScore) -> Qualification {
        let fit_ok = fit.is_none_or(|f| f.band != Band::Low);
        let mut missing = Vec::new();
        if !fit_ok {
            missing.push(Layer::Fit);
        }
        if intent.score.score < self.thresholds.sql_intent {
            missing.push(Layer::Intent);
        }
        if !intent.ready {
            missing.push(Layer::Readiness);
        }
        let stage = if missing.is_empty() {
            Some(LeadStatus::Sql)
        } else if fit_ok && intent.score.score >= self.thresholds.mql_intent {
            Some(LeadStatus::Mql)
        } else {
            None
        };
        Qualification { stage, missing }
    }

    fn scored<P: Ord>(&self, parts: BTreeMap<P, f64>) -> Score<P> {
        let total: f64 = parts.values().sum();
        // Whole points, halves rounded up: 5.5 reads as 6.
        let score = total.round().clamp(0.0, 10.0) as u8;
        Score {
            score,
            band: self.band(score),
            parts,
        }
    }
}
