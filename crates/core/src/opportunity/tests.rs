use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;

use crate::testing::any_command;

use super::*;
use crate::ids::{AccountId, OpportunityId, UserId};
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
        next_step: None,
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
    let (state, events) = run(vec![
        move_to("business_case", Some("Impact quantified at $1.2M a year")),
        // Skipping evaluating and shortlisted.
        move_to("negotiating", None),
    ])
    .unwrap();
    assert_eq!(state.stage, stage("negotiating"));
    assert_eq!(state.version, 3);
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
    let refused = run(vec![
        move_to("evaluating", Some("Funded")),
        move_to("qualified", None),
    ]);
    assert_eq!(
        refused.unwrap_err(),
        CommandError::BackwardWithoutReason {
            from: stage("evaluating"),
            to: stage("qualified")
        }
    );
    let (state, _) = run(vec![
        move_to("evaluating", Some("Funded")),
        move_to("qualified", Some("Budget frozen until Q3")),
    ])
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
    assert_eq!(
        run(vec![won.clone(), Command::ChangeAmount(usd(1))]).unwrap_err(),
        CommandError::NotOpen(Status::Won)
    );
    assert_eq!(
        run(vec![won.clone(), won.clone()]).unwrap_err(),
        CommandError::NotOpen(Status::Won)
    );
    let reopen = Command::Reopen {
        stage: None,
        close_date: day("2026-06-30"),
        reason: note("Signature was on the wrong entity"),
    };
    let (state, events) = run(vec![move_to("redlining", None), won, reopen.clone()]).unwrap();
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
    let (state, _) = run(vec![
        set(
            ForecastCategory::Omitted,
            Some("Duplicate of a partner deal"),
        ),
        Command::CloseWon {
            on: day("2026-03-01"),
        },
    ])
    .unwrap();
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
        move_to("evaluating", None),
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
