//! Stage criteria: named, checkable statements about a deal ("economic buyer engaged",
//! "mutual action plan agreed"), evaluated against its fields and evidence.

use chrono::NaiveDate;
use serde::Serialize;

use crate::crm::BuyingRole;
use crate::evidence::{Engagement, Gate, ScoreItem, Scorecard};
use crate::keys::{CriterionKey, ItemKey};
use crate::opportunity::Opportunity;
use crate::text::Name;

text_enum! {
    /// Deal fields a criterion or a stage can require.
    pub enum DealField {
        Amount = "amount",
        NextStep = "next_step",
        Competitor = "competitor",
        Source = "source",
        Segment = "segment",
    }
}

impl DealField {
    pub fn is_set(self, deal: &Opportunity) -> bool {
        match self {
            DealField::Amount => deal.amount.is_some(),
            DealField::NextStep => deal.next_step.is_some(),
            DealField::Competitor => deal.competitor.is_some(),
            DealField::Source => deal.source.is_some(),
            DealField::Segment => deal.segment.is_some(),
        }
    }
}

text_enum! {
    /// What a criterion can ask of the mutual action plan.
    pub enum PlanRequirement {
        /// Live milestones on both the buyer's and the seller's side.
        Agreed = "agreed",
        /// Agreed, and no milestone overdue.
        OnTrack = "on_track",
    }
}

/// A score a criterion tests: one element, or a scorecard's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ScoreRef {
    Item(ScoreItem),
    Total(Scorecard),
}

/// What a criterion checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// The field has a value.
    Field(DealField),
    /// The gate's latest decision is a pass.
    Gate(Gate),
    Score {
        score: ScoreRef,
        at_least: u8,
    },
    /// Someone on the stakeholder map plays the role, at the engagement or above.
    Stakeholder {
        role: BuyingRole,
        engagement: Engagement,
    },
    /// At least this many people on the stakeholder map.
    Stakeholders(usize),
    MutualActionPlan(PlanRequirement),
    /// At least this many valid success criteria.
    SuccessCriteria(usize),
    /// The checklist item is ticked.
    Checklist(ItemKey),
    /// Every named criterion holds.
    All(Vec<CriterionKey>),
    /// At least one named criterion holds.
    Any(Vec<CriterionKey>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Criterion {
    pub key: CriterionKey,
    /// How a person reads it: "Economic buyer engaged".
    pub label: Name,
    pub test: Test,
}

/// A criterion that does not hold, as listed when a move is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Unmet {
    pub key: CriterionKey,
    pub label: Name,
}

impl std::fmt::Display for Unmet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.label, self.key)
    }
}

/// A deal as criteria see it, on a given day (milestones become overdue with time).
#[derive(Debug, Clone, Copy)]
pub struct DealContext<'a> {
    pub deal: &'a Opportunity,
    pub today: NaiveDate,
}

impl Test {
    /// Whether the test holds; `named` resolves the criteria an `all` or `any` refers to.
    pub(super) fn holds<'p>(
        &self,
        ctx: DealContext<'_>,
        named: &impl Fn(&CriterionKey) -> Option<&'p Criterion>,
    ) -> bool {
        let evidence = &ctx.deal.evidence;
        let holds_named = |key: &CriterionKey| named(key).is_some_and(|c| c.test.holds(ctx, named));
        match self {
            Test::Field(field) => field.is_set(ctx.deal),
            Test::Gate(gate) => evidence.passed(*gate),
            Test::Score { score, at_least } => {
                let value = match score {
                    ScoreRef::Item(item) => evidence.scores.get(*item),
                    ScoreRef::Total(card) => evidence.scores.total(*card),
                };
                value >= *at_least
            }
            Test::Stakeholder { role, engagement } => evidence.stakeholders.has(*role, *engagement),
            Test::Stakeholders(n) => evidence.stakeholders.people() >= *n,
            Test::MutualActionPlan(PlanRequirement::Agreed) => evidence.plan.is_agreed(),
            Test::MutualActionPlan(PlanRequirement::OnTrack) => {
                evidence.plan.is_on_track(ctx.today)
            }
            Test::SuccessCriteria(n) => evidence.success_criteria.len() >= *n,
            Test::Checklist(item) => evidence.checklist.contains(item),
            Test::All(keys) => keys.iter().all(holds_named),
            Test::Any(keys) => keys.iter().any(holds_named),
        }
    }
}
