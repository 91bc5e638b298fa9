//! Every rule, the scores and the roll-ups on a small workspace whose numbers are worked out
//! by hand. The as-of day is 2026-03-10, in fiscal Q1 (February to April) of a year starting
//! in February.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::calendar::FiscalCalendar;
use crate::crm::{Account, LastActivity};
use crate::evidence::{EvidenceChange, Gate, GateDecision, ScoreItem, SuccessCriterionDraft};
use crate::ids::{AccountId, ContactId, OpportunityId, TeamId, UserId};
use crate::money::{Currency, Money};
use crate::opportunity::{
    Command, Created, FieldChange, NextStep, OpportunityEvent, Stamp, execute, open,
};
use crate::org::Role;
use crate::testing::qualified_evidence;
use crate::text::{Email, Label, Name, Note, WebDomain};

fn at(s: &str) -> DateTime<Utc> {
    format!("{s}T10:00:00Z").parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn note(s: &str) -> Note {
    Note::parse(s).unwrap()
}

fn rep_a() -> UserId {
    UserId::from_parts(1, [1; 10])
}

fn rep_b() -> UserId {
    UserId::from_parts(1, [2; 10])
}

fn team() -> TeamId {
    TeamId::from_parts(1, [7; 10])
}

fn next_step(due: &str) -> NextStep {
    NextStep {
        text: note("Workshop with the CFO"),
        owner_id: rep_a(),
        due: day(due),
    }
}

/// A deal built through the commands, so its history is what the rules read.
struct Deal {
    state: Opportunity,
    events: Vec<OpportunityEvent>,
}

impl Deal {
    fn open(n: u8, owner: UserId, on: &str, amount: Option<i64>, close: &str) -> Self {
        let process = Process::default_enterprise();
        let created = Created {
            name: Name::parse(&format!("Deal {n}")).unwrap(),
            account_id: AccountId::from_parts(1, [n; 10]),
            owner_id: owner,
            process: process.key.clone(),
            stage: "qualified".parse().unwrap(),
            amount: amount.map(|d| Money::new(d * 100, Currency::USD)),
            close_date: day(close),
            source: Some(Label::parse("inbound").unwrap()),
            segment: Some(Label::parse("Mid-Market").unwrap()),
            competitor: None,
            next_step: Some(next_step("2026-03-20")),
            evidence: qualified_evidence(),
        };
        let id = OpportunityId::from_parts(1, [n; 10]);
        let opened = open(id, created, &process, Stamp::now(owner, at(on))).unwrap();
        Self {
            state: opened.state,
            events: opened.events,
        }
    }

    fn then(mut self, on: &str, command: Command) -> Self {
        let process = Process::default_enterprise();
        let recorded = execute(
            &self.state,
            command,
            &process,
            Stamp::now(self.state.owner_id, at(on)),
        )
        .unwrap();
        self.state = recorded.state;
        self.events.extend(recorded.events);
        self
    }

    fn evidence(self, on: &str, change: EvidenceChange) -> Self {
        self.then(on, Command::RecordEvidence(change))
    }
}

/// Deal 1, rep A: clean. Opened 1 March, next step 20 March, closes 30 April, called 8 March.
fn clean() -> Deal {
    Deal::open(1, rep_a(), "2026-03-01", Some(48_000), "2026-04-30")
}

/// Deal 2, rep A: everything wrong. Opened 5 January in `qualified` without amount; close
/// date pushed twice in Q1 (to 20 February, then to 1 March); next step removed; set to
/// Commit by hand on 20 February. No calls, e-mails or meetings.
fn messy() -> Deal {
    Deal::open(2, rep_a(), "2026-01-05", None, "2026-02-15")
        .then("2026-02-10", Command::ChangeCloseDate(day("2026-02-20")))
        .then("2026-02-18", Command::ChangeCloseDate(day("2026-03-01")))
        .then(
            "2026-02-19",
            Command::ChangeField(FieldChange::NextStep(None)),
        )
        .then(
            "2026-02-20",
            Command::OverrideCategory {
                to: Some(ForecastCategory::Commit),
                reason: Some(note("CFO said yes on the phone")),
            },
        )
}

/// Deal 3, rep B: in `evaluating` since 5 March with nobody on the stakeholder map and no
/// competitor named.
fn single_threaded() -> Deal {
    let pass = |gate| EvidenceChange::GateDecided {
        gate,
        decision: GateDecision::Pass {
            next_step: note("Proposal planning"),
        },
    };
    let criterion = SuccessCriterionDraft {
        key: Some("close_hours".into()),
        metric: Some("hours to close the books".into()),
        baseline: Some("60 hours".into()),
        target: Some("20 hours".into()),
        by: Some("2026-12-31".into()),
        measurement: Some("Close checklist".into()),
    }
    .validate()
    .unwrap();
    let to = |stage: &str| Command::MoveStage {
        to: stage.parse().unwrap(),
        reason: Some(note("Buyer confirmed")),
        next_step: Some(next_step("2026-03-25")),
    };
    Deal::open(3, rep_b(), "2026-02-02", Some(90_000), "2026-06-30")
        .evidence(
            "2026-02-09",
            EvidenceChange::Scored {
                item: ScoreItem::MeddiccIdentifyPain,
                value: 2,
            },
        )
        .evidence(
            "2026-02-09",
            EvidenceChange::Scored {
                item: ScoreItem::BantTiming,
                value: 1,
            },
        )
        .then("2026-02-10", to("business_case"))
        .evidence("2026-03-04", pass(Gate::ProblemImpact))
        .evidence("2026-03-04", EvidenceChange::SuccessCriterionSet(criterion))
        .then("2026-03-05", to("evaluating"))
}

fn users() -> Vec<User> {
    let user = |id, name: &str| User {
        id,
        name: Name::parse(name).unwrap(),
        email: Email::parse(&format!(
            "{}@acme.example",
            name.to_lowercase().replace(' ', ".")
        ))
        .unwrap(),
        role: Role::Rep,
        manager_id: None,
        team_id: Some(team()),
        created_at: at("2025-01-01"),
    };
    vec![user(rep_a(), "Ana Silva"), user(rep_b(), "Ben Okafor")]
}

fn account(n: u8, name: &str, domain: &str) -> Account {
    Account {
        id: AccountId::from_parts(2, [n; 10]),
        version: 1,
        name: Name::parse(name).unwrap(),
        domain: Some(WebDomain::parse(domain).unwrap()),
        industry: None,
        employee_band: None,
        region: None,
        segment: None,
        tier: None,
        owner_id: None,
        created_at: at("2025-01-01"),
    }
}

fn contact(n: u8, email: &str) -> Contact {
    Contact {
        id: ContactId::from_parts(2, [n; 10]),
        version: 1,
        account_id: AccountId::from_parts(2, [1; 10]),
        name: Name::parse(&format!("Contact {n}")).unwrap(),
        email: Some(Email::parse(email).unwrap()),
        title: None,
        buying_role: None,
        created_at: at("2025-01-01"),
    }
}

fn report_for(deals: &[Deal], rules: &HygieneRules) -> Report {
    let as_of = day("2026-03-10");
    let mut history = StageHistory::new(as_of, &FiscalCalendar::starting_in(2).unwrap());
    for deal in deals {
        for event in &deal.events {
            history.observe(event);
        }
    }
    let history = history.finish();
    let opportunities: Vec<Opportunity> = deals.iter().map(|d| d.state.clone()).collect();
    let last_activity = LastActivity {
        opportunities: [
            (OpportunityId::from_parts(1, [1; 10]), at("2026-03-08")),
            (OpportunityId::from_parts(1, [3; 10]), at("2026-03-09")),
        ]
        .into(),
        accounts: [(AccountId::from_parts(2, [3; 10]), at("2026-03-01"))].into(),
        contacts: [(ContactId::from_parts(2, [3; 10]), at("2026-03-02"))].into(),
    };
    let accounts = vec![
        account(1, "Globex", "globex.com"),
        account(2, "Globex Corp", "https://www.Globex.com/"),
        account(3, "Initech", "initech.com"),
    ];
    let contacts = vec![
        contact(1, "dana@globex.com"),
        contact(2, "Dana@Globex.com"),
        contact(3, "li@globex.com"),
    ];
    let teams = vec![Team {
        id: team(),
        name: Name::parse("Mid-Market East").unwrap(),
        created_at: at("2025-01-01"),
    }];
    inspect(&Inspection {
        as_of,
        processes: &ProcessSet::shipped(),
        rules,
        history: &history,
        opportunities: &opportunities,
        last_activity: &last_activity,
        accounts: &accounts,
        contacts: &contacts,
        users: &users(),
        teams: &teams,
    })
}

fn rules_found(report: &Report, record: &str) -> Vec<RuleId> {
    report
        .findings
        .iter()
        .filter(|f| f.record_name == record)
        .map(|f| f.rule)
        .collect()
}

#[test]
fn a_clean_deal_has_no_findings_and_full_scores() {
    let report = report_for(&[clean()], &HygieneRules::shipped());
    assert_eq!(rules_found(&report, "Deal 1"), []);
    let score = &report.deals[0];
    assert_eq!((score.completeness, score.consistency), (100.0, 100.0));
    // Last touched by the call on 8 March.
    assert_eq!(score.recency_days, 2);
}

#[test]
fn every_deal_rule_fires_on_the_deal_that_breaks_it() {
    let report = report_for(
        &[clean(), messy(), single_threaded()],
        &HygieneRules::shipped(),
    );
    use RuleId::*;
    assert_eq!(
        rules_found(&report, "Deal 2"),
        [
            MissingNextStep,
            PastCloseDate,
            // Opened 5 January, never called: 64 days.
            NoRecentActivity,
            // 64 days in `qualified`, typical 14 (no completed visits to take a P75 from).
            StalledInStage,
            // Commit by override, no redlines or signature date.
            CommitWithoutRedlines,
            RepeatedPushes,
            OverrideInconsistent,
        ]
    );
    assert_eq!(
        rules_found(&report, "Deal 3"),
        [SingleThreaded, NoEconomicBuyer, RequiredFieldsMissing]
    );
    let detail = |rule| {
        report
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .map(|f| f.detail.clone())
            .unwrap()
    };
    assert_eq!(
        detail(PastCloseDate),
        "expected to close 2026-03-01, still open"
    );
    assert_eq!(
        detail(NoRecentActivity),
        "no call, e-mail or meeting in the 64 days since it was opened"
    );
    assert_eq!(
        detail(StalledInStage),
        "64 days in Qualified; typical duration is 14 days"
    );
    assert_eq!(
        detail(RepeatedPushes),
        "close date pushed 2 times this quarter"
    );
    assert_eq!(
        detail(OverrideInconsistent),
        "set to commit while stage `qualified` is pipeline: \"CFO said yes on the phone\""
    );
    assert_eq!(
        detail(RequiredFieldsMissing),
        "stage `evaluating` requires: competitor"
    );
}

#[test]
fn duplicates_are_found_by_normalised_domain_and_email() {
    let report = report_for(&[], &HygieneRules::shipped());
    let accounts: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::DuplicateAccount)
        .map(|f| f.record_name.as_str())
        .collect();
    assert_eq!(accounts, ["Globex", "Globex Corp"]);
    let contacts = report
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::DuplicateContact)
        .count();
    assert_eq!(contacts, 2);
    assert!(report.findings.iter().all(|f| f.record_name != "Initech"));
}

#[test]
fn scores_are_rolled_up_per_owner_and_team() {
    let report = report_for(
        &[clean(), messy(), single_threaded()],
        &HygieneRules::shipped(),
    );
    let messy = report.deals.iter().find(|r| r.name == "Deal 2").unwrap();
    // Amount and next step missing of amount, next step, source, segment.
    assert_eq!(messy.completeness, 50.0);
    // Close date past, override above the stage, and `qualified`'s entry criterion of a
    // dated next step no longer holds: 0 of 3 applicable checks.
    assert_eq!(messy.consistency, 0.0);
    // Last change: the override on 20 February.
    assert_eq!(messy.recency_days, 18);
    let single = report.deals.iter().find(|r| r.name == "Deal 3").unwrap();
    // Competitor missing of amount, next step, source, segment, competitor.
    assert_eq!((single.completeness, single.consistency), (80.0, 100.0));
    assert_eq!(single.recency_days, 1);

    let ana = report
        .owners
        .iter()
        .find(|o| o.name == "Ana Silva")
        .unwrap();
    assert_eq!(ana.open_deals, 2);
    assert_eq!((ana.completeness, ana.consistency), (75.0, 50.0));
    // Median of 2 and 18 days, taking the lower middle.
    assert_eq!(ana.recency_days, 2);
    assert_eq!((ana.errors, ana.warnings, ana.infos), (3, 4, 0));
    let team = &report.teams[0];
    assert_eq!(team.name, "Mid-Market East");
    assert_eq!(team.open_deals, 3);
    // (100 + 50 + 80) / 3 and (100 + 0 + 100) / 3.
    assert_eq!((team.completeness, team.consistency), (76.7, 66.7));
    assert_eq!(team.recency_days, 2);
    // Deal 3's missing required field (an error) and its two warnings join Ana's.
    assert_eq!((team.errors, team.warnings), (4, 6));
}

#[test]
fn rules_can_be_switched_off_and_retuned() {
    let rules = HygieneRules::parse(
        "hygiene.toml",
        "[rules.no_recent_activity]\ndays = 90\n\n[rules.repeated_pushes]\nenabled = false\n\n\
         [rules.single_threaded]\nseverity = \"error\"\nfix = \"Meet the CFO.\"\n",
    )
    .unwrap();
    let report = report_for(&[messy(), single_threaded()], &rules);
    let messy_rules = rules_found(&report, "Deal 2");
    assert!(
        !messy_rules.contains(&RuleId::NoRecentActivity),
        "64 days is under 90"
    );
    assert!(!messy_rules.contains(&RuleId::RepeatedPushes));
    let single = report
        .findings
        .iter()
        .find(|f| f.rule == RuleId::SingleThreaded)
        .unwrap();
    assert_eq!(
        (single.severity, single.fix.as_str()),
        (Severity::Error, "Meet the CFO.")
    );
}

#[test]
fn bad_rule_settings_are_located() {
    let errors = HygieneRules::parse(
        "rules.toml",
        "[rules.no_recent_activity]\ndays = 0\n\n[rules.stale_deals]\nseverity = \"high\"\n",
    )
    .unwrap_err();
    let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "rules.toml:2:8: rules.no_recent_activity.days: `0` is not accepted: a whole number from 1 to 3650",
            "rules.toml:4:8: rules.stale_deals: `stale_deals` is not accepted: one of missing_next_step, \
             next_step_overdue, past_close_date, no_recent_activity, stalled_in_stage, amount_missing, \
             commit_without_redlines, single_threaded, no_economic_buyer, repeated_pushes, \
             override_inconsistent, duplicate_account, duplicate_contact, required_fields_missing",
        ]
    );
}

#[test]
fn stalled_uses_the_p75_of_completed_visits_once_there_are_enough() {
    // Eight deals left `qualified` after 2, 4, … 16 days; the nearest-rank P75 of eight is
    // the 6th: 12 days. A ninth deal has been in `qualified` for 13 days.
    let mut deals: Vec<Deal> = (0..8u8)
        .map(|i| {
            let opened = chrono::Duration::days(2 * (i64::from(i) + 1));
            let left = (at("2026-01-10") + opened).date_naive().to_string();
            Deal::open(10 + i, rep_a(), "2026-01-10", Some(10_000), "2026-06-30").then(
                &left,
                Command::CloseLost {
                    on: day(&left),
                    loss_type: crate::opportunity::LossType::NoDecision,
                    reason: None,
                    competitor: None,
                },
            )
        })
        .collect();
    deals.push(Deal::open(
        30,
        rep_a(),
        "2026-02-25",
        Some(10_000),
        "2026-06-30",
    ));
    let report = report_for(&deals, &HygieneRules::shipped());
    let stalled: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::StalledInStage)
        .collect();
    assert_eq!(stalled.len(), 1);
    assert_eq!(
        stalled[0].detail,
        "13 days in Qualified; P75 of 8 completed visits is 12 days"
    );
}

#[test]
fn overdue_next_steps_and_missing_amounts_are_found() {
    // Deal 4: next step was due 5 March. Deal 5: in `business_case` with no amount.
    let overdue = Deal::open(4, rep_a(), "2026-03-01", Some(20_000), "2026-05-31").then(
        "2026-03-02",
        Command::ChangeField(FieldChange::NextStep(Some(next_step("2026-03-05")))),
    );
    let no_amount = Deal::open(5, rep_b(), "2026-03-01", None, "2026-05-31")
        .evidence(
            "2026-03-02",
            EvidenceChange::Scored {
                item: ScoreItem::MeddiccIdentifyPain,
                value: 2,
            },
        )
        .evidence(
            "2026-03-02",
            EvidenceChange::Scored {
                item: ScoreItem::BantTiming,
                value: 1,
            },
        )
        .then(
            "2026-03-03",
            Command::MoveStage {
                to: "business_case".parse().unwrap(),
                reason: None,
                next_step: Some(next_step("2026-03-31")),
            },
        );
    let report = report_for(&[overdue, no_amount], &HygieneRules::shipped());
    use RuleId::*;
    // Both opened 9 days ago: too recent for the 14-day activity rule.
    assert_eq!(rules_found(&report, "Deal 4"), [NextStepOverdue]);
    assert_eq!(
        report.findings[0].detail,
        "\"Workshop with the CFO\" was due 2026-03-05"
    );
    assert_eq!(
        rules_found(&report, "Deal 5"),
        // `business_case` requires the amount too; it is reported once, by its own rule.
        [AmountMissing]
    );
}

#[test]
fn the_documented_hygiene_settings_are_valid() {
    let page = include_str!("../../../../docs/hygiene.md");
    let rules = HygieneRules::parse("hygiene.toml", crate::testing::toml_example(page)).unwrap();
    assert_eq!(rules.get(RuleId::NoRecentActivity).days, Some(21));
    assert!(!rules.get(RuleId::RepeatedPushes).enabled);
    assert_eq!(rules.get(RuleId::SingleThreaded).severity, Severity::Error);
}

#[test]
fn accounts_and_contacts_are_scored_too() {
    let report = report_for(&[], &HygieneRules::shipped());
    let account = |name: &str| report.accounts.iter().find(|a| a.name == name).unwrap();
    // Domain only of domain, industry, employee band, region, segment, tier, owner: 1 of 7.
    // Globex shares its domain with Globex Corp; Initech does not. Initech had a meeting on
    // 1 March; Globex was never contacted and was created on 1 January 2025.
    let globex = account("Globex");
    assert_eq!((globex.completeness, globex.consistency), (14.3, 0.0));
    assert_eq!((globex.recency_days, globex.findings), (433, 1));
    let initech = account("Initech");
    assert_eq!((initech.consistency, initech.recency_days), (100.0, 9));
    let contact = |name: &str| report.contacts.iter().find(|c| c.name == name).unwrap();
    // E-mail only of e-mail, title, buying role.
    assert_eq!(contact("Contact 1").completeness, 33.3);
    assert_eq!(contact("Contact 1").consistency, 0.0);
    assert_eq!(
        (
            contact("Contact 3").consistency,
            contact("Contact 3").recency_days
        ),
        (100.0, 8)
    );
}

#[test]
fn from_stage_must_name_a_process_and_stage_that_exist() {
    assert!(
        HygieneRules::shipped()
            .unknown_stages(&ProcessSet::shipped())
            .is_empty()
    );
    let rules = HygieneRules::parse(
        "hygiene.toml",
        "[rules.single_threaded]\nfrom_stage = { enterprise = \"evaluatng\", field = \"qualified\" }\n",
    )
    .unwrap();
    assert_eq!(
        rules.unknown_stages(&ProcessSet::shipped()),
        [
            "rules.single_threaded.from_stage.enterprise: `evaluatng` is not a stage of it",
            "rules.single_threaded.from_stage: there is no process `field`",
        ]
    );
    // The report carries them, so whoever shows it can say so.
    assert_eq!(report_for(&[], &rules).warnings.len(), 2);
    assert!(
        report_for(&[], &HygieneRules::shipped())
            .warnings
            .is_empty()
    );
}
