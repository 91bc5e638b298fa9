//! The forecast call: the period's number by four methods side by side, the viewer's own
//! call on their deals (include or leave out, with a note), the roll-up through the
//! hierarchy with managers' adjustments, and the snapshots taken so far. The backtest's
//! accuracy has its own page: it replays every week of past quarters, so the server keeps
//! each workspace's replay and shows that.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::Utc;
use maud::{Markup, html};
use pipewise_analytics::forecast::{
    BacktestReport, BacktestRequest, DealForecast, ForecastReport, ForecastRequest, Headline,
    Method, PersonCall,
};
use pipewise_core::calendar::Period;
use pipewise_core::ids::{OpportunityId, UserId};
use pipewise_core::money::Currency;
use pipewise_core::org::Workspace;
use pipewise_core::process::ForecastCategory;
use pipewise_core::validation::Fields;
use serde::Deserialize;

use super::charts::{self, Bar, Reference, Series, Unit};
use super::format::{category, date, money, percent};
use super::layout::{self, Section};
use super::viewer::{PageError, Viewer};
use crate::kept::Made;
use crate::routes::lists;
use crate::routes::reports::refused;
use crate::routes::{backtest_report, forecast_report};
use crate::{ApiError, AppState};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ForecastQuery {
    period: Option<String>,
    /// Whose part of the roll-up to open: a manager in it.
    under: Option<String>,
}

/// Past this many people the roll-up opens a level at a time: a VP over four thousand reps
/// sees their managers, then opens a manager's team.
const ROLL_UP_ROWS: usize = 300;

fn method_name(method: Method) -> &'static str {
    match method {
        Method::DealCall => "Deal-specific call",
        Method::CategoryWeighted => "Category-weighted",
        Method::StageWeighted => "Stage-weighted",
        Method::DealModel => "Deal model",
    }
}

/// What the forecast page was asked for, checked.
struct Asked {
    period: Option<Period>,
    /// The period as given, for the form.
    given: Option<String>,
    under: Option<UserId>,
}

fn asked(query: Result<Query<ForecastQuery>, QueryRejection>) -> Result<Asked, PageError> {
    let query = lists::query(query, "period, under")?;
    let given = query
        .period
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    let mut fields = Fields::default();
    let period = fields.check_optional("period", given.as_deref(), str::parse::<Period>);
    let under = fields.check_optional(
        "under",
        query
            .under
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty()),
        str::parse::<UserId>,
    );
    fields.finish()?;
    Ok(Asked {
        period,
        given,
        under,
    })
}

/// The rows of the roll-up to draw, each with whether it has reports left undrawn: the part
/// under `under` (all of it if `None` or not in the roll-up), down to the deepest level that
/// keeps within `limit` rows, and at least one level below its top. `people` is depth first,
/// each manager followed by their reports.
fn rows_drawn(
    people: &[PersonCall],
    under: Option<UserId>,
    limit: usize,
) -> Vec<(&PersonCall, bool)> {
    let part = under
        .and_then(|id| people.iter().position(|p| p.user_id == id))
        .map_or(people, |at| {
            let depth = people[at].depth;
            let end = people[at + 1..]
                .iter()
                .position(|p| p.depth <= depth)
                .map_or(people.len(), |n| at + 1 + n);
            &people[at..end]
        });
    let top = part.iter().map(|p| p.depth).min().unwrap_or(0);
    let mut deepest = top + 1;
    while part.iter().any(|p| p.depth > deepest)
        && part.iter().filter(|p| p.depth <= deepest + 1).count() <= limit
    {
        deepest += 1;
    }
    part.iter()
        .enumerate()
        .filter(|(_, p)| p.depth <= deepest)
        .map(|(i, p)| {
            let hidden = p.depth == deepest && part.get(i + 1).is_some_and(|n| n.depth > p.depth);
            (p, hidden)
        })
        .collect()
}

/// `GET /app/{workspace}/forecast?period=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<ForecastQuery>, QueryRejection>,
) -> Result<Html<String>, PageError> {
    let Asked {
        period,
        given,
        under,
    } = asked(query)?;
    let caller = &viewer.0;
    let now = Utc::now();
    let request = ForecastRequest {
        period,
        as_of: now.date_naive(),
        now,
    };
    let period = request.period_in(caller.workspace.fiscal_calendar);
    let mut report = forecast_report(&state, &caller.workspace, request)
        .await?
        .map_err(|e| refused(e, |_| given.clone()))?;
    report
        .deals
        .retain(|deal| caller.access.can_read(deal.owner_id));
    let own: Vec<&DealForecast> = report
        .deals
        .iter()
        .filter(|d| d.owner_id == caller.user.id)
        .collect();
    let mut names = HashMap::new();
    for deal in &own {
        let stored = state
            .store
            .opportunity(caller.workspace.id, deal.opportunity_id)
            .await?;
        names.insert(deal.opportunity_id, stored.name.to_string());
    }
    let period_text = report.scope.period.clone();
    let snapshots = state
        .store
        .snapshot_headlines(caller.workspace.id, period)
        .await?;
    let currency = caller.workspace.corporate_currency;
    let content = html! {
        h1 { "Forecast " (period_text) }
        form.filters method="get" action=(viewer.path("forecast")) {
            label { "Period" input name="period" value=[given.as_deref()] placeholder=(period_text); }
            button type="submit" { "Apply" }
            a href={ (viewer.path("forecast/backtest")) } { "Backtest accuracy" }
        }
        (headline(&report, currency))
        (methods(&report, currency))
        @if !own.is_empty() && viewer.writes() { (call_form(&viewer, &report, &own, &names, currency)) }
        (roll_up(&viewer, &report, under, currency))
        (snapshot_list(&viewer, &snapshots, currency))
    };
    Ok(Html(
        layout::page(&viewer, Section::Forecast, "Forecast", content).into_string(),
    ))
}

fn headline(report: &ForecastReport, currency: Currency) -> Markup {
    html! {
        dl.figures {
            dt { "Quota" } dd { (report.quota.map_or("Not set".to_owned(), |q| money(q, currency))) }
            dt { "Closed won" } dd { (money(report.won.amount, currency)) }
            dt { "Attainment" } dd { (percent(report.attainment)) }
        }
    }
}

fn methods(report: &ForecastReport, currency: Currency) -> Markup {
    let bars: Vec<Bar> = report
        .methods
        .iter()
        .map(|m| Bar {
            label: method_name(m.method).to_owned(),
            value: Some(m.forecast as f64),
            band: None,
        })
        .collect();
    let quota = report.quota.map(|q| Reference {
        value: q as f64,
        label: "Quota".to_owned(),
    });
    html! {
        section.panel aria-labelledby="methods-heading" {
            h2 id="methods-heading" { "Four methods side by side" }
            (charts::bars("methods-chart", "Forecast by method", Unit::Money(currency), &bars, quota.as_ref()))
            table.sortable aria-label="Methods" {
                thead { tr {
                    th scope="col" { "Method" } th scope="col" { "Forecast" } th scope="col" { "From open deals" }
                    th scope="col" { "P10" } th scope="col" { "P50" } th scope="col" { "P90" } th scope="col" { "How" }
                } }
                tbody {
                    @for m in &report.methods {
                        tr data-method=(m.method.as_str()) {
                            th scope="row" { (method_name(m.method)) }
                            td data-sort=(m.forecast) { (money(m.forecast, currency)) }
                            td data-sort=(m.from_open) { (money(m.from_open, currency)) }
                            @match &m.range {
                                Some(r) => { td { (money(r.p10, currency)) } td { (money(r.p50, currency)) } td { (money(r.p90, currency)) } },
                                None => { td { "—" } td { "—" } td { "—" } },
                            }
                            td { (m.how) }
                        }
                    }
                }
            }
        }
    }
}

fn call_form(
    viewer: &Viewer,
    report: &ForecastReport,
    own: &[&DealForecast],
    names: &HashMap<OpportunityId, String>,
    currency: Currency,
) -> Markup {
    html! {
        section.panel aria-labelledby="call-heading" {
            h2 id="call-heading" { "Your call" }
            p.note { "Include the deals you will close in " (report.scope.period)
                ". Leaving out a Commit deal or including a Best Case one needs a note: timing risk for Commit, vendor and timing risk for Best Case." }
            form data-form="call" data-period=(report.scope.period) {
                table {
                    thead { tr {
                        th scope="col" { "Deal" } th scope="col" { "Category" } th scope="col" { "Amount" }
                        th scope="col" { "Closes" } th scope="col" { "In the number" } th scope="col" { "Note" }
                    } }
                    tbody {
                        @for deal in own {
                            @let id = deal.opportunity_id.to_string();
                            @let name = names.get(&deal.opportunity_id).map_or("Deal", String::as_str);
                            tr data-line=(id) data-amount=(deal.amount) {
                                th scope="row" { a href=(viewer.path(&format!("deals/{id}"))) { (name) } }
                                td { (category(deal.category)) }
                                td { (money(deal.amount, currency)) }
                                td { (date(deal.close_date)) }
                                td { label.inline {
                                    input type="checkbox" name="include" checked[deal.in_call];
                                    " Include " span.visually-hidden { (name) }
                                } }
                                td {
                                    label.visually-hidden for={ "note-" (id) } { "Note for " (name) }
                                    input id={ "note-" (id) } name="note" placeholder=(match deal.category {
                                        ForecastCategory::Commit => "Timing risk",
                                        _ => "Vendor and timing risk",
                                    });
                                }
                            }
                        }
                    }
                }
                div.problem role="alert" {}
                button type="submit" { "Submit call" }
            }
        }
    }
}

fn roll_up(
    viewer: &Viewer,
    report: &ForecastReport,
    under: Option<UserId>,
    currency: Currency,
) -> Markup {
    let caller = &viewer.0;
    let rows = rows_drawn(&report.people, under, ROLL_UP_ROWS);
    let top = rows.iter().map(|(p, _)| p.depth).min().unwrap_or(0);
    let period = &report.scope.period;
    let opened = |id: UserId| viewer.path(&format!("forecast?period={period}&under={id}"));
    let opened_at = under.and_then(|id| report.people.iter().find(|p| p.user_id == id));
    html! {
        section.panel aria-labelledby="rollup-heading" {
            h2 id="rollup-heading" { "Roll-up" }
            @if let Some(person) = opened_at {
                p.note {
                    (person.name) "'s team. "
                    @if let Some(manager) = person.manager_id.filter(|m| report.people.iter().any(|p| p.user_id == *m)) {
                        a href=(opened(manager)) { "One level up" } " · "
                    }
                    a href={ (viewer.path("forecast")) "?period=" (period) } { "Whole roll-up" }
                }
            } @else if rows.iter().any(|(_, hidden)| *hidden) {
                p.note { "Open a team to see its people." }
            }
            table aria-label="Roll-up" {
                thead { tr {
                    th scope="col" { "Person" } th scope="col" { "Won" } th scope="col" { "Single" }
                    th scope="col" { "Cumulative" } th scope="col" { "Adjustment" } th scope="col" { "Forecast" }
                    th scope="col" { "Upside" } th scope="col" { "Called" }
                } }
                tbody {
                    @for (p, hidden) in &rows {
                        @let adjustable = viewer.writes() && p.user_id != caller.user.id && caller.access.check_edit(p.user_id).is_ok();
                        tr data-person=(p.user_id) {
                            th scope="row" style={ "padding-left: " (0.5 + 1.25 * (p.depth - top) as f64) "rem" } {
                                (p.name)
                                @if *hidden { " " a href=(opened(p.user_id)) { "Open team" span.visually-hidden { " of " (p.name) } } }
                            }
                            td { (money(p.won, currency)) }
                            td data-column="single" data-minor=(p.single) { (money(p.single, currency)) }
                            td data-column="cumulative" data-minor=(p.cumulative) { (money(p.cumulative, currency)) }
                            td {
                                @if let Some(a) = &p.adjustment { (money(a.amount, currency)) " by " (a.by) ": " (a.note) }
                                @if adjustable && caller.user.role != pipewise_core::org::Role::Rep {
                                    details {
                                        summary { "Adjust" }
                                        form.inline data-form="adjust" data-period=(report.scope.period) data-subject=(p.user_id) {
                                            label for={ "adjust-" (p.user_id) } { "Number for " (p.name) }
                                            input id={ "adjust-" (p.user_id) } name="amount" inputmode="decimal" required;
                                            label for={ "adjust-note-" (p.user_id) } { "Why" }
                                            input id={ "adjust-note-" (p.user_id) } name="note" required;
                                            button type="submit" { "Adjust" }
                                            div.problem role="alert" {}
                                        }
                                    }
                                }
                            }
                            td data-column="forecast" data-minor=(p.forecast) { (money(p.forecast, currency)) }
                            td { (money(p.upside, currency)) }
                            td { (p.called_at.map_or("Categories stand".to_owned(), |t| date(t.date_naive()))) }
                        }
                    }
                }
            }
        }
    }
}

fn snapshot_list(viewer: &Viewer, snapshots: &[Headline], currency: Currency) -> Markup {
    let methods = [
        Method::DealCall,
        Method::CategoryWeighted,
        Method::StageWeighted,
        Method::DealModel,
    ];
    html! {
        section.panel aria-labelledby="snapshots-heading" {
            h2 id="snapshots-heading" { "Snapshots" }
            p.note { "A snapshot of the quarter is taken every week; compare how each method's number moved." }
            @if snapshots.is_empty() {
                p { "No snapshot of this period yet." }
            } @else {
                table.sortable {
                    thead { tr {
                        th scope="col" { "Taken" } th scope="col" { "Won" }
                        @for m in methods { th scope="col" { (method_name(m)) } }
                    } }
                    tbody {
                        @for s in snapshots {
                            tr {
                                td data-sort=(s.taken_at.timestamp()) { (date(s.taken_at.date_naive())) }
                                td { (money(s.won, currency)) }
                                @for m in methods {
                                    td { (s.methods.iter().find(|n| n.method == m).map_or("—".to_owned(), |n| money(n.forecast, currency))) }
                                }
                            }
                        }
                    }
                }
            }
            @if viewer.writes() {
                button type="button" data-action="snapshot" { "Take a snapshot now" }
            }
        }
    }
}

/// The backtest the page shows, as kept; the first is waited for.
pub(crate) async fn kept_backtest(
    state: &AppState,
    workspace: &Workspace,
) -> Result<Arc<Made<BacktestReport>>, ApiError> {
    state
        .backtests
        .wait(workspace.id, || {
            let (state, workspace) = (state.clone(), workspace.clone());
            async move { last_four_quarters(&state, &workspace).await }
        })
        .await
}

/// The four quarters before today's, replayed.
async fn last_four_quarters(
    state: &AppState,
    workspace: &Workspace,
) -> Result<BacktestReport, ApiError> {
    let now = Utc::now();
    let request = BacktestRequest {
        periods: 4,
        as_of: now.date_naive(),
        now,
    };
    backtest_report(state, workspace, request).await
}

/// `GET /app/{workspace}/forecast/backtest`: each method's error week by week over the last
/// four quarters, and how well the per-deal probabilities were calibrated.
pub(crate) async fn backtest(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Html<String>, PageError> {
    let made = kept_backtest(&state, &viewer.0.workspace).await?;
    let report = &made.report;
    let weeks = report
        .accuracy
        .iter()
        .map(|a| a.by_week.len())
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = (1..=weeks).map(|w| format!("W{w}")).collect();
    let series: Vec<Series> = report
        .accuracy
        .iter()
        .map(|a| Series {
            name: method_name(a.method).to_owned(),
            values: (1..=weeks as u32)
                .map(|w| {
                    a.by_week
                        .iter()
                        .find(|x| x.week == w)
                        .map(|x| x.mean_absolute_error)
                })
                .collect(),
        })
        .collect();
    let content = html! {
        h1 { "Forecast backtest" }
        p { "Every method replayed at the end of each week of the last "
            (report.periods.len()) " closed quarters, against what was booked." }
        p.note { "Replayed at " (made.at.format("%H:%M UTC")) " on " (date(made.at.date_naive())) ". A look at this page more than half a minute after it, once deals have changed, starts a new replay." }
        @if let Some(best) = report.most_accurate { p.verdict { "Most accurate: " (method_name(best)) "." } }
        section.panel aria-labelledby="accuracy-heading" {
            h2 id="accuracy-heading" { "Accuracy by week of the quarter" }
            (charts::lines("accuracy-chart", "Mean absolute error by week", Unit::Rate, &labels, &series))
            table.sortable {
                thead { tr { th scope="col" { "Method" } th scope="col" { "Mean absolute error" } th scope="col" { "Bias" } } }
                tbody {
                    @for a in &report.accuracy {
                        tr {
                            th scope="row" { (method_name(a.method)) }
                            td data-sort=[a.mean_absolute_error] { (percent(a.mean_absolute_error)) }
                            td data-sort=[a.bias] { (a.bias.map_or("—".to_owned(), |b| format!("{:+.1}%", b * 100.0))) }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="calibration-heading" {
            h2 id="calibration-heading" { "Calibration of deal probabilities" }
            @for c in &report.calibration {
                h3 { (method_name(c.method)) ": Brier score " (c.brier.map_or("—".to_owned(), |b| format!("{b:.3}"))) }
                @let bars: Vec<Bar> = c.buckets.iter().map(|b| Bar {
                    label: format!("Given {:.0}–{:.0}%", b.from * 100.0, b.to * 100.0),
                    value: Some(b.won),
                    band: Some((b.from, b.to)),
                }).collect();
                (charts::bars(&format!("calibration-{}", c.method.as_str()), "Share won; shaded: where it falls if the probabilities are right", Unit::Rate, &bars, None))
                @for alert in &c.alerts { p.note { (alert) } }
            }
        }
    };
    Ok(Html(
        layout::page(&viewer, Section::Forecast, "Forecast backtest", content).into_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A VP over two managers, the first with three reps and the second with two, depth
    /// first as the roll-up lists them.
    fn hierarchy() -> Vec<PersonCall> {
        let person = |n: u8, depth: usize, manager: Option<u8>| PersonCall {
            user_id: UserId::from_parts(1, [n; 10]),
            name: format!("P{n}"),
            manager_id: manager.map(|m| UserId::from_parts(1, [m; 10])),
            depth,
            won: 0,
            single: 0,
            cumulative: 0,
            adjustment: None,
            forecast: 0,
            upside: 0,
            called_at: None,
        };
        vec![
            person(0, 0, None),
            person(1, 1, Some(0)),
            person(2, 2, Some(1)),
            person(3, 2, Some(1)),
            person(4, 2, Some(1)),
            person(5, 1, Some(0)),
            person(6, 2, Some(5)),
            person(7, 2, Some(5)),
        ]
    }

    fn drawn(people: &[PersonCall], under: Option<u8>, limit: usize) -> Vec<(String, bool)> {
        rows_drawn(people, under.map(|n| UserId::from_parts(1, [n; 10])), limit)
            .into_iter()
            .map(|(p, hidden)| (p.name.clone(), hidden))
            .collect()
    }

    fn rows(names: &[(&str, bool)]) -> Vec<(String, bool)> {
        names.iter().map(|(n, h)| ((*n).to_owned(), *h)).collect()
    }

    #[test]
    fn a_roll_up_within_the_limit_is_drawn_whole() {
        let people = hierarchy();
        let all: Vec<(String, bool)> = people.iter().map(|p| (p.name.clone(), false)).collect();
        assert_eq!(drawn(&people, None, 8), all);
        // Someone not in the roll-up opens all of it.
        assert_eq!(drawn(&people, Some(9), 8), all);
    }

    #[test]
    fn past_the_limit_the_managers_are_drawn_with_their_teams_to_open() {
        let people = hierarchy();
        let managers = rows(&[("P0", false), ("P1", true), ("P5", true)]);
        assert_eq!(drawn(&people, None, 7), managers);
        // At least one level below the top, however small the limit.
        assert_eq!(drawn(&people, None, 1), managers);
    }

    #[test]
    fn an_opened_team_is_its_manager_and_their_reports() {
        let people = hierarchy();
        let team = rows(&[("P1", false), ("P2", false), ("P3", false), ("P4", false)]);
        assert_eq!(drawn(&people, Some(1), 4), team);
        assert_eq!(drawn(&people, Some(1), 2), team);
        assert_eq!(
            drawn(&people, Some(5), 300),
            rows(&[("P5", false), ("P6", false), ("P7", false)])
        );
    }
}
