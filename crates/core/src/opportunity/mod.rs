//! The opportunity: its current state, the append-only events that produce it, the commands
//! that append them, and replay.
//!
//! State is never edited directly. A [`Command`] is checked against the current state and the
//! process by [`execute`] (or [`open`] for a new deal), which returns the events it causes and
//! the state those events produce through [`apply`]. Because the new state is computed by
//! applying the events, replaying an opportunity's log always reproduces its current state.

mod command;
mod draft;
mod event;
mod replay;
#[cfg(test)]
mod tests;

pub use command::{Command, CommandError, Recorded, Stamp, execute, execute_all, open};
pub use draft::OpportunityDraft;
pub use event::{
    AmountChanged, CategoryOverridden, Change, CloseDateChanged, ClosedLost, ClosedWon, Created,
    EventKind, FieldChange, OpportunityEvent, OwnerChanged, Reopened, StageChanged,
};
pub use replay::{ReplayError, apply, replay};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::ids::{AccountId, OpportunityId, UserId};
use crate::money::Money;
use crate::process::{ForecastCategory, Process, ProcessKey, StageKey};
use crate::text::{Label, Name, Note};

text_enum! {
    pub enum Status {
        Open = "open",
        Won = "won",
        Lost = "lost",
    }
}

text_enum! {
    /// Why a deal was lost. Only losses to competition or to no decision count in close and
    /// win rates; disqualified and duplicate deals are reported but excluded.
    pub enum LossType {
        Competition = "competition",
        NoDecision = "no_decision",
        Disqualified = "disqualified",
        Duplicate = "duplicate",
    }
}

impl LossType {
    /// Whether a deal lost this way counts in close and win rates.
    pub const fn counts_in_rates(self) -> bool {
        matches!(self, LossType::Competition | LossType::NoDecision)
    }
}

/// The dated action that moves a deal forward, and who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NextStep {
    pub text: Note,
    pub owner_id: UserId,
    pub due: NaiveDate,
}

/// A forecast category set by hand instead of the one the stage implies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CategoryOverride {
    pub category: ForecastCategory,
    pub reason: Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Loss {
    pub loss_type: LossType,
    pub reason: Option<Note>,
}

/// The current state of a deal: exactly what replaying its events produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Opportunity {
    pub id: OpportunityId,
    /// Number of events applied; the `seq` of the latest one.
    pub version: u32,
    pub name: Name,
    pub account_id: AccountId,
    pub owner_id: UserId,
    pub process: ProcessKey,
    /// The open stage the deal is in, or the stage it was in when it closed.
    pub stage: StageKey,
    pub status: Status,
    pub amount: Option<Money>,
    /// Expected close date while open; the date it closed once won or lost.
    pub close_date: NaiveDate,
    pub category_override: Option<CategoryOverride>,
    pub source: Option<Label>,
    pub segment: Option<Label>,
    pub competitor: Option<Label>,
    pub next_step: Option<NextStep>,
    /// Gate decisions, scorecards, mutual action plan, stakeholders, success criteria and
    /// checklist: what stage criteria are checked against.
    pub evidence: Evidence,
    pub loss: Option<Loss>,
    pub created_at: DateTime<Utc>,
    /// Effective time of the latest event.
    pub updated_at: DateTime<Utc>,
}

impl Opportunity {
    /// Closed for won deals, Omitted for lost ones; for open deals the override if there is
    /// one, else the category of the stage's phase.
    pub fn forecast_category(&self, process: &Process) -> ForecastCategory {
        forecast_category(
            self.status,
            self.category_override.as_ref().map(|o| o.category),
            &self.stage,
            process,
        )
    }
}

/// A deal's forecast category: Closed if won, Omitted if lost; if open, `overridden` if set,
/// else the category of `stage`'s phase in `process`.
pub fn forecast_category(
    status: Status,
    overridden: Option<ForecastCategory>,
    stage: &StageKey,
    process: &Process,
) -> ForecastCategory {
    match status {
        Status::Won => ForecastCategory::Closed,
        Status::Lost => ForecastCategory::Omitted,
        Status::Open => overridden.unwrap_or_else(|| {
            process
                .category_of(stage)
                .unwrap_or(ForecastCategory::Pipeline)
        }),
    }
}
