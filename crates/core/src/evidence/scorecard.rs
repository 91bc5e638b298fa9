//! Scorecards: small, repeatable scores a rep fills in from what the buyer said or shared,
//! so qualification is judged the same way by everyone.
//!
//! - BANT and MEDDICC: each element 0 (unknown), 1 (partly confirmed) or 2 (confirmed).
//! - Readiness: urgency, authority path, process clarity and friction visibility, 0–2 each;
//!   7 or 8 means stop answering questions and close the plan.
//! - Budget and procurement: budget authority clarity and procurement clarity, 0–3 each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::validation::InvalidValue;

text_enum! {
    pub enum Scorecard {
        Bant = "bant",
        Meddicc = "meddicc",
        Readiness = "readiness",
        BudgetProcurement = "budget_procurement",
    }
}

text_enum! {
    /// One scored element, written `scorecard.element`.
    pub enum ScoreItem {
        BantBudget = "bant.budget",
        BantAuthority = "bant.authority",
        BantNeed = "bant.need",
        BantTiming = "bant.timing",
        MeddiccMetrics = "meddicc.metrics",
        MeddiccEconomicBuyer = "meddicc.economic_buyer",
        MeddiccDecisionCriteria = "meddicc.decision_criteria",
        MeddiccDecisionProcess = "meddicc.decision_process",
        MeddiccIdentifyPain = "meddicc.identify_pain",
        MeddiccChampion = "meddicc.champion",
        MeddiccCompetition = "meddicc.competition",
        ReadinessUrgency = "readiness.urgency",
        ReadinessAuthority = "readiness.authority",
        ReadinessProcess = "readiness.process",
        ReadinessFriction = "readiness.friction",
        BudgetAuthority = "budget_procurement.budget_authority",
        ProcurementClarity = "budget_procurement.procurement_clarity",
    }
}

impl ScoreItem {
    pub fn scorecard(self) -> Scorecard {
        use ScoreItem::*;
        match self {
            BantBudget | BantAuthority | BantNeed | BantTiming => Scorecard::Bant,
            MeddiccMetrics
            | MeddiccEconomicBuyer
            | MeddiccDecisionCriteria
            | MeddiccDecisionProcess
            | MeddiccIdentifyPain
            | MeddiccChampion
            | MeddiccCompetition => Scorecard::Meddicc,
            ReadinessUrgency | ReadinessAuthority | ReadinessProcess | ReadinessFriction => {
                Scorecard::Readiness
            }
            BudgetAuthority | ProcurementClarity => Scorecard::BudgetProcurement,
        }
    }

    /// The highest score the element takes.
    pub fn max_score(self) -> u8 {
        match self.scorecard() {
            Scorecard::BudgetProcurement => 3,
            _ => 2,
        }
    }

    /// Checks that `value` is on the element's scale.
    pub fn check(self, value: u8) -> Result<u8, InvalidValue> {
        if value <= self.max_score() {
            Ok(value)
        } else {
            Err(InvalidValue::new(
                &value.to_string(),
                format!("a score from 0 to {} for {self}", self.max_score()),
            ))
        }
    }
}

impl Scorecard {
    pub fn items(self) -> impl Iterator<Item = ScoreItem> {
        ScoreItem::ALL
            .iter()
            .copied()
            .filter(move |item| item.scorecard() == self)
    }

    /// The highest total the scorecard takes.
    pub fn max_score(self) -> u8 {
        self.items().map(ScoreItem::max_score).sum()
    }
}

/// The scores recorded on a deal; an element never scored counts as 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Scores(BTreeMap<ScoreItem, u8>);

impl Scores {
    /// Every element scored, with its score.
    pub fn iter(&self) -> impl Iterator<Item = (ScoreItem, u8)> + '_ {
        self.0.iter().map(|(item, value)| (*item, *value))
    }

    pub fn get(&self, item: ScoreItem) -> u8 {
        self.0.get(&item).copied().unwrap_or(0)
    }

    pub(crate) fn set(&mut self, item: ScoreItem, value: u8) {
        self.0.insert(item, value);
    }

    pub fn total(&self, scorecard: Scorecard) -> u8 {
        scorecard
            .items()
            .fold(0u8, |sum, item| sum.saturating_add(self.get(item)))
    }

    /// What the readiness score says to do next.
    pub fn readiness_advice(&self) -> ReadinessAdvice {
        if self.total(Scorecard::Readiness) >= 7 {
            ReadinessAdvice::CloseThePlan
        } else {
            ReadinessAdvice::SurfaceGaps(
                Scorecard::Readiness
                    .items()
                    .filter(|item| self.get(*item) < item.max_score())
                    .collect(),
            )
        }
    }

    /// What the budget and procurement scores say about the deal, when they say something.
    pub fn budget_procurement_reading(&self) -> Option<BudgetProcurementReading> {
        let budget = self.get(ScoreItem::BudgetAuthority);
        let procurement = self.get(ScoreItem::ProcurementClarity);
        match (budget, procurement) {
            (3, 3) => Some(BudgetProcurementReading::Clear),
            (3, 0) => Some(BudgetProcurementReading::LikedButBlocked),
            (0, 3) => Some(BudgetProcurementReading::WrongContact),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "advice", content = "gaps", rename_all = "snake_case")]
pub enum ReadinessAdvice {
    /// 7–8: confirm decision owners and dates and lock the decision meeting.
    CloseThePlan,
    /// Below 7: find the missing piece before more persuasion; lists the elements not yet at 2.
    SurfaceGaps(Vec<ScoreItem>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetProcurementReading {
    /// Owner, approval steps and procurement path are all confirmed.
    Clear,
    /// Budget owner confirmed but procurement unknown: "we like it, but…".
    LikedButBlocked,
    /// Procurement documented but no budget owner: likely talking to the wrong person.
    WrongContact,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScoreItem::*;

    fn scores(values: &[(ScoreItem, u8)]) -> Scores {
        let mut scores = Scores::default();
        for (item, value) in values {
            scores.set(*item, *value);
        }
        scores
    }

    #[test]
    fn scales_match_the_scorecards() {
        assert_eq!(Scorecard::Bant.max_score(), 8);
        assert_eq!(Scorecard::Meddicc.max_score(), 14);
        assert_eq!(Scorecard::Readiness.max_score(), 8);
        assert_eq!(Scorecard::BudgetProcurement.max_score(), 6);
        assert_eq!(BudgetAuthority.check(3), Ok(3));
        let error = ReadinessUrgency.check(3).unwrap_err();
        assert_eq!(error.value(), "3");
        assert_eq!(
            error.expected(),
            "a score from 0 to 2 for readiness.urgency"
        );
    }

    #[test]
    fn the_mid_market_example_scores_seven_and_closes_the_plan() {
        // Deadline before the reporting cycle (2), champion says the economic buyer will
        // review (1), mutual plan with security review, pilot and approval meeting (2),
        // procurement asked for standard terms (2).
        let deal = scores(&[
            (ReadinessUrgency, 2),
            (ReadinessAuthority, 1),
            (ReadinessProcess, 2),
            (ReadinessFriction, 2),
        ]);
        assert_eq!(deal.total(Scorecard::Readiness), 7);
        assert_eq!(deal.readiness_advice(), ReadinessAdvice::CloseThePlan);
    }

    #[test]
    fn partial_readiness_names_the_missing_pieces() {
        let deal = scores(&[(ReadinessUrgency, 2), (ReadinessAuthority, 1)]);
        assert_eq!(deal.total(Scorecard::Readiness), 3);
        assert_eq!(
            deal.readiness_advice(),
            ReadinessAdvice::SurfaceGaps(vec![
                ReadinessAuthority,
                ReadinessProcess,
                ReadinessFriction
            ])
        );
    }

    #[test]
    fn budget_and_procurement_extremes_are_read() {
        let read = |b, p| scores(&[(BudgetAuthority, b), (ProcurementClarity, p)]);
        assert_eq!(
            read(3, 0).budget_procurement_reading(),
            Some(BudgetProcurementReading::LikedButBlocked)
        );
        assert_eq!(
            read(0, 3).budget_procurement_reading(),
            Some(BudgetProcurementReading::WrongContact)
        );
        assert_eq!(
            read(3, 3).budget_procurement_reading(),
            Some(BudgetProcurementReading::Clear)
        );
        assert_eq!(read(2, 1).budget_procurement_reading(), None);
        assert_eq!(read(3, 0).total(Scorecard::BudgetProcurement), 3);
    }
}
