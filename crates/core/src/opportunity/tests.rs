use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;

use crate::testing::{any_command, any_deal_work, qualified_evidence};

use super::*;
use crate::crm::BuyingRole;
use crate::evidence::{
    Engagement, EvidenceChange, Gate, GateDecision, Milestone, MilestoneStatus, ScoreItem, Side,
    Stakeholder, SuccessCriterionDraft,
};
use crate::ids::{AccountId, ContactId, OpportunityId, UserId};
use crate::money::{Currency, Money};
use crate::process::{ForecastCategory, Process, StageKey};
use crate::text::{Label, Name, Note};

fn rep() -> UserId {
    UserId::from_parts(1, [1; 10])
}

fn manager() -> UserId {
    UserId::from_parts(2, [2; 10])
}

fn t0() -> DateTime<Utc> {
    "2026-01-05T09:00:00Z".parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn stage(s: &str) -> StageKey {
    s.parse().unwrap()
}

fn note(s: &str) -> Note {
    Note::parse(s).unwrap()
}

fn usd(dollars: i64) -> Option<Money> {
    Some(Money::new(dollars * 100, Currency::USD))
}

fn created() -> Created {
    Created {
        name: Name::parse("Globex data platform").unwrap(),
        account_id: AccountId::from_parts(1, [3; 10]),
        owner_id: rep(),
        process: "enterprise".parse().unwrap(),
        stage: stage("qualified"),
        amount: usd(48_000),
        close_date: day("2026-03-31"),
        source: Some(Label::parse("inbound").unwrap()),
        segment: Some(Label::parse("Mid-Market").unwrap()),
        competitor: None,
        next_step: Some(NextStep {
            text: note("Discovery call with the CFO"),
            owner_id: rep(),
            due: day("2026-01-12"),
        }),
        evidence: qualified_evidence(),
    }
}

/// Opens the standard test deal and runs `commands` one hour apart.
fn run(commands: Vec<Command>) -> Result<(Opportunity, Vec<OpportunityEvent>), CommandError> {
    let process = Process::default_enterprise();
    let id = OpportunityId::from_parts(1, [9; 10]);
    let first = open(id, created(), &process, Stamp::now(rep(), t0()))?;
    let mut state = first.state;
    let mut events = first.events;
    for (i, command) in commands.into_iter().enumerate() {
        let at = t0() + Duration::hours(i as i64 + 1);
        let recorded = execute(&state, command, &process, Stamp::now(rep(), at))?;
        state = recorded.state;
        events.extend(recorded.events);
    }
    Ok((state, events))
}

fn move_to(to: &str, reason: Option<&str>) -> Command {
    Command::MoveStage {
        to: stage(to),
        reason: reason.map(note),
        next_step: Some(NextStep {
            text: note("Workshop with the CFO"),
            owner_id: rep(),
            due: day("2026-01-20"),
        }),
    }
}

fn record(change: EvidenceChange) -> Command {
    Command::RecordEvidence(change)
}

fn pass(gate: Gate) -> Command {
    record(EvidenceChange::GateDecided {
        gate,
        decision: GateDecision::Pass {
            next_step: note("Agreed agenda for the next meeting"),
        },
    })
}

fn score(item: ScoreItem, value: u8) -> Command {
    record(EvidenceChange::Scored { item, value })
}

fn tick(item: &str) -> Command {
    record(EvidenceChange::Checked {
        item: item.parse().unwrap(),
        done: true,
    })
}

fn stakeholder(n: u8, role: BuyingRole, engagement: Engagement) -> Command {
    record(EvidenceChange::StakeholderSet(Stakeholder {
        contact_id: ContactId::from_parts(1, [n; 10]),
        role,
        engagement,
    }))
}

fn milestone(key: &str, side: Side) -> Command {
    record(EvidenceChange::MilestoneSet(Milestone {
        key: key.parse().unwrap(),
        title: note("Security review of the data flows"),
        side,
        owner: Name::parse("Priya Shah").unwrap(),
        due: day("2026-02-15"),
        status: MilestoneStatus::Planned,
    }))
}

/// The evidence that meets the exit criteria of `stage` in the shipped enterprise process
/// (and so the entry criteria of the next stage), read off `processes/enterprise.toml`.
fn evidence_to_leave(stage: &str) -> Vec<Command> {
    match stage {
        "qualified" => vec![
            score(ScoreItem::MeddiccIdentifyPain, 2),
            score(ScoreItem::BantTiming, 1),
        ],
        "business_case" => vec![
            pass(Gate::ProblemImpact),
            record(EvidenceChange::SuccessCriterionSet(
                SuccessCriterionDraft {
                    key: Some("close_hours".into()),
                    metric: Some("hours to close the books".into()),
                    baseline: Some("60 hours".into()),
                    target: Some("20 hours".into()),
                    by: Some("2026-12-31".into()),
                    measurement: Some("Controller's close checklist".into()),
                }
                .validate()
                .unwrap(),
            )),
        ],
        "evaluating" => vec![
            stakeholder(1, BuyingRole::Signer, Engagement::Aware),
            stakeholder(2, BuyingRole::DecisionMaker, Engagement::Engaged),
            stakeholder(3, BuyingRole::EconomicBuyer, Engagement::Engaged),
            pass(Gate::DecisionProcess),
            tick("shortlist_confirmed"),
        ],
        "shortlisted" => vec![
            milestone("security_review", Side::Buyer),
            milestone("pilot_report", Side::Seller),
            tick("vendor_of_choice"),
        ],
        "negotiating" => vec![
            tick("pricing_reviewed"),
            pass(Gate::CommercialFit),
            tick("contract_in_redlines"),
        ],
        "redlining" => vec![
            score(ScoreItem::ProcurementClarity, 2),
            tick("signature_date_set"),
            tick("contract_signed"),
        ],
        _ => panic!("no evidence written for {stage}"),
    }
}

/// Evidence to leave every stage from `first` through `last`, in order.
fn evidence_through(first: &str, last: &str) -> Vec<Command> {
    let process = Process::default_enterprise();
    let keys: Vec<&str> = process.stages().iter().map(|s| s.key.as_str()).collect();
    let from = keys.iter().position(|k| *k == first).unwrap();
    let to = keys.iter().position(|k| *k == last).unwrap();
    keys[from..=to]
        .iter()
        .flat_map(|k| evidence_to_leave(k))
        .collect()
}

fn unmet_keys(error: CommandError) -> Vec<String> {
    match error {
        CommandError::CriteriaUnmet { unmet, .. } => {
            unmet.into_iter().map(|u| u.key.to_string()).collect()
        }
        other => panic!("expected unmet criteria, got {other:?}"),
    }
}

#[test]
fn opening_records_every_initial_field_in_one_event() {
    let (state, events) = run(vec![]).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].seq, 1);
    assert_eq!(events[0].change.kind(), EventKind::Created);
    assert_eq!(state.version, 1);
    assert_eq!(state.status, Status::Open);
    assert_eq!(state.amount, usd(48_000));
    assert_eq!(state.created_at, t0());
    let process = Process::default_enterprise();
    assert_eq!(
        state.forecast_category(&process),
        ForecastCategory::Pipeline
    );
}

#[test]
fn opening_in_an_unknown_stage_names_the_stage() {
    let process = Process::default_enterprise();
    let mut bad = created();
    bad.stage = stage("demo_done");
    let error = open(
        OpportunityId::generate(),
        bad,
        &process,
        Stamp::now(rep(), t0()),
    )
    .unwrap_err();
    let CommandError::Invalid(errors) = error else {
        panic!("expected a field error, got {error:?}");
    };
    let error = errors.iter().next().unwrap();
    assert_eq!((error.field(), error.value()), ("stage", "demo_done"));
}

#[test]
fn forward_moves_and_skips_are_recorded_with_reason_and_next_step() {
    let mut commands = evidence_to_leave("qualified");
    commands.push(move_to(
        "business_case",
        Some("Impact quantified at $1.2M a year"),
    ));
    // Skipping evaluating and shortlisted, whose criteria hold.
    commands.extend(evidence_through("business_case", "shortlisted"));
    commands.push(move_to("negotiating", None));
    let (state, events) = run(commands).unwrap();
    assert_eq!(state.stage, stage("negotiating"));
    // Created, 2 scores, the move, 2 + 5 + 3 pieces of evidence, the skip.
    assert_eq!(state.version, 15);
    let events: Vec<_> = events
        .into_iter()
        .filter(|e| e.change.kind() != EventKind::EvidenceRecorded)
        .collect();
    let process = Process::default_enterprise();
    assert_eq!(state.forecast_category(&process), ForecastCategory::Commit);
    let Change::StageChanged(first) = &events[1].change else {
        panic!("expected a stage change");
    };
    assert!(!first.is_incomplete());
    let Change::StageChanged(skip) = &events[2].change else {
        panic!("expected a stage change");
    };
    assert_eq!(
        (skip.from.as_str(), skip.to.as_str()),
        ("business_case", "negotiating")
    );
    assert!(
        skip.is_incomplete(),
        "a move without a reason is incomplete"
    );
    assert_eq!(
        state.next_step.unwrap().text.as_str(),
        "Workshop with the CFO"
    );
}

#[test]
fn backward_moves_need_a_reason() {
    let mut to_evaluating = evidence_through("qualified", "business_case");
    to_evaluating.push(move_to("evaluating", Some("Funded")));
    let refused = run([to_evaluating.clone(), vec![move_to("qualified", None)]].concat());
    assert_eq!(
        refused.unwrap_err(),
        CommandError::BackwardWithoutReason {
            from: stage("evaluating"),
            to: stage("qualified")
        }
    );
    // Backward moves are allowed even when the evidence has since weakened.
    let weakened = record(EvidenceChange::GateDecided {
        gate: Gate::ProblemImpact,
        decision: GateDecision::Pause {
            reason: note("Budget frozen until Q3"),
            reentry_trigger: note("Q3 budget cycle opens"),
        },
    });
    let (state, _) = run([
        to_evaluating,
        vec![
            weakened,
            move_to("qualified", Some("Budget frozen until Q3")),
        ],
    ]
    .concat())
    .unwrap();
    assert_eq!(state.stage, stage("qualified"));
}

#[test]
fn moving_to_the_current_or_an_unknown_stage_is_refused() {
    assert_eq!(
        run(vec![move_to("qualified", None)]).unwrap_err(),
        CommandError::SameStage(stage("qualified"))
    );
    let error = run(vec![move_to("closing", None)]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "stage: `closing` is not accepted: a stage of the Enterprise process: qualified, \
         business_case, evaluating, shortlisted, negotiating, redlining"
    );
}

#[test]
fn closing_lost_to_competition_needs_the_competitor() {
    let lose = |competitor: Option<&str>| Command::CloseLost {
        on: day("2026-02-10"),
        loss_type: LossType::Competition,
        reason: Some(note("Chose the incumbent's bundle")),
        competitor: competitor.map(|c| Label::parse(c).unwrap()),
    };
    assert_eq!(
        run(vec![lose(None)]).unwrap_err(),
        CommandError::CompetitorRequired
    );
    let (state, _) = run(vec![lose(Some("Initech"))]).unwrap();
    assert_eq!(state.status, Status::Lost);
    assert_eq!(state.close_date, day("2026-02-10"));
    assert_eq!(state.competitor.unwrap().as_str(), "Initech");
    assert_eq!(state.loss.unwrap().loss_type, LossType::Competition);
}

#[test]
fn losses_to_no_decision_need_no_competitor_and_land_in_omitted() {
    let (state, _) = run(vec![Command::CloseLost {
        on: day("2026-02-10"),
        loss_type: LossType::NoDecision,
        reason: None,
        competitor: None,
    }])
    .unwrap();
    let process = Process::default_enterprise();
    assert_eq!(state.forecast_category(&process), ForecastCategory::Omitted);
    assert!(LossType::NoDecision.counts_in_rates());
    assert!(!LossType::Disqualified.counts_in_rates());
    assert!(!LossType::Duplicate.counts_in_rates());
}

#[test]
fn closed_deals_refuse_changes_until_reopened() {
    let won = Command::CloseWon {
        on: day("2026-03-20"),
    };
    let all = evidence_through("qualified", "redlining");
    assert_eq!(
        run([
            all.clone(),
            vec![won.clone(), Command::ChangeAmount(usd(1))]
        ]
        .concat())
        .unwrap_err(),
        CommandError::NotOpen(Status::Won)
    );
    assert_eq!(
        run([all, vec![won.clone(), won.clone()]].concat()).unwrap_err(),
        CommandError::NotOpen(Status::Won)
    );
    let reopen = Command::Reopen {
        stage: None,
        close_date: day("2026-06-30"),
        reason: note("Signature was on the wrong entity"),
    };
    let mut commands = evidence_through("qualified", "negotiating");
    commands.extend([move_to("redlining", None)]);
    commands.extend(evidence_to_leave("redlining"));
    commands.extend([won.clone(), reopen.clone()]);
    let (state, events) = run(commands).unwrap();
    assert_eq!(state.status, Status::Open);
    assert_eq!(state.stage, stage("redlining"), "reopens where it closed");
    assert_eq!(state.close_date, day("2026-06-30"));
    assert_eq!(events.last().unwrap().change.kind(), EventKind::Reopened);
    assert_eq!(run(vec![reopen]).unwrap_err(), CommandError::AlreadyOpen);
}

#[test]
fn category_overrides_need_a_reason_and_are_cleared_by_closing() {
    let process = Process::default_enterprise();
    let set = |category, reason: Option<&str>| Command::OverrideCategory {
        to: Some(category),
        reason: reason.map(note),
    };
    assert_eq!(
        run(vec![set(ForecastCategory::Commit, None)]).unwrap_err(),
        CommandError::OverrideWithoutReason
    );
    assert_eq!(
        run(vec![set(ForecastCategory::Closed, Some("Verbal yes"))]).unwrap_err(),
        CommandError::CategoryNotOverridable(ForecastCategory::Closed)
    );
    let (state, _) = run(vec![set(ForecastCategory::Commit, Some("CFO signed off"))]).unwrap();
    assert_eq!(state.forecast_category(&process), ForecastCategory::Commit);
    let mut commands = evidence_through("qualified", "redlining");
    commands.extend([
        set(
            ForecastCategory::Omitted,
            Some("Duplicate of a partner deal"),
        ),
        Command::CloseWon {
            on: day("2026-03-01"),
        },
    ]);
    let (state, _) = run(commands).unwrap();
    assert_eq!(state.category_override, None);
    assert_eq!(state.forecast_category(&process), ForecastCategory::Closed);
}

#[test]
fn unchanged_values_record_nothing() {
    let (state, events) = run(vec![
        Command::ChangeAmount(usd(48_000)),
        Command::ChangeCloseDate(day("2026-03-31")),
        Command::ChangeOwner(rep()),
    ])
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(state.version, 1);
}

#[test]
fn amount_close_date_owner_and_field_changes_keep_before_and_after() {
    let (state, events) = run(vec![
        Command::ChangeAmount(Some(Money::new(5_000_000, Currency::EUR))),
        Command::ChangeCloseDate(day("2026-04-30")),
        Command::ChangeOwner(manager()),
        Command::ChangeField(FieldChange::Segment(None)),
    ])
    .unwrap();
    assert_eq!(
        events[1].change,
        Change::AmountChanged(AmountChanged {
            from: usd(48_000),
            to: Some(Money::new(5_000_000, Currency::EUR)),
        })
    );
    assert_eq!(
        events[2].change,
        Change::CloseDateChanged(CloseDateChanged {
            from: day("2026-03-31"),
            to: day("2026-04-30"),
        })
    );
    assert_eq!(state.owner_id, manager());
    assert_eq!(state.segment, None);
    assert_eq!(state.version, 5);
}

#[test]
fn changes_cannot_be_dated_before_the_latest_one() {
    let process = Process::default_enterprise();
    let (state, _) = run(vec![Command::ChangeCloseDate(day("2026-04-30"))]).unwrap();
    let error = execute(
        &state,
        Command::ChangeCloseDate(day("2026-05-31")),
        &process,
        Stamp::now(rep(), t0()),
    )
    .unwrap_err();
    assert!(matches!(error, CommandError::BeforeLatestChange { .. }));
}

#[test]
fn replay_refuses_damaged_logs() {
    let (_, events) = run(vec![
        Command::ChangeCloseDate(day("2026-04-30")),
        Command::ChangeAmount(usd(50_000)),
    ])
    .unwrap();
    // A gap in the sequence.
    let gap = [events[0].clone(), events[2].clone()];
    assert_eq!(replay(&gap).unwrap_err().seq, 3);
    // A `from` that does not match the state.
    let mut wrong_from = events.clone();
    if let Change::CloseDateChanged(change) = &mut wrong_from[1].change {
        change.from = day("2020-01-01");
    }
    assert!(
        replay(&wrong_from)
            .unwrap_err()
            .problem
            .contains("close date")
    );
    // Not starting with created.
    assert!(replay(&events[1..]).is_err());
    assert_eq!(replay(&[]).unwrap(), None);
}

#[test]
fn events_serialise_with_kind_and_data() {
    let (_, events) = run(vec![Command::ChangeCloseDate(day("2026-04-30"))]).unwrap();
    let json = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(json["kind"], "close_date_changed");
    assert_eq!(json["data"]["from"], "2026-03-31");
    assert_eq!(json["data"]["to"], "2026-04-30");
    assert_eq!(json["seq"], 2);
    let back: OpportunityEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, events[1]);
}

mod draft {
    use super::*;
    use crate::validation::FieldErrors;

    fn valid() -> OpportunityDraft {
        OpportunityDraft {
            name: Some("Globex data platform".into()),
            account_id: Some(AccountId::from_parts(1, [3; 10]).to_string()),
            owner_id: Some(rep().to_string()),
            amount: Some("48,000.00".into()),
            close_date: Some("2026-03-31".into()),
            ..OpportunityDraft::default()
        }
    }

    fn errors(draft: OpportunityDraft) -> Vec<(String, String)> {
        let process = Process::default_enterprise();
        let errors: FieldErrors = draft.validate(&process, Currency::USD).unwrap_err();
        errors
            .iter()
            .map(|e| (e.field().to_owned(), e.value().to_owned()))
            .collect()
    }

    #[test]
    fn a_valid_draft_gets_defaults() {
        let process = Process::default_enterprise();
        let created = valid().validate(&process, Currency::USD).unwrap();
        assert_eq!(created.stage, stage("qualified"));
        assert_eq!(created.amount, usd(48_000));
        assert_eq!(created.next_step, None);
    }

    #[test]
    fn every_bad_field_is_named_with_its_value() {
        let bad = OpportunityDraft {
            stage: Some("demo_done".into()),
            amount: Some("-5".into()),
            currency: Some("XYZ".into()),
            close_date: Some("2026-02-30".into()),
            ..valid()
        };
        assert_eq!(
            errors(bad),
            [
                ("stage".to_owned(), "demo_done".to_owned()),
                ("currency".to_owned(), "XYZ".to_owned()),
                ("amount".to_owned(), "-5".to_owned()),
                ("close_date".to_owned(), "2026-02-30".to_owned()),
            ]
        );
        let non_numeric = OpportunityDraft {
            amount: Some("lots".into()),
            ..valid()
        };
        assert_eq!(
            errors(non_numeric),
            [("amount".to_owned(), "lots".to_owned())]
        );
        let negative = OpportunityDraft {
            amount: Some("-5".into()),
            ..valid()
        };
        assert_eq!(errors(negative), [("amount".to_owned(), "-5".to_owned())]);
    }

    #[test]
    fn required_fields_are_reported_missing() {
        let missing = errors(OpportunityDraft::default());
        let fields: Vec<&str> = missing.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "account_id", "owner_id", "close_date"]);
    }

    #[test]
    fn a_next_step_needs_text_and_due_date() {
        let half = OpportunityDraft {
            next_step: Some("Send the security questionnaire".into()),
            ..valid()
        };
        assert_eq!(errors(half), [("next_step_due".to_owned(), String::new())]);
        let whole = OpportunityDraft {
            next_step: Some("Send the security questionnaire".into()),
            next_step_due: Some("2026-01-15".into()),
            ..valid()
        };
        let process = Process::default_enterprise();
        let next = whole
            .validate(&process, Currency::USD)
            .unwrap()
            .next_step
            .unwrap();
        assert_eq!(next.owner_id, rep(), "defaults to the deal owner");
        assert_eq!(next.due, day("2026-01-15"));
    }
}

proptest! {
    #[test]
    fn replaying_the_log_reproduces_the_state(
        commands in proptest::collection::vec(
            any_command(&Process::default_enterprise(), vec![rep(), manager()], vec![]),
            0..40,
        )
    ) {
        let process = Process::default_enterprise();
        let first = open(OpportunityId::generate(), created(), &process, Stamp::now(rep(), t0())).unwrap();
        let mut state = first.state;
        let mut events = first.events;
        for (i, command) in commands.into_iter().enumerate() {
            let at = t0() + Duration::minutes(i as i64);
            if let Ok(recorded) = execute(&state, command, &process, Stamp::now(manager(), at)) {
                state = recorded.state;
                events.extend(recorded.events);
            }
        }
        prop_assert_eq!(replay(&events).unwrap(), Some(state.clone()));
        prop_assert!(events.iter().all(|e| e.process_version == process.version));
        prop_assert_eq!(state.version as usize, events.len());
        // Closed deals always sit in Closed or Omitted; open ones never do unless overridden.
        let category = state.forecast_category(&process);
        match state.status {
            Status::Won => prop_assert_eq!(category, ForecastCategory::Closed),
            Status::Lost => prop_assert_eq!(category, ForecastCategory::Omitted),
            Status::Open => prop_assert!(category != ForecastCategory::Closed),
        }
    }
}

mod enforced_moves {
    use super::*;

    #[test]
    fn a_refused_forward_move_lists_every_unmet_criterion_by_name() {
        let error = run(vec![move_to("business_case", Some("Discovery done"))]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "moving from `qualified` to `business_case` needs: A real pain is identified \
             (real_pain); A path to a funded project within 12 months (funded_path)"
        );
        // One of the two recorded: only the other is listed.
        let error = run(vec![
            score(ScoreItem::MeddiccIdentifyPain, 2),
            move_to("business_case", None),
        ])
        .unwrap_err();
        assert_eq!(unmet_keys(error), ["funded_path"]);
    }

    #[test]
    fn a_skip_needs_the_criteria_of_every_skipped_stage() {
        let mut commands = evidence_to_leave("qualified");
        commands.push(move_to("shortlisted", Some("Buyer ran a fast RFP")));
        let error = run(commands).unwrap_err();
        // business_case exit (amount is set), then evaluating's exit, whose `all` criterion
        // is listed as its unmet parts; `shortlisted` is both evaluating's exit and the
        // target's entry and is listed once.
        assert_eq!(
            unmet_keys(error),
            [
                "impact_quantified",
                "success_criterion",
                "signer_mapped",
                "decision_maker_mapped",
                "decision_process_known",
                "economic_buyer_engaged",
                "shortlisted",
            ]
        );
    }

    #[test]
    fn closing_won_needs_the_criteria_of_every_remaining_stage() {
        let mut commands = evidence_through("qualified", "negotiating");
        commands.push(Command::CloseWon {
            on: day("2026-03-01"),
        });
        let error = run(commands).unwrap_err();
        assert_eq!(
            error.to_string(),
            "closing won from `qualified` needs: Procurement steps known (procurement_known); \
             Signature date set (signature_date); Contract signed (signed)"
        );
    }

    #[test]
    fn a_dated_next_step_given_with_the_move_counts() {
        let process = Process::default_enterprise();
        let mut without = created();
        without.next_step = None;
        let error = open(
            OpportunityId::generate(),
            without,
            &process,
            Stamp::now(rep(), t0()),
        )
        .unwrap_err();
        assert_eq!(unmet_keys(error), ["dated_next_step"]);
    }

    #[test]
    fn prospect_b_with_only_a_brochure_download_cannot_enter_qualification() {
        // A consultant downloaded a brochure: no fit confirmed, no need stated, no next step.
        let process = Process::default_enterprise();
        let brochure = Created {
            evidence: Default::default(),
            next_step: None,
            ..created()
        };
        let error = open(
            OpportunityId::generate(),
            brochure,
            &process,
            Stamp::now(rep(), t0()),
        )
        .unwrap_err();
        assert_eq!(
            unmet_keys(error),
            ["fit_and_access", "stated_need", "dated_next_step"]
        );
    }

    #[test]
    fn opening_in_a_later_stage_needs_the_criteria_of_the_stages_before_it() {
        let process = Process::default_enterprise();
        let later = Created {
            stage: stage("business_case"),
            ..created()
        };
        let error = open(
            OpportunityId::generate(),
            later,
            &process,
            Stamp::now(rep(), t0()),
        )
        .unwrap_err();
        assert_eq!(unmet_keys(error), ["real_pain", "funded_path"]);
    }

    #[test]
    fn evidence_is_checked_and_unchanged_evidence_records_nothing() {
        let error = run(vec![score(ScoreItem::ReadinessUrgency, 3)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "readiness.urgency: `3` is not accepted: a score from 0 to 2 for readiness.urgency"
        );
        let error = run(vec![tick("demo_given")]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`demo_given` is not a checklist item of the Enterprise process: ")
        );
        let error = run(vec![record(EvidenceChange::MilestoneRemoved {
            key: "pilot".parse().unwrap(),
        })])
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the mutual action plan has no milestone `pilot`"
        );
        // The test deal already has the Fit and Access gate passed with this next step.
        let (state, events) = run(vec![record(EvidenceChange::GateDecided {
            gate: Gate::FitAccess,
            decision: GateDecision::Pass {
                next_step: note("Discovery with the operations owner"),
            },
        })])
        .unwrap();
        assert_eq!((state.version, events.len()), (1, 1));
    }

    #[test]
    fn a_failed_gate_blocks_the_move_it_guards() {
        let mut commands = evidence_through("qualified", "business_case");
        commands.push(record(EvidenceChange::GateDecided {
            gate: Gate::ProblemImpact,
            decision: GateDecision::Fail {
                remedy: note("Problem workshop with the worksheet"),
            },
        }));
        commands.push(move_to("evaluating", Some("Funded")));
        assert_eq!(
            unmet_keys(run(commands).unwrap_err()),
            ["impact_quantified"]
        );
    }

    #[test]
    fn evidence_replays_into_the_state() {
        let (state, events) = run(evidence_through("qualified", "shortlisted")).unwrap();
        assert_eq!(replay(&events).unwrap(), Some(state.clone()));
        assert!(state.evidence.plan.is_agreed());
        assert_eq!(state.evidence.stakeholders.people(), 3);
        assert!(state.evidence.passed(Gate::DecisionProcess));
        let json = serde_json::to_value(&events[1]).unwrap();
        assert_eq!(json["kind"], "evidence_recorded");
        assert_eq!(json["data"]["evidence"], "scored");
        assert_eq!(json["data"]["item"], "meddicc.identify_pain");
    }
}

proptest! {
    #[test]
    fn no_forward_move_leaves_a_deal_where_its_criteria_do_not_hold(
        work in proptest::collection::vec(
            any_deal_work(&Process::default_enterprise(), vec![rep(), manager()]),
            0..80,
        )
    ) {
        let process = Process::default_enterprise();
        let first = open(OpportunityId::generate(), created(), &process, Stamp::now(rep(), t0())).unwrap();
        let mut state = first.state;
        for (i, command) in work.into_iter().flatten().enumerate() {
            let at = t0() + Duration::minutes(i as i64);
            let before = state.clone();
            let Ok(recorded) = execute(&state, command, &process, Stamp::now(manager(), at)) else {
                continue;
            };
            state = recorded.state;
            let moved_forward = recorded.events.iter().any(|e| matches!(
                &e.change,
                Change::StageChanged(m) if process.position(&m.to) > process.position(&m.from)
            ));
            let won = recorded.events.iter().any(|e| e.change.kind() == EventKind::ClosedWon);
            if moved_forward || won {
                let to = (!won).then(|| state.stage.clone());
                let required = process.forward_requirements(Some(&before.stage), to.as_ref());
                let ctx = crate::process::DealContext { deal: &state, today: at.date_naive() };
                prop_assert_eq!(process.unmet(&required, ctx), vec![]);
                let entry = &process.stage(&state.stage).unwrap().entry;
                prop_assert_eq!(process.unmet(entry, ctx), vec![]);
            }
        }
    }
}

mod reopening_and_drafts {
    use super::*;

    #[test]
    fn reopening_into_a_later_stage_needs_the_criteria_on_the_way() {
        let lost = Command::CloseLost {
            on: day("2026-02-01"),
            loss_type: LossType::NoDecision,
            reason: None,
            competitor: None,
        };
        let reopen = |stage: &str| Command::Reopen {
            stage: Some(stage.parse().unwrap()),
            close_date: day("2026-06-30"),
            reason: note("New budget"),
        };
        let error = run(vec![lost.clone(), reopen("redlining")]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("moving from `qualified` to `redlining` needs: "),
            "{error}"
        );
        // Back where it closed, or earlier, needs nothing more.
        let (state, _) = run(vec![lost, reopen("qualified")]).unwrap();
        assert_eq!(state.status, Status::Open);
    }

    #[test]
    fn evidence_in_a_draft_is_checked_like_recorded_evidence() {
        let process = Process::default_enterprise();
        let mut evidence = qualified_evidence();
        evidence.scores.set(ScoreItem::MeddiccChampion, 9);
        evidence.checklist.insert("demo_given".parse().unwrap());
        let draft = OpportunityDraft {
            name: Some("Globex data platform".into()),
            account_id: Some(AccountId::from_parts(1, [3; 10]).to_string()),
            owner_id: Some(rep().to_string()),
            close_date: Some("2026-03-31".into()),
            evidence,
            ..OpportunityDraft::default()
        };
        let errors = draft.validate(&process, Currency::USD).unwrap_err();
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field(), e.value())).collect();
        assert_eq!(
            found,
            [
                ("evidence.scores.meddicc.champion", "9"),
                ("evidence.checklist", "demo_given"),
            ]
        );
    }
}

#[test]
fn several_commands_become_one_change_or_none() {
    let process = Process::default_enterprise();
    let (deal, _) = run(vec![]).unwrap();
    let stamp = Stamp::now(manager(), t0() + Duration::days(1));
    let both = vec![
        Command::ChangeAmount(usd(60_000)),
        Command::ChangeCloseDate(day("2026-04-30")),
    ];
    let recorded = execute_all(&deal, both, &process, stamp).unwrap();
    let seqs: Vec<u32> = recorded.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(recorded.state.version, 3);
    assert_eq!(recorded.state.amount, usd(60_000));
    assert_eq!(recorded.state.close_date, day("2026-04-30"));
    // A refused command refuses the whole change, even after one that would pass.
    let refused = vec![
        Command::ChangeAmount(usd(70_000)),
        move_to("negotiating", None),
    ];
    assert!(matches!(
        execute_all(&deal, refused, &process, stamp),
        Err(CommandError::CriteriaUnmet { .. })
    ));
}

#[test]
fn an_event_stays_small_as_imports_and_loads_hold_millions() {
    // The opening change, by far the largest, is boxed so that it does not set the size of
    // every stage move and amount change.
    assert!(std::mem::size_of::<OpportunityEvent>() <= 192);
}
