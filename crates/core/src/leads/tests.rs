//! The playbook's worked examples, scored with the shipped settings.

use chrono::{DateTime, Duration, Utc};

use super::routing::Route;
use super::scoring::{Band, FitAssessment, FitEvidence, FitPart, IntentSignal, Layer};
use super::settings::LeadSettings;
use super::speed::DeadlineState;
use crate::crm::LeadStatus;
use crate::keys::SignalKey;
use crate::text::Note;

fn now() -> DateTime<Utc> {
    "2026-12-07T12:00:00Z".parse().unwrap()
}

fn signal(key: &str, days_ago: i64) -> IntentSignal {
    IntentSignal {
        signal: SignalKey::parse(key).unwrap(),
        at: now() - Duration::days(days_ago),
        evidence: None,
        channel: None,
    }
}

fn fit(profile: u8, use_case: u8, feasibility: u8) -> FitAssessment {
    let part = |points: u8, why: &str| FitEvidence {
        points,
        evidence: Note::parse(why).unwrap(),
    };
    FitAssessment::from([
        (
            FitPart::Profile,
            part(profile, "role and company size checked"),
        ),
        (
            FitPart::UseCase,
            part(use_case, "problem stated on the form"),
        ),
        (
            FitPart::Feasibility,
            part(feasibility, "timeline discussed"),
        ),
    ])
}

#[test]
fn prospect_a_enters_qualification_and_prospect_b_does_not() {
    let rubric = LeadSettings::shipped().rubric;
    // A: a VP at a 200-person logistics firm replies, asks about the implementation timeline
    // and can meet next week.
    let a_fit = rubric.fit(&fit(5, 3, 2));
    let a_intent = rubric.intent(
        &[
            signal("replied", 1),
            signal("asked_timeline", 1),
            signal("meeting_booked", 0),
        ],
        now(),
    );
    // Commercial 4 (cap 4, a day old: 3.91); engagement 2 + 3 capped at 3 → 6.9 → 7.
    assert_eq!(a_intent.score.score, 7);
    let a = rubric.qualify(Some(&a_fit), &a_intent);
    assert_eq!(a.stage, Some(LeadStatus::Sql));
    assert!(a.missing.is_empty());

    // B: a consultant at a small agency downloads a brochure, nothing else.
    let b_fit = rubric.fit(&fit(1, 0, 2));
    let b_intent = rubric.intent(&[signal("brochure_download", 0)], now());
    assert_eq!((b_fit.band, b_intent.score.score), (Band::Low, 1));
    let b = rubric.qualify(Some(&b_fit), &b_intent);
    assert_eq!(b.stage, None);
    assert_eq!(b.missing, [Layer::Fit, Layer::Intent, Layer::Readiness]);
}

#[test]
fn fit_nine_intent_nine_books_discovery_and_fit_six_checks_constraints_first() {
    let rubric = LeadSettings::shipped().rubric;
    let intent = rubric.intent(
        &[
            signal("rollout_plan_request", 0),
            signal("meeting_booked", 0),
            signal("case_study_view", 0),
        ],
        now(),
    );
    assert_eq!(intent.score.score, 9);
    let strong = rubric.fit(&fit(5, 3, 1));
    assert_eq!(strong.score, 9);
    assert_eq!(Route::of(strong.band, intent.score.band), Route::Discovery);
    // The same lead needing a custom integration: use case and delivery feasibility drop.
    let constrained = rubric.fit(&fit(5, 1, 0));
    assert_eq!(constrained.score, 6);
    assert_eq!(
        Route::of(constrained.band, intent.score.band),
        Route::ConstraintCheck
    );
}

#[test]
fn a_pricing_guide_download_alone_is_an_mql() {
    let rubric = LeadSettings::shipped().rubric;
    let intent = rubric.intent(&[signal("pricing_guide_download", 0)], now());
    assert_eq!(intent.score.score, 3);
    assert_eq!(rubric.qualify(None, &intent).stage, Some(LeadStatus::Mql));
}

#[test]
fn a_demo_request_with_a_recent_product_page_visit_justifies_sql_outreach() {
    let rubric = LeadSettings::shipped().rubric;
    let recent = rubric.intent(
        &[signal("demo_request", 0), signal("product_page_visit", 2)],
        now(),
    );
    // 4 + 2 × 0.5^(2/30) = 5.91 → 6.
    assert_eq!(recent.score.score, 6);
    assert_eq!(rubric.qualify(None, &recent).stage, Some(LeadStatus::Sql));
    // The same visit three months ago has decayed to an eighth: 4.25 → 4, an MQL only.
    let stale = rubric.intent(
        &[signal("demo_request", 0), signal("product_page_visit", 90)],
        now(),
    );
    assert_eq!(stale.score.score, 4);
    let contribution = &stale.contributions[1];
    assert!(
        (contribution.decayed - 0.25).abs() < 1e-9,
        "{}",
        contribution.decayed
    );
    assert_eq!(rubric.qualify(None, &stale).stage, Some(LeadStatus::Mql));
}

#[test]
fn band_edges_follow_the_design() {
    let rubric = LeadSettings::shipped().rubric;
    let bands: Vec<(u8, Band)> = [0, 4, 5, 7, 8, 10]
        .into_iter()
        .map(|s| (s, rubric.band(s)))
        .collect();
    assert_eq!(
        bands,
        [
            (0, Band::Low),
            (4, Band::Low),
            (5, Band::Medium),
            (7, Band::Medium),
            (8, Band::High),
            (10, Band::High)
        ]
    );
}

#[test]
fn no_first_attempt_within_one_business_day_of_queueing_is_a_breach() {
    let settings = LeadSettings::shipped();
    // Queued on Friday 4 December 2026 at 15:00 UTC: the first attempt is due Monday 15:00.
    let queued: DateTime<Utc> = "2026-12-04T15:00:00Z".parse().unwrap();
    let monday = |time: &str| {
        format!("2026-12-07T{time}Z")
            .parse::<DateTime<Utc>>()
            .unwrap()
    };
    let respond = |at| {
        settings
            .speed_to_lead
            .response(&settings.calendar, queued, &[], at)
    };
    assert_eq!(
        respond(monday("14:59:00")).first.state,
        DeadlineState::Pending
    );
    let breached = respond(monday("15:01:00"));
    assert_eq!(breached.first.state, DeadlineState::Missed);
    assert!(breached.breached);
}

#[test]
fn fit_points_above_a_part_maximum_are_refused_with_the_part_named() {
    let rubric = LeadSettings::shipped().rubric;
    let errors = rubric.check_fit(&fit(6, 3, 2)).unwrap_err();
    let error = errors.iter().next().unwrap();
    assert_eq!(
        (error.field(), error.value(), error.expected()),
        ("fit.profile.points", "6", "0 to 5 points")
    );
}

#[test]
fn every_score_records_what_it_rests_on() {
    let rubric = LeadSettings::shipped().rubric;
    let intent = rubric.intent(&[signal("demo_request", 3), signal("replied", 1)], now());
    let signals: Vec<&str> = intent
        .contributions
        .iter()
        .map(|c| c.signal.as_str())
        .collect();
    assert_eq!(signals, ["demo_request", "replied"]);
    let fit = rubric.fit(&fit(5, 3, 2));
    assert_eq!(fit.parts[&FitPart::UseCase], 3.0);
}

fn queued_lead(extra: &str) -> crate::crm::Lead {
    let body: crate::crm::edits::LeadFields = serde_json::from_str(&format!(
        r#"{{"name": "Ana Ruiz", "email": "ana@acme.com", "title": "VP Operations", "company": "Acme", "source": "webinar", "status": "mql"{extra}}}"#
    ))
    .unwrap();
    body.create(
        crate::ids::LeadId::from_parts(1, [1; 10]),
        now() - Duration::hours(30),
    )
    .unwrap()
}

#[test]
fn the_assessment_routes_only_assessed_leads_and_times_only_waiting_ones() {
    use super::assessment::assess;
    use super::scoring::ValidationAnswer;
    use crate::text::Label;
    let settings = LeadSettings::shipped();
    let mut lead = queued_lead("");
    lead.evidence.signals = vec![signal("demo_request", 1), signal("meeting_booked", 1)];
    lead.evidence.answers.push(ValidationAnswer {
        layer: Layer::Fit,
        question: Label::parse("which team would use it every day?").unwrap(),
        answer: Note::parse("The dispatch team, 40 people.").unwrap(),
        at: now(),
    });
    let unassessed = assess(&lead, &[], &settings, now());
    assert_eq!((unassessed.fit, unassessed.route), (None, None));
    assert_eq!(
        unassessed.open_questions[&Layer::Fit],
        ["What rollout scope and timeline do you have in mind?"]
    );
    // Queued on Sunday 6 December 06:00 UTC: due Monday 17:00; at Monday 12:00 it is pending.
    let clock = unassessed.speed_to_lead.unwrap();
    assert_eq!(
        (clock.first.state, clock.first.due),
        (
            DeadlineState::Pending,
            "2026-12-07T17:00:00Z".parse().unwrap()
        )
    );

    lead.evidence.fit = fit(5, 3, 2);
    let assessed = assess(&lead, &[], &settings, now());
    // Intent: 4 + 3 a day old = 6.84 → 7, medium; fit 10, high.
    assert_eq!(assessed.intent.score.score, 7);
    assert_eq!(assessed.route, Some(Route::TechnicalQa));

    lead.nurture = Some(super::lifecycle::Nurture::Paused);
    assert_eq!(assess(&lead, &[], &settings, now()).speed_to_lead, None);
}
