//! The lead queue: leads waiting for a sales attempt, the most urgent first, each with its
//! fit and intent bands, the action the fit × intent matrix routes it to, and its
//! speed-to-lead clock; above them, the matrix with how many waiting leads fall in each cell.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use pipewise_core::crm::Lead;
use pipewise_core::leads::routing::Route;
use pipewise_core::leads::scoring::Band;
use pipewise_core::leads::settings::LeadSettings;
use pipewise_core::leads::speed::Response;

use super::format::date;
use super::layout::{self, Section};
use super::viewer::{PageError, Viewer};
use crate::AppState;
use crate::routes::leads::visible_queue;

/// A waiting lead as the queue lists it.
struct Waiting {
    lead: Lead,
    response: Response,
    fit: Option<Band>,
    intent: Band,
}

/// How many waiting leads fall in each cell of the fit × intent matrix.
type Counts = HashMap<(Option<Band>, Band), usize>;

/// The queue as the page shows it: every waiting lead counted, the most urgent listed.
struct Shown {
    first_attempt_days: u32,
    second_attempt_days: u32,
    waiting: usize,
    counts: Counts,
    listed: Vec<Waiting>,
}

/// `GET /app/{workspace}/leads`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Html<String>, PageError> {
    let now = Utc::now();
    let shown = visible_queue(&state, &viewer.0, |settings, queue| {
        let mut counts = Counts::new();
        let mut listed = Vec::with_capacity(LISTED);
        for (lead, response) in &queue {
            let (fit, intent) = bands(lead, settings, now);
            *counts.entry((fit, intent)).or_default() += 1;
            if listed.len() < LISTED {
                listed.push(Waiting {
                    lead: (*lead).clone(),
                    response: *response,
                    fit,
                    intent,
                });
            }
        }
        Shown {
            first_attempt_days: settings.speed_to_lead.first_attempt_days,
            second_attempt_days: settings.speed_to_lead.second_attempt_days,
            waiting: queue.len(),
            counts,
            listed,
        }
    })
    .await?;
    let content = html! {
        h1 { "Lead queue" }
        p.note { "Leads waiting for a call or e-mail, the most urgent first. First attempt within "
            (shown.first_attempt_days) " business day(s), second within "
            (shown.second_attempt_days) "." }
        (matrix(&shown.counts))
        (queue_table(&viewer, &shown, now))
    };
    Ok(Html(
        layout::page(&viewer, Section::Leads, "Lead queue", content).into_string(),
    ))
}

/// The lead's fit band (none until its fit is assessed) and its intent band at `now`.
fn bands(lead: &Lead, settings: &LeadSettings, now: DateTime<Utc>) -> (Option<Band>, Band) {
    let rubric = &settings.rubric;
    let evidence = &lead.evidence;
    let fit = (!evidence.fit.is_empty()).then(|| rubric.fit(&evidence.fit).band);
    let intent = rubric.intent(&evidence.signals, now).score.band;
    (fit, intent)
}

fn route_name(route: Route) -> &'static str {
    match route {
        Route::Discovery => "Book discovery",
        Route::TechnicalQa => "Technical Q&A",
        Route::ConstraintCheck => "Check constraints first",
        Route::Nurture => "Nurture",
        Route::Disqualify => "Disqualify",
    }
}

fn band_name(band: Band) -> &'static str {
    match band {
        Band::High => "High",
        Band::Medium => "Medium",
        Band::Low => "Low",
    }
}

const BANDS: [Band; 3] = [Band::High, Band::Medium, Band::Low];

fn matrix(counts: &Counts) -> Markup {
    let fits: Vec<Option<Band>> = BANDS.iter().copied().map(Some).chain([None]).collect();
    html! {
        section.panel aria-labelledby="matrix-heading" {
            h2 id="matrix-heading" { "Fit × intent" }
            table.matrix {
                thead { tr {
                    th scope="col" { "Fit \\ intent" }
                    @for intent in BANDS { th scope="col" { (band_name(intent)) " intent" } }
                } }
                tbody {
                    @for fit in &fits {
                        tr {
                            th scope="row" { (fit.map_or("Fit not assessed", |f| band_name(f))) @if fit.is_some() { " fit" } }
                            @for intent in BANDS {
                                @let n = counts.get(&(*fit, intent)).copied().unwrap_or(0);
                                td data-fit=(fit.map_or("none", |f| f.as_str())) data-intent=(intent.as_str()) {
                                    strong { (n) } " waiting"
                                    br;
                                    span.note { (fit.map_or("Assess fit first", |f| route_name(Route::of(f, intent)))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How long until `due`, or how long past it: "in 3 h 20 min", "overdue by 1 d 2 h".
pub(crate) fn until(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (due - now).num_minutes();
    let size = minutes.unsigned_abs();
    let (days, hours, mins) = (size / 1440, size % 1440 / 60, size % 60);
    let span = if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else {
        format!("{mins} min")
    };
    if minutes >= 0 {
        format!("in {span}")
    } else {
        format!("overdue by {span}")
    }
}

/// How many of the most urgent waiting leads the table lists; the matrix counts them all.
/// A queue is worked from the top, and a page of every waiting lead at scale would be
/// megabytes no one scrolls.
const LISTED: usize = 250;

fn queue_table(viewer: &Viewer, shown: &Shown, now: DateTime<Utc>) -> Markup {
    let name = |id: Option<_>| id.map_or("Unassigned", |id| viewer.user_name(id));
    let listed = &shown.listed;
    html! {
        section.panel aria-labelledby="queue-heading" {
            h2 id="queue-heading" { "Waiting (" (shown.waiting) ")" }
            @if listed.is_empty() {
                p { "No lead is waiting for an attempt." }
            } @else {
                @if listed.len() < shown.waiting {
                    p.note { "The " (listed.len()) " most urgent are listed." }
                }
                table.sortable aria-label="Lead queue" {
                    thead { tr {
                        th scope="col" { "Lead" } th scope="col" { "Company" } th scope="col" { "Source" }
                        th scope="col" { "Owner" } th scope="col" { "Fit" } th scope="col" { "Intent" }
                        th scope="col" { "Next action" } th scope="col" { "Queued" } th scope="col" { "Next attempt due" }
                    } }
                    tbody {
                        @for w in listed {
                            tr class=[w.response.breached.then_some("breached")] {
                                td { (w.lead.name) }
                                td { (w.lead.company.as_ref().map_or("", |c| c.as_str())) }
                                td { (w.lead.source.as_ref().map_or("", |s| s.as_str())) }
                                td { (name(w.lead.owner_id)) }
                                td { (w.fit.map_or("—", band_name)) }
                                td { (band_name(w.intent)) }
                                td { (w.fit.map_or("Assess fit", |f| route_name(Route::of(f, w.intent)))) }
                                td data-sort=(w.response.queued_at.timestamp()) { (date(w.response.queued_at.date_naive())) }
                                td data-sort=[w.response.next_due.map(|d| d.timestamp())] {
                                    @if let Some(due) = w.response.next_due {
                                        time.clock datetime=(due.to_rfc3339()) { (until(due, now)) }
                                    }
                                    @if w.response.breached { " · SLA breached" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn clocks_say_how_long_is_left_or_how_late_it_is() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let at = |d, h, m| Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap();
        assert_eq!(until(at(3, 15, 20), now), "in 3 h 20 min");
        assert_eq!(until(at(4, 14, 0), now), "in 1 d 2 h");
        assert_eq!(until(at(3, 11, 15), now), "overdue by 45 min");
        assert_eq!(until(at(1, 10, 0), now), "overdue by 2 d 2 h");
    }
}
