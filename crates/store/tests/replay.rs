//! Property: whatever sequence of commands is run against a stored opportunity, its stored
//! state is exactly what replaying its stored events produces — on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use chrono::Duration;
use common::{TestStore, at, install, org};
use futures_util::TryStreamExt;
use pipewise_core::ids::OpportunityId;
use pipewise_core::opportunity::{self, Created, NextStep, Stamp, replay};
use pipewise_core::process::Process;
use pipewise_core::testing::{any_command, any_deal_work, qualified_evidence};
use pipewise_core::text::{Name, Note};
use pipewise_store::commands::{self, CommandFailed};
use pipewise_store::{Store, integrity};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn check_replay_on(runtime: &tokio::runtime::Runtime, test: TestStore, cases: u32) {
    let shared = test.store.clone();
    let store: &dyn Store = &*shared;
    let acme = org("acme", 1);
    runtime.block_on(install(store, &acme));
    let process = Process::default_enterprise();
    let people = vec![acme.manager, acme.reps[0], acme.reps[1]];
    // Evidence and moves through the process, and any other command.
    let strategy = (
        proptest::collection::vec(any_deal_work(&process, people.clone()), 0..20),
        proptest::collection::vec(any_command(&process, people, acme.accounts.to_vec()), 0..10),
    )
        .prop_map(|(work, other)| work.into_iter().flatten().chain(other).collect::<Vec<_>>());
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    runner
        .run(&strategy, |commands| {
            runtime.block_on(async {
                let opened = opportunity::open(
                    OpportunityId::generate(),
                    Created {
                        name: Name::parse("Globex rollout").unwrap(),
                        account_id: acme.accounts[0],
                        owner_id: acme.reps[0],
                        process: process.key.clone(),
                        stage: process.sal_stage().key.clone(),
                        amount: None,
                        close_date: "2026-06-30".parse().unwrap(),
                        source: None,
                        segment: None,
                        competitor: None,
                        next_step: Some(NextStep {
                            text: Note::parse("Discovery with the COO").unwrap(),
                            owner_id: acme.reps[0],
                            due: "2026-01-09".parse().unwrap(),
                        }),
                        evidence: qualified_evidence(),
                    },
                    &process,
                    Stamp::now(acme.reps[0], at("2026-01-01T00:00:00Z")),
                )
                .unwrap();
                store.record(acme.workspace.id, &opened).await.unwrap();
                let id = opened.state.id;
                let mut last = opened.state;
                for (i, command) in commands.into_iter().enumerate() {
                    let stamp = Stamp::now(
                        acme.manager,
                        at("2026-01-02T00:00:00Z") + Duration::minutes(i as i64),
                    );
                    match commands::execute(
                        store,
                        &acme.workspace,
                        &process,
                        id,
                        None,
                        command,
                        stamp,
                    )
                    .await
                    {
                        Ok(state) => last = state,
                        Err(CommandFailed::Refused(_)) => {}
                        Err(other) => panic!("storage failed: {other}"),
                    }
                }
                let stored = store.opportunity(acme.workspace.id, id).await.unwrap();
                let events = store
                    .opportunity_events(acme.workspace.id, id)
                    .await
                    .unwrap();
                prop_assert_eq!(&stored, &last);
                prop_assert_eq!(replay(&events).unwrap(), Some(stored));
                Ok(())
            })
        })
        .unwrap();
    runtime.block_on(async {
        let report = integrity::check(store, acme.workspace.id).await.unwrap();
        assert!(report.is_consistent(), "{:?}", report.problems);
        assert_eq!(report.opportunities, u64::from(cases));
        let events: Vec<_> = store
            .event_log(acme.workspace.id)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(report.events, events.len() as u64);
        test.remove().await;
    });
}

#[test]
fn replay_reproduces_stored_state_on_sqlite() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let test = runtime.block_on(TestStore::sqlite());
    check_replay_on(&runtime, test, 64);
}

#[test]
fn replay_reproduces_stored_state_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(test) = runtime.block_on(TestStore::postgres()) else {
        return;
    };
    check_replay_on(&runtime, test, 64);
}
