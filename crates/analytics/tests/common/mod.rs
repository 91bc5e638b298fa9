//! Deals built through the domain's commands, for the analytics tests.

#![allow(dead_code)] // Each test file uses some of these.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipewise_core::ids::{AccountId, OpportunityId, UserId};
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{
    Command, Created, NextStep, OpportunityEvent, Stamp, execute, open,
};
use pipewise_core::process::Process;
use pipewise_core::testing::{any_deal_work, evidence_meeting, qualified_evidence};
use pipewise_core::text::{Name, Note};
use proptest::prelude::*;

pub fn at(s: &str) -> DateTime<Utc> {
    format!("{s}T12:00:00Z").parse().unwrap()
}

pub fn rep() -> UserId {
    UserId::from_parts(1, [1; 10])
}

pub fn created(amount: Option<Money>) -> Created {
    Created {
        name: Name::parse("Globex rollout").unwrap(),
        account_id: AccountId::from_parts(1, [2; 10]),
        owner_id: rep(),
        process: "enterprise".parse().unwrap(),
        stage: "qualified".parse().unwrap(),
        amount,
        close_date: "2026-03-31".parse().unwrap(),
        source: None,
        segment: None,
        competitor: None,
        next_step: Some(NextStep {
            text: Note::parse("Discovery").unwrap(),
            owner_id: rep(),
            due: "2026-01-20".parse().unwrap(),
        }),
        evidence: qualified_evidence(),
    }
}

/// A deal's events from opening on `day` and running `commands` a day apart.
pub fn history(
    n: u8,
    day: &str,
    amount: Option<Money>,
    commands: Vec<Command>,
) -> Vec<OpportunityEvent> {
    let process = Process::default_enterprise();
    let id = OpportunityId::from_parts(1, [n; 10]);
    let opened = open(id, created(amount), &process, Stamp::now(rep(), at(day))).unwrap();
    let mut state = opened.state;
    let mut events = opened.events;
    for (i, command) in commands.into_iter().enumerate() {
        let when = at(day) + Duration::days(i as i64 + 1);
        let recorded = execute(&state, command, &process, Stamp::now(rep(), when)).unwrap();
        state = recorded.state;
        events.extend(recorded.events);
    }
    events
}

pub fn usd(dollars: i64) -> Option<Money> {
    Some(Money::new(dollars * 100, Currency::USD))
}

/// A deal opened on `open_day` expecting to close on `close_date`, then changed by dated
/// commands (each at noon on its day).
pub fn dated_history(
    n: u8,
    open_day: &str,
    amount: Option<Money>,
    close_date: &str,
    commands: Vec<(&str, Command)>,
) -> Vec<OpportunityEvent> {
    let process = Process::default_enterprise();
    let id = OpportunityId::from_parts(1, [n; 10]);
    let mut first = created(amount);
    first.close_date = close_date.parse::<NaiveDate>().unwrap();
    let opened = open(id, first, &process, Stamp::now(rep(), at(open_day))).unwrap();
    let mut state = opened.state;
    let mut events = opened.events;
    for (day, command) in commands {
        let recorded = execute(&state, command, &process, Stamp::now(rep(), at(day)))
            .unwrap_or_else(|e| panic!("deal {n} on {day}: {e}"));
        state = recorded.state;
        events.extend(recorded.events);
    }
    events
}

pub fn eur(euros: i64) -> Option<Money> {
    Some(Money::new(euros * 100, Currency::EUR))
}

/// Evidence for every criterion from `qualified` to a win, recorded on `day`.
pub fn ready_to_win(day: &'static str) -> Vec<(&'static str, Command)> {
    let process = Process::default_enterprise();
    process
        .forward_requirements(Some(&"qualified".parse().unwrap()), None)
        .iter()
        .flat_map(|key| evidence_meeting(&process, key))
        .map(|change| (day, Command::RecordEvidence(change)))
        .collect()
}

/// Deals worked by random commands, each command an hour after the previous one.
pub fn random_histories(work: Vec<Vec<Vec<Command>>>) -> Vec<Vec<OpportunityEvent>> {
    let process = Process::default_enterprise();
    work.into_iter()
        .enumerate()
        .map(|(n, commands)| {
            let id = OpportunityId::from_parts(1, [n as u8 + 1; 10]);
            let start = at("2026-01-01") + Duration::hours(n as i64);
            let opened = open(id, created(usd(5_000)), &process, Stamp::now(rep(), start)).unwrap();
            let mut state = opened.state;
            let mut events = opened.events;
            for (i, command) in commands.into_iter().flatten().enumerate() {
                let when = start + Duration::hours(i as i64 + 1);
                if let Ok(recorded) = execute(&state, command, &process, Stamp::now(rep(), when)) {
                    state = recorded.state;
                    events.extend(recorded.events);
                }
            }
            events
        })
        .collect()
}

pub fn deal_work() -> impl Strategy<Value = Vec<Vec<Vec<Command>>>> {
    let work = any_deal_work(
        &Process::default_enterprise(),
        vec![rep(), UserId::from_parts(2, [2; 10])],
    );
    proptest::collection::vec(proptest::collection::vec(work, 0..40), 1..6)
}
