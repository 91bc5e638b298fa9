//! The demo generator: deterministic, consistent with the process, realistic, and faithful to
//! its documented outcome model.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use pipewise_core::opportunity::{Change, EventKind, LossType, Recorded, Status, replay};
use pipewise_core::org::{Hierarchy, Role};
use pipewise_core::process::Process;
use pipewise_demo::{Chunk, DemoConfig, Generator, Truth};

fn as_of() -> NaiveDate {
    "2026-11-23".parse().unwrap()
}

fn config(seed: u64, opportunities: usize) -> DemoConfig {
    DemoConfig {
        seed,
        opportunities,
        as_of: as_of(),
        slug: "demo".parse().unwrap(),
    }
}

fn generate(seed: u64, opportunities: usize) -> (Generator, Vec<Chunk>) {
    let mut generator = Generator::new(config(seed, opportunities)).unwrap();
    let chunks: Vec<Chunk> = generator.by_ref().collect::<Result<_, _>>().unwrap();
    (generator, chunks)
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let (_, first) = generate(7, 400);
    let (_, again) = generate(7, 400);
    let (_, other) = generate(8, 400);
    let deals = |chunks: &[Chunk]| -> Vec<_> {
        chunks
            .iter()
            .flat_map(|c| c.batch.opportunities.clone())
            .collect()
    };
    assert_eq!(deals(&first), deals(&again));
    assert_ne!(deals(&first), deals(&other));
    let users = |chunks: &[Chunk]| -> Vec<_> {
        chunks.iter().flat_map(|c| c.batch.users.clone()).collect()
    };
    assert_eq!(users(&first), users(&again));
}

#[test]
fn the_default_organisation_is_a_vp_two_managers_and_25_reps_in_four_teams() {
    let (generator, chunks) = generate(7, 6_000);
    let users: Vec<_> = chunks.iter().flat_map(|c| c.batch.users.clone()).collect();
    let teams: usize = chunks.iter().map(|c| c.batch.teams.len()).sum();
    let reps: Vec<_> = users.iter().filter(|u| u.role == Role::Rep).collect();
    assert_eq!((reps.len(), teams), (25, 4));
    let vp = users
        .iter()
        .find(|u| u.role == Role::Manager && u.manager_id.is_none())
        .unwrap();
    let managers: Vec<_> = users
        .iter()
        .filter(|u| u.role == Role::Manager && u.manager_id == Some(vp.id))
        .collect();
    assert_eq!(managers.len(), 2);
    let hierarchy = Hierarchy::new(&users).unwrap();
    let under_vp: HashSet<_> = hierarchy.subtree(vp.id).into_iter().collect();
    assert!(
        reps.iter().all(|r| under_vp.contains(&r.id)),
        "every rep rolls up to the VP"
    );
    for manager in managers {
        let below = hierarchy.subtree(manager.id).len() - 1;
        assert!(
            (12..=13).contains(&below),
            "{below} reps under {}",
            manager.name
        );
    }
    let accounts: usize = chunks.iter().map(|c| c.batch.accounts.len()).sum();
    let opportunities: usize = chunks.iter().map(|c| c.batch.opportunities.len()).sum();
    assert_eq!((accounts, opportunities), (3_000, 6_000));
    assert_eq!(generator.workspace().fiscal_calendar.start_month(), 2);
}

#[test]
fn histories_obey_the_process_and_replay_to_their_state() {
    let (_, chunks) = generate(11, 3_000);
    let process = Process::default_enterprise();
    let end_of_history = as_of().and_hms_opt(23, 59, 59).unwrap().and_utc();
    for recorded in chunks.iter().flat_map(|c| &c.batch.opportunities) {
        let state = &recorded.state;
        assert_eq!(replay(&recorded.events).unwrap().as_ref(), Some(state));
        let Change::Created(created) = &recorded.events[0].change else {
            panic!("first event is not created")
        };
        assert_eq!(
            created.stage,
            process.stages()[0].key,
            "deals open at the SAL stage"
        );
        let mut previous = recorded.events[0].effective_at;
        for event in &recorded.events {
            assert!(event.effective_at >= previous && event.effective_at <= end_of_history);
            previous = event.effective_at;
            if let Change::StageChanged(change) = &event.change {
                assert!(
                    process.stage(&change.from).is_some() && process.stage(&change.to).is_some()
                );
                let backward = process.position(&change.to) < process.position(&change.from);
                assert!(
                    !backward || change.reason.is_some(),
                    "backward moves carry a reason"
                );
            }
        }
        let last_close = recorded.events.iter().rev().find(|e| {
            matches!(
                e.change.kind(),
                EventKind::ClosedWon | EventKind::ClosedLost | EventKind::Reopened
            )
        });
        match state.status {
            Status::Won => assert_eq!(last_close.unwrap().change.kind(), EventKind::ClosedWon),
            Status::Lost => assert_eq!(last_close.unwrap().change.kind(), EventKind::ClosedLost),
            Status::Open => {
                assert!(last_close.is_none_or(|e| e.change.kind() == EventKind::Reopened))
            }
        }
    }
}

/// Counts over all generated deals.
#[derive(Default)]
struct Tally {
    won: usize,
    lost: HashMap<LossType, usize>,
    open: usize,
    reopened: usize,
    backward: usize,
    moves: usize,
    incomplete_moves: usize,
    amount_changes: usize,
    events: usize,
    evidence_events: usize,
    open_with_past_close_date: usize,
}

fn tally(chunks: &[Chunk]) -> Tally {
    let mut tally = Tally::default();
    let process = Process::default_enterprise();
    for recorded in chunks.iter().flat_map(|c| &c.batch.opportunities) {
        tally.events += recorded.events.len();
        tally.evidence_events += recorded
            .events
            .iter()
            .filter(|e| e.change.kind() == EventKind::EvidenceRecorded)
            .count();
        match (&recorded.state.status, &recorded.state.loss) {
            (Status::Won, _) => tally.won += 1,
            (Status::Lost, Some(loss)) => *tally.lost.entry(loss.loss_type).or_default() += 1,
            _ => {
                tally.open += 1;
                if recorded.state.close_date < as_of() {
                    tally.open_with_past_close_date += 1;
                }
            }
        }
        for event in &recorded.events {
            match &event.change {
                Change::Reopened(_) => tally.reopened += 1,
                Change::AmountChanged(_) => tally.amount_changes += 1,
                Change::StageChanged(change) => {
                    tally.moves += 1;
                    if change.is_incomplete() {
                        tally.incomplete_moves += 1;
                    }
                    if process.position(&change.to) < process.position(&change.from) {
                        tally.backward += 1;
                    }
                }
                _ => {}
            }
        }
    }
    tally
}

#[test]
fn the_default_history_looks_like_a_real_pipeline() {
    let (_, chunks) = generate(7, 6_000);
    let t = tally(&chunks);
    let n = 6_000.0;
    let share = |count: usize| count as f64 / n;
    // Most of two years' deals are closed; a current pipeline remains open.
    assert!(
        (0.08..0.30).contains(&share(t.open)),
        "open share {}",
        share(t.open)
    );
    assert!(
        (0.15..0.40).contains(&share(t.won)),
        "won share {}",
        share(t.won)
    );
    for loss in [
        LossType::Competition,
        LossType::NoDecision,
        LossType::Disqualified,
        LossType::Duplicate,
    ] {
        assert!(
            t.lost.get(&loss).copied().unwrap_or(0) > 20,
            "{loss} losses: {:?}",
            t.lost
        );
    }
    assert!(t.reopened > 30, "reopened deals: {}", t.reopened);
    assert!(t.backward > 30, "backward moves: {}", t.backward);
    assert!(
        t.amount_changes > 1_000,
        "amount changes: {}",
        t.amount_changes
    );
    let incomplete = t.incomplete_moves as f64 / t.moves as f64;
    assert!(
        (0.15..0.50).contains(&incomplete),
        "incomplete moves {incomplete}"
    );
    // About eight changes to the deal itself, and the evidence recorded before moves: the
    // enterprise process asks for 22 criteria from qualification to signature, and most
    // deals are lost on the way.
    let per_deal = (t.events - t.evidence_events) as f64 / n;
    assert!(
        (5.0..12.0).contains(&per_deal),
        "events per deal {per_deal}"
    );
    let evidence_per_deal = t.evidence_events as f64 / n;
    assert!(
        (3.0..22.0).contains(&evidence_per_deal),
        "evidence events per deal {evidence_per_deal}"
    );
    // Stale close dates exist but are the exception among open deals.
    assert!(t.open_with_past_close_date > 0);
    assert!(
        t.open_with_past_close_date * 4 < t.open,
        "{} of {}",
        t.open_with_past_close_date,
        t.open
    );
    let leads: usize = chunks.iter().map(|c| c.batch.leads.len()).sum();
    let activities: usize = chunks.iter().map(|c| c.batch.activities.len()).sum();
    let targets: usize = chunks.iter().map(|c| c.batch.targets.len()).sum();
    assert!(
        leads > 6_000 && activities > 20_000,
        "{leads} leads, {activities} activities"
    );
    // Nine quarters × (25 reps + 4 teams + the company).
    assert_eq!(targets, 9 * 30);
}

#[test]
fn outcomes_follow_the_documented_model() {
    let (_, chunks) = generate(7, 6_000);
    let truths: HashMap<_, Truth> = chunks
        .iter()
        .flat_map(|c| c.truths.iter().copied())
        .collect();
    let deals: Vec<_> = chunks.iter().flat_map(|c| &c.batch.opportunities).collect();
    // Closed deals end as the model decided; a deal lost to no decision may yet be reopened
    // and won after the end of the history.
    for deal in &deals {
        let truth = truths[&deal.state.id];
        match deal.state.status {
            Status::Won => assert!(truth.won),
            Status::Lost if truth.won => {
                assert_eq!(
                    deal.state.loss.as_ref().unwrap().loss_type,
                    LossType::NoDecision
                );
            }
            Status::Lost | Status::Open => {}
        }
    }
    // The model's probabilities are calibrated: expected wins match drawn wins (within 4σ).
    let expected: f64 = truths.values().map(|t| t.win_probability).sum();
    let variance: f64 = truths
        .values()
        .map(|t| t.win_probability * (1.0 - t.win_probability))
        .sum();
    let drawn = truths.values().filter(|t| t.won).count() as f64;
    assert!(
        (drawn - expected).abs() < 4.0 * variance.sqrt(),
        "{drawn} vs {expected}"
    );
    // Slipping deals win less: closed deals pushed twice or more vs never pushed.
    let pushes = |deal: &Recorded| {
        deal.events
            .iter()
            .filter(|e| e.change.kind() == EventKind::CloseDateChanged)
            .count()
    };
    let never = won_share(&deals, |d| pushes(d) == 0);
    let often = won_share(&deals, |d| pushes(d) >= 2);
    assert!(
        never > often + 0.05,
        "win rate never pushed {never}, pushed twice {often}"
    );
    // Segments differ in the documented order: SMB wins most often, Enterprise least.
    let by_segment = |segment: &str| {
        won_share(&deals, |d| {
            d.state
                .segment
                .as_ref()
                .is_some_and(|s| s.as_str() == segment)
        })
    };
    assert!(by_segment("SMB") > by_segment("Mid-Market"));
    assert!(by_segment("Mid-Market") > by_segment("Enterprise"));
}

/// Share of the closed deals `keep` selects that were won.
fn won_share(deals: &[&Recorded], keep: impl Fn(&Recorded) -> bool) -> f64 {
    let closed: Vec<_> = deals
        .iter()
        .filter(|d| d.state.status != Status::Open && keep(d))
        .collect();
    closed
        .iter()
        .filter(|d| d.state.status == Status::Won)
        .count() as f64
        / closed.len() as f64
}

#[test]
fn any_size_works() {
    for opportunities in [1, 37, 5_001] {
        let (_, chunks) = generate(3, opportunities);
        let generated: usize = chunks.iter().map(|c| c.batch.opportunities.len()).sum();
        assert_eq!(generated, opportunities);
        let truths: usize = chunks.iter().map(|c| c.truths.len()).sum();
        assert_eq!(truths, opportunities);
    }
}
