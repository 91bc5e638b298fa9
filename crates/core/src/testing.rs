//! Proptest strategies for tests in this and other crates (feature `testing`).

// Test support only: the literal values parsed here are valid.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use crate::ids::{AccountId, UserId};
use crate::money::{Currency, Money};
use crate::opportunity::{Command, FieldChange, LossType, NextStep};
use crate::process::{ForecastCategory, Process, StageKey};
use crate::text::{Label, Note};

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
    prop_oneof![
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
