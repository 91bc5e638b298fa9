//! Proptest strategies for tests in this and other crates (feature `testing`).

// Test support only: the literal values parsed here are valid.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use crate::crm::BuyingRole;
use crate::evidence::{
    Engagement, Evidence, EvidenceChange, Gate, GateDecision, Milestone, MilestoneStatus,
    ScoreItem, Side, Stakeholder, SuccessCriterion,
};
use crate::ids::{AccountId, ContactId, UserId};
use crate::keys::ItemKey;
use crate::money::{Currency, Money};
use crate::opportunity::{Command, FieldChange, LossType, NextStep};
use crate::process::{CriterionKey, ForecastCategory, Process, ScoreRef, StageKey, Test};
use crate::text::{Label, Name, Note};

/// Evidence that lets a deal enter the shipped enterprise process at its SAL stage: the Fit
/// and Access gate passed and a stated need. (The third entry criterion, a dated next step,
/// is a field of the deal.)
pub fn qualified_evidence() -> Evidence {
    let mut evidence = Evidence::default();
    for change in [
        EvidenceChange::GateDecided {
            gate: Gate::FitAccess,
            decision: GateDecision::Pass {
                next_step: Note::parse("Discovery with the operations owner").unwrap(),
            },
        },
        EvidenceChange::Scored {
            item: ScoreItem::BantNeed,
            value: 1,
        },
    ] {
        evidence.apply(&change);
    }
    evidence
}

/// Evidence that makes `criterion` hold, for tests that need deals to move. Field criteria
/// get none: fields change through their own commands.
pub fn evidence_meeting(process: &Process, criterion: &CriterionKey) -> Vec<EvidenceChange> {
    let Some(criterion) = process.criterion(criterion) else {
        return Vec::new();
    };
    let contact = |n: usize| ContactId::from_parts(2, [u8::try_from(n).unwrap_or(0); 10]);
    let far = first_day() + Duration::days(3650);
    match &criterion.test {
        Test::Field(_) => Vec::new(),
        Test::Gate(gate) => vec![EvidenceChange::GateDecided {
            gate: *gate,
            decision: GateDecision::Pass {
                next_step: Note::parse("Next meeting agreed").unwrap(),
            },
        }],
        Test::Score {
            score: ScoreRef::Item(item),
            at_least,
        } => vec![EvidenceChange::Scored {
            item: *item,
            value: *at_least,
        }],
        Test::Score {
            score: ScoreRef::Total(card),
            ..
        } => card
            .items()
            .map(|item| EvidenceChange::Scored {
                item,
                value: item.max_score(),
            })
            .collect(),
        Test::Stakeholder { role, engagement } => {
            let n = BuyingRole::ALL.iter().position(|r| r == role).unwrap_or(0);
            vec![EvidenceChange::StakeholderSet(Stakeholder {
                contact_id: contact(n + 1),
                role: *role,
                engagement: *engagement,
            })]
        }
        Test::Stakeholders(n) => (0..*n)
            .map(|i| {
                EvidenceChange::StakeholderSet(Stakeholder {
                    contact_id: contact(100 + i),
                    role: BuyingRole::Influencer,
                    engagement: Engagement::Aware,
                })
            })
            .collect(),
        Test::MutualActionPlan(_) => Side::ALL
            .iter()
            .map(|side| {
                EvidenceChange::MilestoneSet(Milestone {
                    key: ItemKey::parse(&format!("plan_{side}")).unwrap(),
                    title: Note::parse("Decision meeting").unwrap(),
                    side: *side,
                    owner: Name::parse("Priya Shah").unwrap(),
                    due: far,
                    status: MilestoneStatus::Planned,
                })
            })
            .collect(),
        Test::SuccessCriteria(n) => (0..*n)
            .map(|i| {
                EvidenceChange::SuccessCriterionSet(SuccessCriterion {
                    key: ItemKey::parse(&format!("criterion_{i}")).unwrap(),
                    metric: Label::parse("hours of manual reporting").unwrap(),
                    baseline: Label::parse("40 hours").unwrap(),
                    target: Label::parse("10 hours").unwrap(),
                    by: far,
                    measurement: Note::parse("Time sheets").unwrap(),
                })
            })
            .collect(),
        Test::Checklist(item) => vec![EvidenceChange::Checked {
            item: item.clone(),
            done: true,
        }],
        Test::All(keys) => keys
            .iter()
            .flat_map(|k| evidence_meeting(process, k))
            .collect(),
        Test::Any(keys) => keys
            .first()
            .map(|k| evidence_meeting(process, k))
            .unwrap_or_default(),
    }
}

/// Command runs that move deals: evidence meeting a random criterion of the process, a move
/// to a random stage (forward or back, with a reason), and any other command.
pub fn any_deal_work(
    process: &Process,
    people: Vec<UserId>,
) -> impl Strategy<Value = Vec<Command>> + use<> {
    let criteria: Vec<CriterionKey> = process.criteria().map(|c| c.key.clone()).collect();
    let for_criterion = {
        let process = process.clone();
        proptest::sample::select(criteria).prop_map(move |key| {
            evidence_meeting(&process, &key)
                .into_iter()
                .map(Command::RecordEvidence)
                .collect::<Vec<_>>()
        })
    };
    let stages: Vec<StageKey> = process.stages().iter().map(|s| s.key.clone()).collect();
    let owner = people[0];
    let step = proptest::sample::select(stages).prop_map(move |to| {
        vec![Command::MoveStage {
            to,
            reason: Some(Note::parse("Buyer confirmed in writing").unwrap()),
            next_step: Some(NextStep {
                text: Note::parse("Send the mutual action plan").unwrap(),
                owner_id: owner,
                due: first_day() + Duration::days(30),
            }),
        }]
    });
    let other = any_command(process, people, Vec::new()).prop_map(|c| vec![c]);
    prop_oneof![4 => for_criterion, 3 => step, 3 => other]
}

/// Contacts the evidence strategy puts on stakeholder maps.
fn people_count_contacts() -> Vec<ContactId> {
    (1..=4u8)
        .map(|n| ContactId::from_parts(1, [n; 10]))
        .collect()
}

/// Any change to a deal's evidence, valid or not, drawing checklist items from the process.
pub fn any_evidence_change(
    process: &Process,
    contacts: Vec<ContactId>,
) -> impl Strategy<Value = EvidenceChange> + use<> {
    let note = |text: &str| Note::parse(text).unwrap();
    let decision = prop_oneof![
        Just(GateDecision::Pass {
            next_step: note("Proposal planning with the operations owner")
        }),
        Just(GateDecision::Fail {
            remedy: note("Problem workshop")
        }),
        Just(GateDecision::Pause {
            reason: note("Budget frozen"),
            reentry_trigger: note("New fiscal year"),
        }),
    ];
    let gate = proptest::sample::select(Gate::ALL.to_vec());
    let item = proptest::sample::select(ScoreItem::ALL.to_vec());
    let mut checklist: Vec<ItemKey> = process.checklist().iter().map(|i| i.key.clone()).collect();
    checklist.push(ItemKey::parse("not_in_the_process").unwrap());
    let key = proptest::sample::select(vec![
        ItemKey::parse("security_review").unwrap(),
        ItemKey::parse("pilot").unwrap(),
    ]);
    let side = proptest::sample::select(Side::ALL.to_vec());
    let status = proptest::sample::select(MilestoneStatus::ALL.to_vec());
    let due = (0i64..400).prop_map(|d| first_day() + Duration::days(d));
    let contact = proptest::sample::select(contacts);
    let role = proptest::sample::select(BuyingRole::ALL.to_vec());
    let engagement = proptest::sample::select(Engagement::ALL.to_vec());
    prop_oneof![
        3 => (gate, decision).prop_map(|(gate, decision)| EvidenceChange::GateDecided { gate, decision }),
        4 => (item, 0u8..4).prop_map(|(item, value)| EvidenceChange::Scored { item, value }),
        4 => (proptest::sample::select(checklist), any::<bool>())
            .prop_map(|(item, done)| EvidenceChange::Checked { item, done }),
        2 => (key.clone(), side, due.clone(), status).prop_map(|(key, side, due, status)| {
            EvidenceChange::MilestoneSet(Milestone {
                key,
                title: Note::parse("Security review").unwrap(),
                side,
                owner: Name::parse("Priya Shah").unwrap(),
                due,
                status,
            })
        }),
        1 => key.clone().prop_map(|key| EvidenceChange::MilestoneRemoved { key }),
        2 => (contact.clone(), role, engagement).prop_map(|(contact_id, role, engagement)| {
            EvidenceChange::StakeholderSet(Stakeholder { contact_id, role, engagement })
        }),
        1 => contact.prop_map(|contact_id| EvidenceChange::StakeholderRemoved { contact_id }),
        2 => (key.clone(), due).prop_map(|(key, by)| {
            EvidenceChange::SuccessCriterionSet(SuccessCriterion {
                key,
                metric: Label::parse("hours of manual reporting").unwrap(),
                baseline: Label::parse("40 hours").unwrap(),
                target: Label::parse("10 hours").unwrap(),
                by,
                measurement: Note::parse("Time sheets").unwrap(),
            })
        }),
        1 => key.prop_map(|key| EvidenceChange::SuccessCriterionRemoved { key }),
    ]
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

/// Any command, allowed or not: tests feed these to `execute` and keep the ones it accepts.
/// People and accounts are drawn from the given lists, which must not be empty for people.
pub fn any_command(
    process: &Process,
    people: Vec<UserId>,
    accounts: Vec<AccountId>,
) -> impl Strategy<Value = Command> + use<> {
    let stages: Vec<StageKey> = process.stages().iter().map(|s| s.key.clone()).collect();
    let stage = proptest::sample::select(stages);
    let person = proptest::sample::select(people);
    let date = (0i64..400).prop_map(|d| first_day() + Duration::days(d));
    let note = |text: &str| Note::parse(text).unwrap();
    let reason = proptest::option::of(Just(note("Buyer confirmed in writing")));
    let next_step = proptest::option::of((person.clone(), date.clone()).prop_map(
        move |(owner_id, due)| NextStep {
            text: Note::parse("Send the mutual action plan").unwrap(),
            owner_id,
            due,
        },
    ));
    let currency = prop_oneof![Just(Currency::USD), Just(Currency::EUR)];
    let amount = proptest::option::of(
        (0i64..10_000_000, currency).prop_map(|(minor, currency)| Money::new(minor, currency)),
    );
    let loss_type = proptest::sample::select(LossType::ALL.to_vec());
    let label = |text: &str| Label::parse(text).unwrap();
    let competitor = proptest::option::of(Just(label("Initech")));
    let category = proptest::option::of(proptest::sample::select(ForecastCategory::ALL.to_vec()));
    let field = {
        let mut fields = vec![
            proptest::option::of(Just(label("Enterprise")))
                .prop_map(FieldChange::Segment)
                .boxed(),
            proptest::option::of(Just(label("partner")))
                .prop_map(FieldChange::Source)
                .boxed(),
            next_step.clone().prop_map(FieldChange::NextStep).boxed(),
        ];
        if !accounts.is_empty() {
            fields.push(
                proptest::sample::select(accounts)
                    .prop_map(FieldChange::Account)
                    .boxed(),
            );
        }
        proptest::strategy::Union::new(fields)
    };
    let evidence = any_evidence_change(process, people_count_contacts());
    prop_oneof![
        6 => evidence.prop_map(Command::RecordEvidence),
        4 => (stage.clone(), reason.clone(), next_step).prop_map(|(to, reason, next_step)| {
            Command::MoveStage { to, reason, next_step }
        }),
        2 => amount.prop_map(Command::ChangeAmount),
        2 => date.clone().prop_map(Command::ChangeCloseDate),
        1 => (category, reason).prop_map(|(to, reason)| Command::OverrideCategory { to, reason }),
        1 => person.prop_map(Command::ChangeOwner),
        1 => date.clone().prop_map(|on| Command::CloseWon { on }),
        1 => (date.clone(), loss_type, competitor).prop_map(|(on, loss_type, competitor)| {
            Command::CloseLost { on, loss_type, reason: None, competitor }
        }),
        1 => (proptest::option::of(stage), date).prop_map(|(stage, close_date)| Command::Reopen {
            stage,
            close_date,
            reason: Note::parse("Buyer came back").unwrap(),
        }),
        1 => field.prop_map(Command::ChangeField),
    ]
}

/// The first TOML block of a documentation page.
pub fn toml_example(page: &str) -> &str {
    let start = page.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + page[start..].find("```").unwrap();
    &page[start..end]
}
