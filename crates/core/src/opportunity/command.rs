//! Commands: the one place that decides whether a change to a deal is allowed and which
//! events it causes. Every surface (API, import, CLI, demo generator) goes through here.

use chrono::{DateTime, NaiveDate, Utc};

use super::event::{
    AmountChanged, CategoryOverridden, Change, CloseDateChanged, ClosedLost, ClosedWon, Created,
    FieldChange, OpportunityEvent, OwnerChanged, Reopened, StageChanged,
};
use super::{CategoryOverride, LossType, NextStep, Opportunity, ReplayError, Status, apply};
use crate::evidence::EvidenceChange;
use crate::ids::{OpportunityId, UserId};
use crate::money::Money;
use crate::process::{DealContext, ForecastCategory, Process, StageKey, Unmet};
use crate::text::{Label, Note};
use crate::validation::FieldErrors;

/// Who makes a change and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub actor_id: UserId,
    /// When the change happened; earlier than `recorded_at` when history is imported.
    pub effective_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

impl Stamp {
    /// A change made by `actor_id` at `now`.
    pub fn now(actor_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            actor_id,
            effective_at: now,
            recorded_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Forward or backward to another open stage.
    MoveStage {
        to: StageKey,
        reason: Option<Note>,
        next_step: Option<NextStep>,
    },
    ChangeAmount(Option<Money>),
    ChangeCloseDate(NaiveDate),
    /// Sets (`Some`) or removes (`None`) a hand-set forecast category.
    OverrideCategory {
        to: Option<ForecastCategory>,
        reason: Option<Note>,
    },
    ChangeOwner(UserId),
    CloseWon {
        on: NaiveDate,
    },
    CloseLost {
        on: NaiveDate,
        loss_type: LossType,
        reason: Option<Note>,
        competitor: Option<Label>,
    },
    /// Back to an open stage (by default the one it closed from) with a new close date.
    Reopen {
        stage: Option<StageKey>,
        close_date: NaiveDate,
        reason: Note,
    },
    ChangeField(FieldChange),
    /// Records a gate decision, a score, a milestone, a stakeholder, a success criterion or
    /// a checklist tick.
    RecordEvidence(EvidenceChange),
}

/// Why a command was refused. Messages say what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error("the opportunity is {0}; reopen it first")]
    NotOpen(Status),
    #[error("the opportunity is open; only won or lost opportunities can be reopened")]
    AlreadyOpen,
    #[error("the opportunity is already in stage `{0}`")]
    SameStage(StageKey),
    #[error("moving back from `{from}` to `{to}` needs a reason")]
    BackwardWithoutReason { from: StageKey, to: StageKey },
    #[error("closing lost to competition needs the competitor's name")]
    CompetitorRequired,
    /// A forward move, a new deal or a win whose criteria do not all hold; lists every one.
    #[error("{}", unmet_message(.target, .unmet))]
    CriteriaUnmet {
        /// The stage the deal would enter, or `closed won`.
        target: String,
        unmet: Vec<Unmet>,
    },
    #[error("{0}")]
    EvidenceRefused(String),
    #[error("overriding the forecast category needs a reason")]
    OverrideWithoutReason,
    #[error("`{0}` cannot be set by hand; use pipeline, best_case, commit or omitted")]
    CategoryNotOverridable(ForecastCategory),
    /// The stored state and the change disagree; the opportunity's log needs repair.
    #[error(transparent)]
    Inconsistent(#[from] ReplayError),
    #[error(
        "the change takes effect at {effective_at}, before the opportunity's latest change at \
         {latest}"
    )]
    BeforeLatestChange {
        effective_at: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
}

fn unmet_message(target: &str, unmet: &[Unmet]) -> String {
    let list: Vec<String> = unmet.iter().map(ToString::to_string).collect();
    format!("{target} needs: {}", list.join("; "))
}

/// The events a command caused and the state they produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub state: Opportunity,
    /// Empty when the command changed nothing (e.g. setting the amount it already has).
    pub events: Vec<OpportunityEvent>,
}

/// Opens a new opportunity; its first event records every initial field.
pub fn open(
    id: OpportunityId,
    created: Created,
    process: &Process,
    stamp: Stamp,
) -> Result<Recorded, CommandError> {
    process
        .parse_stage(created.stage.as_str())
        .map_err(|e| FieldErrors::from(e.at("stage")))?;
    let target = created.stage.clone();
    let event = event(id, 1, process, stamp, Change::Created(Box::new(created)));
    let state = apply(None, &event)?;
    let required = process.forward_requirements(None, Some(&target));
    require_criteria(process, &required, &state, stamp, || {
        format!("opening a deal in stage `{target}`")
    })?;
    Ok(Recorded {
        state,
        events: vec![event],
    })
}

/// Checks `command` against the deal's state and the process; returns the events it causes.
pub fn execute(
    current: &Opportunity,
    command: Command,
    process: &Process,
    stamp: Stamp,
) -> Result<Recorded, CommandError> {
    if stamp.effective_at < current.updated_at {
        return Err(CommandError::BeforeLatestChange {
            effective_at: stamp.effective_at,
            latest: current.updated_at,
        });
    }
    let Some(change) = decide(current, command, process)? else {
        return Ok(Recorded {
            state: current.clone(),
            events: Vec::new(),
        });
    };
    let forward = forward_target(current, &change, process);
    let event = event(current.id, current.version + 1, process, stamp, change);
    let state = apply(Some(current.clone()), &event)?;
    if let Some(to) = forward {
        let required = process.forward_requirements(Some(&current.stage), to.as_ref());
        require_criteria(process, &required, &state, stamp, || match &to {
            Some(stage) => format!("moving from `{}` to `{stage}`", current.stage),
            None => format!("closing won from `{}`", current.stage),
        })?;
    }
    Ok(Recorded {
        state,
        events: vec![event],
    })
}

/// Runs several commands as one change: each is decided on the state the one before left,
/// and their events are stored together or not at all.
pub fn execute_all(
    current: &Opportunity,
    commands: Vec<Command>,
    process: &Process,
    stamp: Stamp,
) -> Result<Recorded, CommandError> {
    let mut recorded = Recorded {
        state: current.clone(),
        events: Vec::new(),
    };
    for command in commands {
        let step = execute(&recorded.state, command, process, stamp)?;
        recorded.state = step.state;
        recorded.events.extend(step.events);
    }
    Ok(recorded)
}

/// Where a change takes the deal forward: `Some(Some(stage))` for a forward move (or a
/// reopening into a later stage than it closed from), `Some(None)` for closing won; `None`
/// for anything else.
fn forward_target(
    current: &Opportunity,
    change: &Change,
    process: &Process,
) -> Option<Option<StageKey>> {
    match change {
        Change::StageChanged(moved)
            if process.position(&moved.to) > process.position(&current.stage) =>
        {
            Some(Some(moved.to.clone()))
        }
        Change::ClosedWon(_) => Some(None),
        // Reopening further on than where it closed skips the stages in between.
        Change::Reopened(reopened)
            if process.position(&reopened.stage) > process.position(&current.stage) =>
        {
            Some(Some(reopened.stage.clone()))
        }
        _ => None,
    }
}

/// Refuses unless every criterion in `required` holds for the deal as it would be after
/// the change (a next step given with a move counts).
fn require_criteria(
    process: &Process,
    required: &[crate::process::CriterionKey],
    state: &Opportunity,
    stamp: Stamp,
    target: impl FnOnce() -> String,
) -> Result<(), CommandError> {
    let ctx = DealContext {
        deal: state,
        today: stamp.effective_at.date_naive(),
    };
    let unmet = process.unmet(required, ctx);
    if unmet.is_empty() {
        Ok(())
    } else {
        Err(CommandError::CriteriaUnmet {
            target: target(),
            unmet,
        })
    }
}

fn decide(
    current: &Opportunity,
    command: Command,
    process: &Process,
) -> Result<Option<Change>, CommandError> {
    let require_open = || match current.status {
        Status::Open => Ok(()),
        status => Err(CommandError::NotOpen(status)),
    };
    let change = match command {
        Command::MoveStage {
            to,
            reason,
            next_step,
        } => {
            require_open()?;
            let target = process
                .parse_stage(to.as_str())
                .map_err(|e| FieldErrors::from(e.at("stage")))?;
            if target == current.stage {
                return Err(CommandError::SameStage(target));
            }
            let backward = process.position(&target) < process.position(&current.stage);
            if backward && reason.is_none() {
                return Err(CommandError::BackwardWithoutReason {
                    from: current.stage.clone(),
                    to: target,
                });
            }
            Change::StageChanged(StageChanged {
                from: current.stage.clone(),
                to: target,
                reason,
                next_step,
            })
        }
        Command::ChangeAmount(to) => {
            require_open()?;
            if to == current.amount {
                return Ok(None);
            }
            Change::AmountChanged(AmountChanged {
                from: current.amount,
                to,
            })
        }
        Command::ChangeCloseDate(to) => {
            require_open()?;
            if to == current.close_date {
                return Ok(None);
            }
            Change::CloseDateChanged(CloseDateChanged {
                from: current.close_date,
                to,
            })
        }
        Command::OverrideCategory { to, reason } => {
            require_open()?;
            let from = current.category_override.as_ref().map(|o| o.category);
            let to = match (to, reason) {
                (None, _) if from.is_none() => return Ok(None),
                (None, _) => None,
                (Some(category @ ForecastCategory::Closed), _) => {
                    return Err(CommandError::CategoryNotOverridable(category));
                }
                (Some(_), None) => return Err(CommandError::OverrideWithoutReason),
                (Some(category), Some(reason)) => Some(CategoryOverride { category, reason }),
            };
            Change::CategoryOverridden(CategoryOverridden { from, to })
        }
        Command::ChangeOwner(to) => {
            if to == current.owner_id {
                return Ok(None);
            }
            Change::OwnerChanged(OwnerChanged {
                from: current.owner_id,
                to,
            })
        }
        Command::CloseWon { on } => {
            require_open()?;
            Change::ClosedWon(ClosedWon { on })
        }
        Command::CloseLost {
            on,
            loss_type,
            reason,
            competitor,
        } => {
            require_open()?;
            if loss_type == LossType::Competition
                && competitor.is_none()
                && current.competitor.is_none()
            {
                return Err(CommandError::CompetitorRequired);
            }
            Change::ClosedLost(ClosedLost {
                on,
                loss_type,
                reason,
                competitor,
            })
        }
        Command::Reopen {
            stage,
            close_date,
            reason,
        } => {
            if current.status == Status::Open {
                return Err(CommandError::AlreadyOpen);
            }
            let stage = match stage {
                Some(stage) => process
                    .parse_stage(stage.as_str())
                    .map_err(|e| FieldErrors::from(e.at("stage")))?,
                None => current.stage.clone(),
            };
            Change::Reopened(Reopened {
                stage,
                close_date,
                reason,
            })
        }
        Command::ChangeField(change) => Change::FieldChanged(change),
        Command::RecordEvidence(change) => {
            require_open()?;
            if let EvidenceChange::Checked { item, .. } = &change {
                if !process.checklist().iter().any(|i| &i.key == item) {
                    let items: Vec<&str> =
                        process.checklist().iter().map(|i| i.key.as_str()).collect();
                    return Err(CommandError::EvidenceRefused(format!(
                        "`{item}` is not a checklist item of the {} process: {}",
                        process.name,
                        items.join(", ")
                    )));
                }
            }
            if let Some(problem) = current.evidence.refuse(&change) {
                return Err(CommandError::EvidenceRefused(problem));
            }
            if current.evidence.already_has(&change) {
                return Ok(None);
            }
            Change::EvidenceRecorded(change)
        }
    };
    Ok(Some(change))
}

fn event(
    opportunity_id: OpportunityId,
    seq: u32,
    process: &Process,
    stamp: Stamp,
    change: Change,
) -> OpportunityEvent {
    OpportunityEvent {
        opportunity_id,
        seq,
        actor_id: stamp.actor_id,
        effective_at: stamp.effective_at,
        recorded_at: stamp.recorded_at,
        process_version: process.version,
        change,
    }
}
