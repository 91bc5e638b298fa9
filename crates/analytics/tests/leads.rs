//! The lead funnel against hand-counted cohorts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipewise_analytics::leads::{CountRate, LeadFacts, funnel};
use pipewise_core::calendar::DateRange;
use pipewise_core::calendar::business::BusinessCalendar;
use pipewise_core::crm::LeadStatus;
use pipewise_core::crm::edits::LeadFields;
use pipewise_core::ids::LeadId;
use pipewise_core::leads::scoring::Band;
use pipewise_core::leads::settings::LeadSettings;
use pipewise_core::leads::speed::{Attempt, SpeedToLead};
use proptest::prelude::*;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn q4() -> DateRange {
    DateRange::new(
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
    )
}

fn facts(reached: u8, source: &str) -> LeadFacts {
    LeadFacts {
        created_at: at("2026-11-02T10:00:00Z"),
        source: Some(source.to_owned()),
        reached,
        fit: None,
        intent: Band::Low,
        response: None,
        origin: None,
        influence: Vec::new(),
    }
}

#[test]
fn the_playbook_funnel_converts_18_then_40_then_62_5_percent() {
    // 1,000 leads → 180 MQL → 72 SQL → 45 SAL.
    let mut leads = Vec::new();
    for (reached, count) in [(0, 820), (1, 108), (2, 27), (3, 45)] {
        leads.extend(std::iter::repeat_n(facts(reached, "webinar"), count));
    }
    // Created before the period: not in its cohort.
    leads.push(LeadFacts {
        created_at: at("2026-09-30T23:00:00Z"),
        ..facts(3, "webinar")
    });
    let whole = funnel(&leads, q4()).whole;
    assert_eq!(
        (whole.leads, whole.mql, whole.sql, whole.sal),
        (1000, 180, 72, 45)
    );
    assert_eq!(
        whole.lead_to_mql,
        CountRate {
            numerator: 180,
            denominator: 1000,
            rate: Some(0.18)
        }
    );
    assert_eq!(whole.mql_to_sql.rate, Some(0.4));
    assert_eq!(whole.sql_to_sal.rate, Some(0.625));
    assert_eq!(whole.lead_to_sal.rate, Some(0.045));
}

#[test]
fn speed_to_lead_counts_decided_deadlines_and_the_median_first_response() {
    // Monday to Friday 09:00–17:00 UTC; queued Monday 7 December at 09:00.
    let calendar = BusinessCalendar::default();
    let queued = at("2026-12-07T09:00:00Z");
    let now = at("2026-12-07T16:00:00Z");
    let respond = |attempts: &[Attempt], queued_at: DateTime<Utc>, now: DateTime<Utc>| {
        SpeedToLead::default().response(&calendar, queued_at, attempts, now)
    };
    let quick = respond(
        &[Attempt {
            at: at("2026-12-07T11:00:00Z"),
            connected: true,
        }],
        queued,
        now,
    );
    // Queued the Friday before at 09:00, first called Monday at 11:00: 8 + 2 business hours.
    let friday = at("2026-12-04T09:00:00Z");
    let late = respond(
        &[Attempt {
            at: at("2026-12-07T11:00:00Z"),
            connected: false,
        }],
        friday,
        now,
    );
    let waiting = respond(&[], at("2026-12-07T15:00:00Z"), now);
    let leads: Vec<LeadFacts> = [quick, late, waiting]
        .into_iter()
        .map(|r| LeadFacts {
            response: Some(r),
            ..facts(1, "webinar")
        })
        .collect();
    let speed = funnel(&leads, q4()).speed_to_lead;
    assert_eq!(speed.queued, 3);
    assert_eq!(speed.first_in_time, CountRate::of(1, 2));
    assert_eq!(speed.breach_rate, CountRate::of(1, 2));
    // Nearest-rank median of 2 h and 10 h.
    assert_eq!(speed.median_first_response_hours, Some(2.0));
}

#[test]
fn conversion_breaks_down_by_source_and_by_fit_and_intent_band() {
    let leads = vec![
        LeadFacts {
            fit: Some(Band::High),
            intent: Band::High,
            ..facts(3, "webinar")
        },
        LeadFacts {
            fit: Some(Band::High),
            intent: Band::High,
            ..facts(1, "outbound")
        },
        LeadFacts {
            fit: None,
            intent: Band::Low,
            ..facts(0, "webinar")
        },
    ];
    let report = funnel(&leads, q4());
    let by_source: Vec<(&str, u64, u64)> = report
        .by_source
        .iter()
        .map(|g| (g.group.as_str(), g.counts.leads, g.counts.sal))
        .collect();
    assert_eq!(by_source, [("outbound", 1, 0), ("webinar", 2, 1)]);
    let by_band: Vec<(&str, Option<f64>)> = report
        .by_band
        .iter()
        .map(|g| (g.group.as_str(), g.counts.lead_to_sal.rate))
        .collect();
    assert_eq!(
        by_band,
        [
            ("fit high × intent high", Some(0.5)),
            ("fit unassessed × intent low", Some(0.0))
        ]
    );
}

#[test]
fn the_channel_that_booked_the_meeting_gets_the_origin_and_every_other_one_influence() {
    let origin = |o: &str, influence: &[&str], reached: u8| LeadFacts {
        origin: Some(o.to_owned()).filter(|o| !o.is_empty()),
        influence: influence.iter().map(|c| (*c).to_owned()).collect(),
        ..facts(reached, "outbound")
    };
    let leads = vec![
        origin("sequence A", &["webinar"], 3),
        origin("sequence A", &[], 1),
        origin("", &["webinar", "trade show"], 0),
    ];
    let report = funnel(&leads, q4());
    let counts = |groups: &[pipewise_analytics::leads::FunnelGroup]| -> Vec<(String, u64, u64)> {
        groups
            .iter()
            .map(|g| (g.group.clone(), g.counts.leads, g.counts.sal))
            .collect()
    };
    assert_eq!(
        counts(&report.by_origin),
        [("(none)".into(), 1, 0), ("sequence A".into(), 2, 1)]
    );
    assert_eq!(
        counts(&report.by_influence),
        [("trade show".into(), 1, 0), ("webinar".into(), 2, 1)]
    );
}

#[test]
fn a_lead_counts_at_the_furthest_step_its_history_shows() {
    let text = |t: &str| Some(Some(t.to_owned()));
    let body = LeadFields {
        name: Some("Ana".to_owned()),
        email: text("ana@acme.com"),
        title: text("COO"),
        company: text("Acme"),
        source: text("webinar"),
        ..LeadFields::default()
    };
    let mut lead = body
        .create(LeadId::from_parts(1, [1; 10]), at("2026-11-02T10:00:00Z"))
        .unwrap();
    lead.status = LeadStatus::Disqualified;
    let settings = LeadSettings::shipped();
    let now = at("2026-12-01T00:00:00Z");
    let facts = LeadFacts::of(
        &lead,
        &[LeadStatus::Mql, LeadStatus::Sql],
        &[],
        &settings,
        now,
    );
    assert_eq!((facts.reached, facts.response, facts.fit), (2, None, None));
    assert_eq!(LeadFacts::of(&lead, &[], &[], &settings, now).reached, 0);
    // Queued and never attempted: the first deadline is missed.
    lead.queued_at = Some(now - Duration::days(10));
    let queued = LeadFacts::of(&lead, &[], &[], &settings, now);
    assert!(queued.response.unwrap().breached);
}

proptest! {
    #[test]
    fn slices_add_up_to_the_whole_and_rates_stay_within_0_and_1(
        leads in proptest::collection::vec((0u8..4, 0usize..3, 0usize..3), 0..60),
    ) {
        let sources = ["webinar", "outbound", "event"];
        let bands = [Band::Low, Band::Medium, Band::High];
        let leads: Vec<LeadFacts> = leads
            .into_iter()
            .map(|(reached, source, band)| LeadFacts { intent: bands[band], ..facts(reached, sources[source]) })
            .collect();
        let report = funnel(&leads, q4());
        for groups in [&report.by_source, &report.by_band] {
            let sum = |f: fn(&pipewise_analytics::leads::FunnelCounts) -> u64| groups.iter().map(|g| f(&g.counts)).sum::<u64>();
            prop_assert_eq!(sum(|c| c.leads), report.whole.leads);
            prop_assert_eq!(sum(|c| c.mql), report.whole.mql);
            prop_assert_eq!(sum(|c| c.sql), report.whole.sql);
            prop_assert_eq!(sum(|c| c.sal), report.whole.sal);
        }
        let w = &report.whole;
        for rate in [w.lead_to_mql, w.mql_to_sql, w.sql_to_sal, w.lead_to_sal] {
            prop_assert!(rate.rate.is_none_or(|r| (0.0..=1.0).contains(&r)));
        }
        prop_assert!(w.leads >= w.mql && w.mql >= w.sql && w.sql >= w.sal);
    }
}
