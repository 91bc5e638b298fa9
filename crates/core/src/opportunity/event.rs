//! The append-only opportunity event log. Each event records one change with who made it,
//! when it took effect, when it was recorded, and the process version in force.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{CategoryOverride, LossType, NextStep};
use crate::evidence::{Evidence, EvidenceChange};
use crate::ids::{AccountId, OpportunityId, UserId};
use crate::money::Money;
use crate::process::{ForecastCategory, ProcessKey, ProcessVersion, StageKey};
use crate::text::{Label, Name, Note};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpportunityEvent {
    pub opportunity_id: OpportunityId,
    /// Position in the opportunity's log, from 1.
    pub seq: u32,
    pub actor_id: UserId,
    /// When the change happened in the business (may precede `recorded_at` for imports).
    pub effective_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub process_version: ProcessVersion,
    #[serde(flatten)]
    pub change: Change,
}

/// What changed. Serialised as `{"kind": "stage_changed", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Change {
    // Boxed: the largest change by far and one per deal, so every other event stays small.
    Created(Box<Created>),
    StageChanged(StageChanged),
    AmountChanged(AmountChanged),
    CloseDateChanged(CloseDateChanged),
    CategoryOverridden(CategoryOverridden),
    OwnerChanged(OwnerChanged),
    ClosedWon(ClosedWon),
    ClosedLost(ClosedLost),
    Reopened(Reopened),
    FieldChanged(FieldChange),
    EvidenceRecorded(EvidenceChange),
}

text_enum! {
    /// The kind of a [`Change`], as stored in the event log's `kind` column.
    pub enum EventKind {
        Created = "created",
        StageChanged = "stage_changed",
        AmountChanged = "amount_changed",
        CloseDateChanged = "close_date_changed",
        CategoryOverridden = "category_overridden",
        OwnerChanged = "owner_changed",
        ClosedWon = "closed_won",
        ClosedLost = "closed_lost",
        Reopened = "reopened",
        FieldChanged = "field_changed",
        EvidenceRecorded = "evidence_recorded",
    }
}

impl Change {
    pub fn kind(&self) -> EventKind {
        match self {
            Change::Created(_) => EventKind::Created,
            Change::StageChanged(_) => EventKind::StageChanged,
            Change::AmountChanged(_) => EventKind::AmountChanged,
            Change::CloseDateChanged(_) => EventKind::CloseDateChanged,
            Change::CategoryOverridden(_) => EventKind::CategoryOverridden,
            Change::OwnerChanged(_) => EventKind::OwnerChanged,
            Change::ClosedWon(_) => EventKind::ClosedWon,
            Change::ClosedLost(_) => EventKind::ClosedLost,
            Change::Reopened(_) => EventKind::Reopened,
            Change::FieldChanged(_) => EventKind::FieldChanged,
            Change::EvidenceRecorded(_) => EventKind::EvidenceRecorded,
        }
    }
}

/// The deal as it was first recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Created {
    pub name: Name,
    pub account_id: AccountId,
    pub owner_id: UserId,
    pub process: ProcessKey,
    pub stage: StageKey,
    pub amount: Option<Money>,
    pub close_date: NaiveDate,
    pub source: Option<Label>,
    pub segment: Option<Label>,
    pub competitor: Option<Label>,
    pub next_step: Option<NextStep>,
    /// What the buyer had already shown when the deal was opened (gate decisions, scores…).
    #[serde(default, skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageChanged {
    pub from: StageKey,
    pub to: StageKey,
    pub reason: Option<Note>,
    pub next_step: Option<NextStep>,
}

impl StageChanged {
    /// A move without a reason or without a dated next step is kept but counted as
    /// incomplete.
    pub fn is_incomplete(&self) -> bool {
        self.reason.is_none() || self.next_step.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AmountChanged {
    pub from: Option<Money>,
    pub to: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CloseDateChanged {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A forecast category set by hand, or (`to: None`) the override removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CategoryOverridden {
    pub from: Option<ForecastCategory>,
    pub to: Option<CategoryOverride>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OwnerChanged {
    pub from: UserId,
    pub to: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClosedWon {
    /// The day the contract was signed; becomes the close date.
    pub on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClosedLost {
    pub on: NaiveDate,
    pub loss_type: LossType,
    pub reason: Option<Note>,
    /// The vendor chosen instead, when lost to competition.
    pub competitor: Option<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reopened {
    pub stage: StageKey,
    pub close_date: NaiveDate,
    pub reason: Note,
}

/// A change to a field with no event of its own; carries the new value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "field", content = "to", rename_all = "snake_case")]
pub enum FieldChange {
    Name(Name),
    Account(AccountId),
    Source(Option<Label>),
    Segment(Option<Label>),
    Competitor(Option<Label>),
    NextStep(Option<NextStep>),
}
