//! Stage conversion and time in stage on hand-worked funnels.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use chrono::{DateTime, Duration, Utc};
use pipewise_analytics::Projection;
use pipewise_core::calendar::DateRange;
use pipewise_core::ids::{AccountId, OpportunityId, UserId};
use pipewise_core::opportunity::{
    Command, Created, LossType, OpportunityEvent, Stamp, execute, open,
};
use pipewise_core::process::{ProcessFile, ProcessSet, ProcessVersion};
use pipewise_core::text::{Name, Note};

/// Five stages with no criteria, so deals move freely.
const FUNNEL: &str = r#"
key = "funnel"
name = "Funnel"

[[stages]]
key = "s1"
name = "One"
phase = "conversations"
sal = true
typical_days = 10

[[stages]]
key = "s2"
name = "Two"
phase = "conversations"
typical_days = 10

[[stages]]
key = "s3"
name = "Three"
phase = "funded_projects"
typical_days = 10

[[stages]]
key = "s4"
name = "Four"
phase = "voc_negotiations"
typical_days = 10

[[stages]]
key = "s5"
name = "Five"
phase = "voc_negotiations"
typical_days = 10
"#;

fn processes() -> ProcessSet {
    ProcessSet::parse(
        ProcessVersion(1),
        vec![ProcessFile {
            name: "funnel.toml".into(),
            text: FUNNEL.into(),
        }],
    )
    .unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    format!("{s}T00:00:00Z").parse().unwrap()
}

/// Deal `n` opened at `start` in `s1`, moved one stage forward per entry of `moves` (days
/// after opening), then lost on the last day given, if any.
fn deal(
    n: u32,
    start: DateTime<Utc>,
    moves: &[i64],
    lost_after: Option<i64>,
) -> Vec<OpportunityEvent> {
    let set = processes();
    let process = set.default_process();
    let rep = UserId::from_parts(1, [1; 10]);
    let mut random = [0u8; 10];
    random[..4].copy_from_slice(&n.to_be_bytes());
    let created = Created {
        name: Name::parse(&format!("Deal {n}")).unwrap(),
        account_id: AccountId::from_parts(1, [2; 10]),
        owner_id: rep,
        process: process.key.clone(),
        stage: "s1".parse().unwrap(),
        amount: None,
        close_date: "2026-12-31".parse().unwrap(),
        source: None,
        segment: None,
        competitor: None,
        next_step: None,
        evidence: Default::default(),
    };
    let opened = open(
        OpportunityId::from_parts(1, random),
        created,
        process,
        Stamp::now(rep, start),
    )
    .unwrap();
    let mut state = opened.state;
    let mut events = opened.events;
    let mut run = |command, days: i64| {
        let when = start + Duration::days(days);
        let recorded = execute(&state, command, process, Stamp::now(rep, when)).unwrap();
        state = recorded.state.clone();
        events.extend(recorded.events);
    };
    for (i, days) in moves.iter().enumerate() {
        let to = format!("s{}", i + 2).parse().unwrap();
        run(
            Command::MoveStage {
                to,
                reason: Some(Note::parse("Buyer moved").unwrap()),
                next_step: None,
            },
            *days,
        );
    }
    if let Some(days) = lost_after {
        let on = (start + Duration::days(days)).date_naive();
        run(
            Command::CloseLost {
                on,
                loss_type: LossType::NoDecision,
                reason: None,
                competitor: None,
            },
            days,
        );
    }
    events
}

fn january() -> DateRange {
    DateRange::new("2026-01-01".parse().unwrap(), "2026-02-01".parse().unwrap())
}

#[test]
fn the_seed_funnel_converts_at_18_40_62_5_and_40_percent() {
    // 1,000 deals enter s1 in January; 180 reach s2, 72 s3, 45 s4, 18 s5; the rest are lost.
    let mut log = Vec::new();
    for n in 0..1000u32 {
        let reached = match n {
            0..18 => 4,
            18..45 => 3,
            45..72 => 2,
            72..180 => 1,
            _ => 0,
        };
        let moves: Vec<i64> = (1..=reached).map(|k| 30 + k).collect();
        let lost = (reached < 4).then_some(60);
        log.extend(deal(
            n,
            at("2026-01-02") + Duration::minutes(i64::from(n)),
            &moves,
            lost,
        ));
    }
    let set = processes();
    let projection = Projection::build([&set], &log).unwrap();
    let conversions = projection.conversions(set.default_process(), january(), at("2026-12-01"));
    let documented: Vec<(String, u64, u64, Option<f64>)> = conversions
        .iter()
        .filter(|c| c.documented)
        .map(|c| {
            (
                format!("{}→{}", c.from, c.to),
                c.entered,
                c.reached,
                c.rate(),
            )
        })
        .collect();
    // Entered counts only deals that entered the earlier stage in January: all 1,000 entered
    // s1 then; the later stages were entered in February, so their own rows are empty.
    assert_eq!(documented[0], ("s1→s2".to_owned(), 1000, 180, Some(0.18)));
    assert_eq!(documented[1], ("s2→s3".to_owned(), 0, 0, None));
    let february = DateRange::new("2026-02-01".parse().unwrap(), "2026-03-01".parse().unwrap());
    let later = projection.conversions(set.default_process(), february, at("2026-12-01"));
    let rate = |from: &str, to: &str| {
        later
            .iter()
            .find(|c| c.from.as_str() == from && c.to.as_str() == to)
            .unwrap()
            .rate()
            .unwrap()
    };
    assert_eq!(
        (rate("s2", "s3"), rate("s3", "s4"), rate("s4", "s5")),
        (0.4, 0.625, 0.4)
    );
    // All transitions too: of the 1,000, 18 reached s5.
    let s1_s5 = conversions
        .iter()
        .find(|c| c.from.as_str() == "s1" && c.to.as_str() == "s5")
        .unwrap();
    assert_eq!((s1_s5.reached, s1_s5.rate()), (18, Some(0.018)));
}

#[test]
fn skipped_stages_count_as_reached_and_open_deals_are_reported_alongside() {
    let set = processes();
    let process = set.default_process();
    let start = at("2026-01-05");
    // One deal skips from s1 straight to s3; one waits in s1.
    let skipper = {
        let rep = UserId::from_parts(1, [1; 10]);
        let mut events = deal(1, start, &[], None);
        let state = pipewise_core::opportunity::replay(&events)
            .unwrap()
            .unwrap();
        let recorded = execute(
            &state,
            Command::MoveStage {
                to: "s3".parse().unwrap(),
                reason: None,
                next_step: None,
            },
            process,
            Stamp::now(rep, start + Duration::days(3)),
        )
        .unwrap();
        events.extend(recorded.events);
        events
    };
    let waiting = deal(2, start, &[], None);
    // A third is won straight from s1: it counts as reaching every later stage.
    let winner = {
        let rep = UserId::from_parts(1, [1; 10]);
        let mut events = deal(3, start, &[], None);
        let state = pipewise_core::opportunity::replay(&events)
            .unwrap()
            .unwrap();
        let on = (start + Duration::days(5)).date_naive();
        let when = start + Duration::days(5);
        let recorded = execute(
            &state,
            Command::CloseWon { on },
            process,
            Stamp::now(rep, when),
        )
        .unwrap();
        events.extend(recorded.events);
        events
    };
    let log = skipper.iter().chain(&waiting).chain(&winner);
    let projection = Projection::build([&set], log).unwrap();
    let conversions = projection.conversions(process, january(), at("2026-03-01"));
    let row = |to: &str| {
        conversions
            .iter()
            .find(|c| c.from.as_str() == "s1" && c.to == to)
            .unwrap()
    };
    assert_eq!(
        (row("s2").entered, row("s2").reached, row("s2").still_open),
        (3, 2, 1)
    );
    assert_eq!(
        (
            row("won").reached,
            row("won").still_open,
            row("won").documented
        ),
        (1, 2, false)
    );
    let last = conversions
        .iter()
        .find(|c| c.from.as_str() == "s5" && c.to == "won")
        .unwrap();
    assert!(last.documented);
}

#[test]
fn time_in_stage_has_median_p75_and_flags_aging_deals() {
    // Eight deals left s1 after 2, 4, … 16 days in January; nearest rank: median the 4th
    // (8 days), P75 the 6th (12 days). On 1 February one deal has sat in s1 for 13 days
    // (aging) and one for 5 days.
    let mut log = Vec::new();
    for i in 0..8u32 {
        log.extend(deal(i, at("2026-01-02"), &[2 * (i64::from(i) + 1)], None));
    }
    log.extend(deal(20, at("2026-01-19"), &[], None));
    log.extend(deal(21, at("2026-01-27"), &[], None));
    let set = processes();
    let projection = Projection::build([&set], &log).unwrap();
    let times = projection.time_in_stage(set.default_process(), january(), at("2026-02-01"));
    let s1 = &times[0];
    assert_eq!(
        (s1.completed, s1.median_days, s1.p75_days),
        (8, Some(8.0), Some(12.0))
    );
    assert_eq!((s1.open, s1.aging), (2, 1));
    // The eight are in s2 now, entered between 4 and 18 January: none completed, no P75.
    assert_eq!(
        (times[1].completed, times[1].open, times[1].aging),
        (0, 8, 0)
    );
}
