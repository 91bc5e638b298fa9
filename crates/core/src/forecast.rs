//! Forecast submissions (DESIGN §5): a rep's call on the open deals due in a period — each
//! in or out of the number, with a judgment note — and a manager's adjustment of the number
//! of someone in their subtree. Submissions are history: none is ever changed; the latest
//! call of each rep and the latest adjustment of each person's number stand.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{DateRange, Period};
use crate::ids::{OpportunityId, SubmissionId, UserId};
use crate::money::Money;
use crate::opportunity::Status;
use crate::process::ForecastCategory;
use crate::text::Note;
use crate::validation::{FieldErrors, Fields, InvalidValue};

/// One deal of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallLine {
    pub opportunity_id: OpportunityId,
    /// In the number, or out of it.
    pub include: bool,
    /// Why: a Commit deal's timing risk; a Best Case deal's vendor and timing risk.
    pub note: Option<Note>,
}

/// What a submission says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubmissionKind {
    /// A rep's call on their own deals. Deals it does not name keep their category's
    /// default: Commit in, everything else out.
    Call { lines: Vec<CallLine> },
    /// A manager's number for someone in their subtree (themselves included), replacing the
    /// roll-up of that person's calls.
    Adjustment { amount: Money, note: Note },
}

/// A call or an adjustment, with who made it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Submission {
    pub id: SubmissionId,
    pub period: Period,
    /// Whose number: the rep who calls, or the person whose number is adjusted.
    pub subject_id: UserId,
    #[serde(flatten)]
    pub kind: SubmissionKind,
    pub submitted_by: UserId,
    pub submitted_at: DateTime<Utc>,
}

/// A deal as a call sees it: whose it is, where it stands and when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallableDeal {
    pub id: OpportunityId,
    pub owner_id: UserId,
    pub status: Status,
    pub category: ForecastCategory,
    pub close_date: NaiveDate,
}

/// Whether the call includes a deal it does not name: Commit deals are in.
pub fn included_by_default(category: ForecastCategory) -> bool {
    category == ForecastCategory::Commit
}

/// Checks a call of `rep` for the period `range`: every line names one of the rep's open
/// deals due in the period (`deal` finds a deal of the workspace), no deal twice, and a line
/// that departs from the deal's category (a Commit deal out, any other deal in) says why.
/// Every problem at once, each at its line.
pub fn check_call(
    rep: UserId,
    range: DateRange,
    lines: &[CallLine],
    deal: impl Fn(OpportunityId) -> Option<CallableDeal>,
) -> Result<(), FieldErrors> {
    let mut errors = Fields::default();
    let mut seen = HashSet::new();
    for (i, line) in lines.iter().enumerate() {
        let at = |field: &str| format!("lines[{i}].{field}");
        let id = line.opportunity_id.to_string();
        let refuse = |expected: &str| InvalidValue::new(&id, expected).at(at("opportunity_id"));
        if !seen.insert(line.opportunity_id) {
            errors.push(refuse("each deal once per call"));
            continue;
        }
        let Some(found) = deal(line.opportunity_id) else {
            errors.push(refuse("a deal of this workspace"));
            continue;
        };
        if found.owner_id != rep {
            errors.push(refuse("a deal the calling rep owns"));
        } else if found.status != Status::Open {
            errors.push(refuse("an open deal"));
        } else if !range.contains(found.close_date) {
            errors.push(refuse(&format!(
                "a deal due in the period ({} to {}); this one is due {}",
                range.start,
                range.last_day(),
                found.close_date
            )));
        } else if line.include != included_by_default(found.category) && line.note.is_none() {
            let departure = if line.include {
                format!("including a {} deal", found.category.as_str())
            } else {
                "leaving a Commit deal out".to_owned()
            };
            errors.push(
                InvalidValue::missing(format!(
                    "a note saying why: {departure} departs from its category"
                ))
                .at(at("note")),
            );
        }
    }
    errors.finish()
}

/// Checks that `manager` may adjust the number of `subject`: the subject is the manager or
/// someone below them (`manager_of` gives each person's manager).
pub fn check_adjustment(
    manager: UserId,
    subject: UserId,
    manager_of: impl Fn(UserId) -> Option<UserId>,
    has_reports: bool,
) -> Result<(), FieldErrors> {
    if manager == subject {
        return if has_reports {
            Ok(())
        } else {
            Err(InvalidValue::new(
                &subject.to_string(),
                "a manager: only someone with people reporting to them adjusts a number",
            )
            .at("subject_id")
            .into())
        };
    }
    let mut at = subject;
    // One step per link at most, so a loop in the links cannot loop here.
    for _ in 0..10_000 {
        match manager_of(at) {
            Some(m) if m == manager => return Ok(()),
            Some(m) => at = m,
            None => break,
        }
    }
    Err(InvalidValue::new(
        &subject.to_string(),
        "someone in the adjusting manager's subtree",
    )
    .at("subject_id")
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> OpportunityId {
        OpportunityId::from_parts(1, [n; 10])
    }

    fn person(n: u8) -> UserId {
        UserId::from_parts(1, [n; 10])
    }

    fn quarter() -> DateRange {
        DateRange::new("2026-11-01".parse().unwrap(), "2027-02-01".parse().unwrap())
    }

    fn deal(n: u8) -> Option<CallableDeal> {
        let (owner, status, category, due) = match n {
            1 => (1, Status::Open, ForecastCategory::Commit, "2026-12-15"),
            2 => (1, Status::Open, ForecastCategory::BestCase, "2027-01-20"),
            3 => (2, Status::Open, ForecastCategory::Commit, "2026-12-15"),
            4 => (1, Status::Won, ForecastCategory::Closed, "2026-11-20"),
            5 => (1, Status::Open, ForecastCategory::Commit, "2027-03-01"),
            _ => return None,
        };
        Some(CallableDeal {
            id: id(n),
            owner_id: person(owner),
            status,
            category,
            close_date: due.parse().unwrap(),
        })
    }

    fn line(n: u8, include: bool, note: Option<&str>) -> CallLine {
        CallLine {
            opportunity_id: id(n),
            include,
            note: note.map(|n| Note::parse(n).unwrap()),
        }
    }

    fn find(o: OpportunityId) -> Option<CallableDeal> {
        (1..=5).filter_map(deal).find(|d| d.id == o)
    }

    #[test]
    fn a_call_that_follows_the_categories_needs_no_notes() {
        let lines = [line(1, true, None), line(2, false, None)];
        assert_eq!(check_call(person(1), quarter(), &lines, find), Ok(()));
    }

    #[test]
    fn departing_from_the_category_needs_a_note() {
        let lines = [
            line(1, false, None),
            line(2, true, None),
            line(1, true, Some("dup")),
        ];
        let errors = check_call(person(1), quarter(), &lines, find).unwrap_err();
        let fields: Vec<(&str, &str)> = errors.iter().map(|e| (e.field(), e.expected())).collect();
        assert_eq!(
            fields,
            [
                (
                    "lines[0].note",
                    "a note saying why: leaving a Commit deal out departs from its category"
                ),
                (
                    "lines[1].note",
                    "a note saying why: including a best_case deal departs from its category"
                ),
                ("lines[2].opportunity_id", "each deal once per call"),
            ]
        );
        let noted = [
            line(1, false, Some("Signature slips to February: legal review")),
            line(2, true, Some("Chosen; paperwork this month")),
        ];
        assert_eq!(check_call(person(1), quarter(), &noted, find), Ok(()));
    }

    #[test]
    fn a_call_names_only_the_reps_open_deals_due_in_the_period() {
        let lines = [
            line(3, true, None),
            line(4, true, None),
            line(5, true, None),
            line(9, true, None),
        ];
        let errors = check_call(person(1), quarter(), &lines, find).unwrap_err();
        let expected: Vec<&str> = errors.iter().map(|e| e.expected()).collect();
        assert_eq!(
            expected,
            [
                "a deal the calling rep owns",
                "an open deal",
                "a deal due in the period (2026-11-01 to 2027-01-31); this one is due 2027-03-01",
                "a deal of this workspace",
            ]
        );
    }

    #[test]
    fn managers_adjust_their_subtree_only() {
        // 1 ← 2 ← 3: person 3 reports to 2, who reports to 1; 4 reports to nobody.
        let manager_of = |u: UserId| match u {
            u if u == person(3) => Some(person(2)),
            u if u == person(2) => Some(person(1)),
            _ => None,
        };
        assert!(check_adjustment(person(1), person(3), manager_of, true).is_ok());
        assert!(check_adjustment(person(2), person(3), manager_of, true).is_ok());
        assert!(check_adjustment(person(1), person(1), manager_of, true).is_ok());
        assert!(check_adjustment(person(3), person(2), manager_of, false).is_err());
        assert!(check_adjustment(person(2), person(4), manager_of, true).is_err());
        assert!(check_adjustment(person(3), person(3), manager_of, false).is_err());
    }
}
