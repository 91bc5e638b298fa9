//! A deal's event log in words, for the deal room's timeline: "Moved from Qualified to
//! Building business case: workshop booked".

use pipewise_core::evidence::{EvidenceChange, GateDecision};
use pipewise_core::ids::UserId;
use pipewise_core::opportunity::{Change, FieldChange};
use pipewise_core::process::Process;

use super::format::{category, date, money_exact};

/// One change in a sentence; `person` names a user by id.
pub(crate) fn describe(
    change: &Change,
    process: &Process,
    person: &dyn Fn(UserId) -> String,
) -> String {
    let stage = |key: &pipewise_core::process::StageKey| {
        process
            .stage(key)
            .map_or_else(|| key.to_string(), |s| s.name.to_string())
    };
    let amount = |m: &Option<pipewise_core::money::Money>| {
        m.map_or_else(|| "none".to_owned(), |m| money_exact(m.minor, m.currency))
    };
    let because = |note: &Option<pipewise_core::text::Note>| {
        note.as_ref().map_or_else(String::new, |n| format!(": {n}"))
    };
    match change {
        Change::Created(c) => format!(
            "Opened in {} for {}, closing {}",
            stage(&c.stage),
            amount(&c.amount),
            date(c.close_date)
        ),
        Change::StageChanged(c) => format!(
            "Moved from {} to {}{}",
            stage(&c.from),
            stage(&c.to),
            because(&c.reason)
        ),
        Change::AmountChanged(c) => format!(
            "Amount changed from {} to {}",
            amount(&c.from),
            amount(&c.to)
        ),
        Change::CloseDateChanged(c) => {
            format!("Close date moved from {} to {}", date(c.from), date(c.to))
        }
        Change::CategoryOverridden(c) => match &c.to {
            Some(o) => format!(
                "Forecast category set to {}: {}",
                category(o.category),
                o.reason
            ),
            None => "Forecast category set back to the stage's".to_owned(),
        },
        Change::OwnerChanged(c) => {
            format!("Owner changed from {} to {}", person(c.from), person(c.to))
        }
        Change::ClosedWon(c) => format!("Closed won on {}", date(c.on)),
        Change::ClosedLost(c) => format!(
            "Closed lost on {} ({}){}",
            date(c.on),
            c.loss_type.as_str().replace('_', " "),
            because(&c.reason)
        ),
        Change::Reopened(c) => format!(
            "Reopened in {}, closing {}: {}",
            stage(&c.stage),
            date(c.close_date),
            c.reason
        ),
        Change::FieldChanged(f) => match f {
            FieldChange::Name(n) => format!("Renamed to {n}"),
            FieldChange::Account(_) => "Moved to another account".to_owned(),
            FieldChange::Source(v) => set("Source", v.as_ref().map(|v| v.to_string())),
            FieldChange::Segment(v) => set("Segment", v.as_ref().map(|v| v.to_string())),
            FieldChange::Competitor(v) => set("Competitor", v.as_ref().map(|v| v.to_string())),
            FieldChange::NextStep(v) => set(
                "Next step",
                v.as_ref().map(|n| format!("{} by {}", n.text, date(n.due))),
            ),
        },
        Change::EvidenceRecorded(e) => evidence(e, process),
    }
}

fn set(field: &str, value: Option<String>) -> String {
    match value {
        Some(value) => format!("{field} set to {value}"),
        None => format!("{field} cleared"),
    }
}

fn evidence(change: &EvidenceChange, process: &Process) -> String {
    match change {
        EvidenceChange::GateDecided { gate, decision } => match decision {
            GateDecision::Pass { next_step } => {
                format!("Gate passed: {}; next: {next_step}", gate.label())
            }
            GateDecision::Fail { remedy } => {
                format!("Gate failed: {}; remedy: {remedy}", gate.label())
            }
            GateDecision::Pause { reason, .. } => {
                format!("Gate paused: {}: {reason}", gate.label())
            }
        },
        EvidenceChange::Scored { item, value } => {
            format!("Scored {item} at {value} of {}", item.max_score())
        }
        EvidenceChange::MilestoneSet(m) => {
            format!("Plan milestone: {} due {}", m.title, date(m.due))
        }
        EvidenceChange::MilestoneRemoved { key } => format!("Plan milestone {key} removed"),
        EvidenceChange::StakeholderSet(s) => format!(
            "Stakeholder mapped as {}",
            s.role.as_str().replace('_', " ")
        ),
        EvidenceChange::StakeholderRemoved { .. } => "Stakeholder removed from the map".to_owned(),
        EvidenceChange::SuccessCriterionSet(c) => format!(
            "Success criterion: {} from {} to {} by {}",
            c.metric,
            c.baseline,
            c.target,
            date(c.by)
        ),
        EvidenceChange::SuccessCriterionRemoved { key } => {
            format!("Success criterion {key} removed")
        }
        EvidenceChange::Checked { item, done } => {
            let label = process
                .checklist()
                .iter()
                .find(|c| &c.key == item)
                .map_or_else(|| item.to_string(), |c| c.label.to_string());
            if *done {
                format!("Done: {label}")
            } else {
                format!("Not done after all: {label}")
            }
        }
    }
}
