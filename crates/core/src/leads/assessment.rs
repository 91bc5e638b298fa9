//! Everything the rules say about one lead at a moment: its scores with their evidence, the
//! route the matrix prescribes, the stage the scores justify, its speed-to-lead clock and the
//! validation questions still unanswered.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::attribution::{self, Attribution};
use super::routing::Route;
use super::scoring::{FitPart, IntentScore, Layer, Qualification, Score};
use super::settings::LeadSettings;
use super::speed::{Attempt, Response};
use crate::crm::Lead;

/// A lead as the rules see it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Assessment {
    /// None until someone assesses the lead's fit.
    pub fit: Option<Score<FitPart>>,
    pub intent: IntentScore,
    /// The next action by the fit × intent matrix; none until fit is assessed.
    pub route: Option<Route>,
    pub qualification: Qualification,
    /// The response clock while the lead waits in the sales queue (queued, open, not in
    /// nurture).
    pub speed_to_lead: Option<Response>,
    /// Validation questions of the rubric not yet answered, per score.
    pub open_questions: BTreeMap<Layer, Vec<String>>,
    /// The channel that booked the first meeting, and those that influenced the lead.
    pub attribution: Attribution,
}

/// Assesses `lead` at `now`, given the calls, e-mails and meetings logged on it.
pub fn assess(
    lead: &Lead,
    attempts: &[Attempt],
    settings: &LeadSettings,
    now: DateTime<Utc>,
) -> Assessment {
    let rubric = &settings.rubric;
    let evidence = &lead.evidence;
    let fit = (!evidence.fit.is_empty()).then(|| rubric.fit(&evidence.fit));
    let intent = rubric.intent(&evidence.signals, now);
    let route = fit.as_ref().map(|f| Route::of(f.band, intent.score.band));
    let qualification = rubric.qualify(fit.as_ref(), &intent);
    let speed_to_lead = settings.waiting_response(lead, attempts, now);
    let open_questions = rubric
        .questions
        .iter()
        .map(|(layer, questions)| {
            let open = questions
                .iter()
                .filter(|q| {
                    !evidence
                        .answers
                        .iter()
                        .any(|a| a.layer == *layer && a.question.as_str().eq_ignore_ascii_case(q))
                })
                .cloned()
                .collect();
            (*layer, open)
        })
        .collect();
    Assessment {
        fit,
        intent,
        route,
        qualification,
        speed_to_lead,
        open_questions,
        attribution: attribution::of_lead(lead, rubric, now),
    }
}
