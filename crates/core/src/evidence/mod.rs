//! Deal evidence: what the buyer has shown, recorded on the deal so that stage criteria are
//! checked the same way for everyone. Gate decisions, scorecards, the mutual action plan, the
//! stakeholder map, success criteria and checklist items.
//!
//! Evidence is part of the opportunity's state and changes only through events
//! ([`EvidenceChange`]), so a deal's evidence on any past day can be replayed.

mod gate;
mod plan;
mod scorecard;
mod stakeholder;
mod success;

pub use gate::{Gate, GateDecision};
pub use plan::{Milestone, MilestoneStatus, MutualActionPlan, Side};
pub use scorecard::{BudgetProcurementReading, ReadinessAdvice, ScoreItem, Scorecard, Scores};
pub use stakeholder::{Engagement, Stakeholder, StakeholderMap};
pub use success::{SuccessCriterion, SuccessCriterionDraft};

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::ContactId;
use crate::keys::ItemKey;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Evidence {
    /// The latest decision at each gate.
    pub gates: BTreeMap<Gate, GateDecision>,
    pub scores: Scores,
    pub plan: MutualActionPlan,
    pub stakeholders: StakeholderMap,
    pub success_criteria: Vec<SuccessCriterion>,
    /// Checklist items ticked off.
    pub checklist: BTreeSet<ItemKey>,
}

impl Evidence {
    pub fn passed(&self, gate: Gate) -> bool {
        self.gates.get(&gate).is_some_and(GateDecision::passed)
    }

    pub fn is_empty(&self) -> bool {
        self == &Evidence::default()
    }

    /// The evidence with `change` made, after the same checks a recorded change gets (the
    /// process's checklist aside). For evidence given when a deal is opened.
    pub fn with(mut self, change: &EvidenceChange) -> Result<Self, String> {
        if let Some(problem) = self.refuse(change) {
            return Err(problem);
        }
        self.apply(change);
        Ok(self)
    }

    /// The evidence after `change`. Changes are checked before they become events
    /// (see [`crate::opportunity::execute`]), so applying one cannot fail.
    pub(crate) fn apply(&mut self, change: &EvidenceChange) {
        match change {
            EvidenceChange::GateDecided { gate, decision } => {
                self.gates.insert(*gate, decision.clone());
            }
            EvidenceChange::Scored { item, value } => self.scores.set(*item, *value),
            EvidenceChange::MilestoneSet(milestone) => self.plan.set(milestone.clone()),
            EvidenceChange::MilestoneRemoved { key } => self.plan.remove(key),
            EvidenceChange::StakeholderSet(stakeholder) => {
                self.stakeholders.set(stakeholder.clone())
            }
            EvidenceChange::StakeholderRemoved { contact_id } => {
                self.stakeholders.remove(*contact_id)
            }
            EvidenceChange::SuccessCriterionSet(criterion) => {
                match self
                    .success_criteria
                    .iter_mut()
                    .find(|c| c.key == criterion.key)
                {
                    Some(existing) => *existing = criterion.clone(),
                    None => self.success_criteria.push(criterion.clone()),
                }
            }
            EvidenceChange::SuccessCriterionRemoved { key } => {
                self.success_criteria.retain(|c| &c.key != key)
            }
            EvidenceChange::Checked { item, done: true } => {
                self.checklist.insert(item.clone());
            }
            EvidenceChange::Checked { item, done: false } => {
                self.checklist.remove(item);
            }
        }
    }

    /// Whether `change` would change nothing (so no event is recorded for it).
    pub(crate) fn already_has(&self, change: &EvidenceChange) -> bool {
        let mut after = self.clone();
        after.apply(change);
        &after == self
    }

    /// What is wrong with `change` given the evidence so far, if anything.
    pub(crate) fn refuse(&self, change: &EvidenceChange) -> Option<String> {
        match change {
            EvidenceChange::Scored { item, value } => item
                .check(*value)
                .err()
                .map(|e| format!("{item}: `{}` is not accepted: {}", e.value(), e.expected())),
            EvidenceChange::MilestoneRemoved { key } if self.plan.get(key).is_none() => {
                Some(format!("the mutual action plan has no milestone `{key}`"))
            }
            EvidenceChange::StakeholderRemoved { contact_id }
                if !self
                    .stakeholders
                    .stakeholders()
                    .iter()
                    .any(|s| s.contact_id == *contact_id) =>
            {
                Some(format!(
                    "contact {contact_id} is not on the stakeholder map"
                ))
            }
            EvidenceChange::SuccessCriterionRemoved { key }
                if !self.success_criteria.iter().any(|c| &c.key == key) =>
            {
                Some(format!("there is no success criterion `{key}`"))
            }
            _ => None,
        }
    }
}

/// One change to a deal's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "evidence", rename_all = "snake_case")]
pub enum EvidenceChange {
    GateDecided {
        gate: Gate,
        decision: GateDecision,
    },
    Scored {
        item: ScoreItem,
        value: u8,
    },
    /// Adds a milestone to the mutual action plan, or replaces the one with its key.
    MilestoneSet(Milestone),
    MilestoneRemoved {
        key: ItemKey,
    },
    /// Puts a contact on the stakeholder map, or updates their role and engagement.
    StakeholderSet(Stakeholder),
    StakeholderRemoved {
        contact_id: ContactId,
    },
    SuccessCriterionSet(SuccessCriterion),
    SuccessCriterionRemoved {
        key: ItemKey,
    },
    /// Ticks (`done`) or unticks a checklist item.
    Checked {
        item: ItemKey,
        done: bool,
    },
}
