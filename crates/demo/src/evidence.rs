//! Evidence a rep records before a deal moves on: for each criterion the move needs, the
//! gate decision, score, stakeholder, plan, success criterion, checklist tick or field that
//! meets it, with plausible content.

use chrono::{DateTime, Duration, Utc};
use pipewise_core::crm::{BuyingRole, Contact};
use pipewise_core::evidence::{
    Engagement, EvidenceChange, GateDecision, Milestone, MilestoneStatus, Side, Stakeholder,
    SuccessCriterion,
};
use pipewise_core::ids::ContactId;
use pipewise_core::keys::ItemKey;
use pipewise_core::process::{Criterion, Process, ScoreRef, Test};
use pipewise_core::text::{Label, Name, Note};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::DemoError;

/// What meeting a criterion takes: evidence, or a deal field to fill in.
pub(crate) enum Action {
    Record(EvidenceChange),
    SetAmount,
    SetNextStep,
    SetCompetitor,
}

/// The steps that make `criterion` hold. `contacts` are the buyer's people on this deal.
pub(crate) fn meet(
    process: &Process,
    criterion: &Criterion,
    contacts: &[&Contact],
    rng: &mut ChaCha8Rng,
    at: DateTime<Utc>,
) -> Result<Vec<Action>, DemoError> {
    let record = |change| Ok(vec![Action::Record(change)]);
    match &criterion.test {
        Test::Field(field) => Ok(match field.as_str() {
            "amount" => vec![Action::SetAmount],
            "next_step" => vec![Action::SetNextStep],
            "competitor" => vec![Action::SetCompetitor],
            _ => Vec::new(),
        }),
        Test::Gate(gate) => record(EvidenceChange::GateDecided {
            gate: *gate,
            decision: GateDecision::Pass {
                next_step: note(
                    PASS_NEXT_STEPS
                        .choose(rng)
                        .copied()
                        .unwrap_or("Next meeting"),
                )?,
            },
        }),
        Test::Score {
            score: ScoreRef::Item(item),
            at_least,
        } => record(EvidenceChange::Scored {
            item: *item,
            value: rng.random_range(*at_least..=item.max_score()),
        }),
        Test::Score {
            score: ScoreRef::Total(card),
            ..
        } => Ok(card
            .items()
            .map(|item| {
                Action::Record(EvidenceChange::Scored {
                    item,
                    value: item.max_score(),
                })
            })
            .collect()),
        Test::Stakeholder { role, engagement } => {
            let contact = contacts
                .iter()
                .find(|c| c.buying_role == Some(*role))
                .or_else(|| contacts.choose(rng))
                .map(|c| c.id);
            Ok(contact
                .map(|contact_id| stakeholder(contact_id, *role, *engagement))
                .into_iter()
                .collect())
        }
        Test::Stakeholders(n) => Ok(contacts
            .iter()
            .take(*n)
            .map(|c| {
                stakeholder(
                    c.id,
                    c.buying_role.unwrap_or(BuyingRole::Influencer),
                    Engagement::Engaged,
                )
            })
            .collect()),
        Test::MutualActionPlan(_) => {
            let owner = contacts
                .first()
                .map_or("Buyer project lead", |c| c.name.as_str());
            let milestones = [
                (
                    "security_review",
                    "Security review of the data flows",
                    Side::Buyer,
                    owner,
                ),
                (
                    "pilot_readout",
                    "Pilot results read out to the steering group",
                    Side::Seller,
                    "Account executive",
                ),
                (
                    "decision_meeting",
                    "Decision meeting with the economic buyer",
                    Side::Buyer,
                    owner,
                ),
            ];
            milestones
                .into_iter()
                .enumerate()
                .map(|(i, (key, title, side, owner))| {
                    let due = (at + Duration::days(7 * (i as i64 + 1) + rng.random_range(0..7)))
                        .date_naive();
                    Ok(Action::Record(EvidenceChange::MilestoneSet(Milestone {
                        key: item_key(key)?,
                        title: note(title)?,
                        side,
                        owner: Name::parse(owner).map_err(DemoError::model)?,
                        due,
                        status: MilestoneStatus::Planned,
                    })))
                })
                .collect()
        }
        Test::SuccessCriteria(n) => SUCCESS_CRITERIA
            .choose_multiple(rng, *n)
            .map(|(key, metric, baseline, target, measurement)| {
                Ok(Action::Record(EvidenceChange::SuccessCriterionSet(
                    SuccessCriterion {
                        key: item_key(key)?,
                        metric: label(metric)?,
                        baseline: label(baseline)?,
                        target: label(target)?,
                        by: (at + Duration::days(rng.random_range(120..270))).date_naive(),
                        measurement: note(measurement)?,
                    },
                )))
            })
            .collect(),
        Test::Checklist(item) => record(EvidenceChange::Checked {
            item: item.clone(),
            done: true,
        }),
        Test::All(keys) => {
            let mut steps = Vec::new();
            for key in keys {
                if let Some(part) = process.criterion(key) {
                    steps.extend(meet(process, part, contacts, rng, at)?);
                }
            }
            Ok(steps)
        }
        Test::Any(keys) => match keys.choose(rng).and_then(|k| process.criterion(k)) {
            Some(part) => meet(process, part, contacts, rng, at),
            None => Ok(Vec::new()),
        },
    }
}

fn stakeholder(contact_id: ContactId, role: BuyingRole, engagement: Engagement) -> Action {
    Action::Record(EvidenceChange::StakeholderSet(Stakeholder {
        contact_id,
        role,
        engagement,
    }))
}

fn note(text: &str) -> Result<Note, DemoError> {
    Note::parse(text).map_err(DemoError::model)
}

fn label(text: &str) -> Result<Label, DemoError> {
    Label::parse(text).map_err(DemoError::model)
}

fn item_key(text: &str) -> Result<ItemKey, DemoError> {
    ItemKey::parse(text).map_err(DemoError::model)
}

const PASS_NEXT_STEPS: [&str; 5] = [
    "Discovery workshop with the operations owner",
    "Stakeholder alignment session with procurement invited",
    "Proposal review with the CFO",
    "Pilot scoping call with IT",
    "Commercial proposal walkthrough",
];

/// Key, metric, baseline, target, how it is measured.
const SUCCESS_CRITERIA: [(&str, &str, &str, &str, &str); 5] = [
    (
        "close_hours",
        "Hours to close the books each month",
        "60 hours",
        "20 hours",
        "Controller's close checklist",
    ),
    (
        "manual_reports",
        "Hours of manual reporting per month",
        "40 hours",
        "10 hours",
        "Finance team time sheets",
    ),
    (
        "forecast_error",
        "Forecast error at week 4 of the quarter",
        "18%",
        "8%",
        "Forecast snapshot against bookings",
    ),
    (
        "onboarding_days",
        "Days from signature to first value",
        "45 days",
        "14 days",
        "Implementation tracker",
    ),
    (
        "order_errors",
        "Order entry errors per thousand orders",
        "12",
        "3",
        "ERP exception report",
    ),
];
