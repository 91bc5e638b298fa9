//! The hygiene page: what the shipped rules find in the open pipeline the viewer can read —
//! findings by rule, scores by owner and team, and the findings themselves, narrowed by rule
//! or owner, each with its fix.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use maud::{Markup, html};
use pipewise_core::hygiene::{Finding, GroupScore, HygieneRules, RecordKind, RuleId};
use pipewise_core::ids::UserId;
use pipewise_core::validation::Fields;
use serde::Deserialize;

use super::charts::{self, Bar, Unit};
use super::format::{date, grouped};
use super::layout::{self, Section};
use super::viewer::{PageError, Viewer};
use crate::AppState;
use crate::routes::hygiene::{group_visible, owner_visible};
use crate::routes::lists;

/// Findings listed at most; the counts above the list count them all.
const MOST_LISTED: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct HygieneQuery {
    rule: Option<String>,
    owner: Option<String>,
}

/// `GET /app/{workspace}/hygiene?rule=&owner=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<HygieneQuery>, QueryRejection>,
) -> Result<Html<String>, PageError> {
    let query = lists::query(query, "rule and owner")?;
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let mut fields = Fields::default();
    let rule = fields.check_optional("rule", given(&query.rule).as_deref(), str::parse::<RuleId>);
    let owner = fields.check_optional(
        "owner",
        given(&query.owner).as_deref(),
        str::parse::<UserId>,
    );
    fields.finish()?;
    let made = state.hygiene.wait(&viewer.0.workspace).await?;
    let report = &made.report;
    // Read in place: the workspace's report holds every record's scores, and a copy of it
    // per request would cost more than the page.
    let found: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| owner_visible(&viewer.0, f.owner_id))
        .collect();
    let owners: Vec<&GroupScore> = report
        .owners
        .iter()
        .filter(|g| group_visible(&viewer.0, g))
        .collect();
    let teams: Vec<&GroupScore> = report.teams.iter().collect();
    let rules = HygieneRules::shipped();
    let content = html! {
        h1 { "Hygiene" }
        p.note { "The open pipeline checked against the hygiene rules at " (made.at.format("%H:%M UTC")) " on " (date(made.at.date_naive())) ". A look at this page more than half a minute after it, once records have changed, starts a new check." }
        (by_rule(&viewer, &found, &rules))
        (scores("owners", "By owner", &owners))
        (scores("teams", "By team", &teams))
        (findings(&viewer, &found, &rules, rule, owner))
    };
    Ok(Html(
        layout::page(&viewer, Section::Hygiene, "Hygiene", content).into_string(),
    ))
}

fn by_rule(viewer: &Viewer, found: &[&Finding], rules: &HygieneRules) -> Markup {
    let mut counts: BTreeMap<RuleId, usize> = BTreeMap::new();
    for finding in found {
        *counts.entry(finding.rule).or_default() += 1;
    }
    let mut rows: Vec<(RuleId, usize)> = counts.into_iter().collect();
    rows.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(rule, n)| Bar {
            label: rules.get(*rule).description.clone(),
            value: Some(*n as f64),
            band: None,
        })
        .collect();
    html! {
        section.panel aria-labelledby="rules-heading" {
            h2 id="rules-heading" { "Findings by rule" }
            @if rows.is_empty() {
                p { "No findings: every open deal, account and contact passes the rules." }
            } @else {
                (charts::bars("rules-chart", "Findings by rule", Unit::Count, &bars, None))
                table.sortable {
                    thead { tr {
                        th scope="col" { "Rule" } th scope="col" { "Severity" }
                        th scope="col" { "Findings" } th scope="col" { "Fix" }
                    } }
                    tbody {
                        @for (rule, n) in &rows {
                            @let setting = rules.get(*rule);
                            tr {
                                td { a href={ (viewer.path("hygiene")) "?rule=" (rule) } { (setting.description) } }
                                td { (setting.severity.as_str()) }
                                td data-sort=(n) { (grouped(*n as u64)) }
                                td { (setting.fix) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn scores(id: &str, title: &str, groups: &[&GroupScore]) -> Markup {
    html! {
        section.panel aria-labelledby={ (id) "-heading" } {
            h2 id={ (id) "-heading" } { (title) }
            @if groups.is_empty() {
                p { "No open deals." }
            } @else {
                table.sortable {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Open deals" }
                        th scope="col" { "Completeness" } th scope="col" { "Consistency" }
                        th scope="col" { "Days since last touch (median)" }
                        th scope="col" { "Errors" } th scope="col" { "Warnings" } th scope="col" { "Notes" }
                    } }
                    tbody {
                        @for g in groups {
                            tr {
                                td { (g.name) }
                                td data-sort=(g.open_deals) { (grouped(g.open_deals as u64)) }
                                td data-sort=(g.completeness) { (format!("{:.0}%", g.completeness)) }
                                td data-sort=(g.consistency) { (format!("{:.0}%", g.consistency)) }
                                td data-sort=(g.recency_days) { (g.recency_days) }
                                td data-sort=(g.errors) { (g.errors) }
                                td data-sort=(g.warnings) { (g.warnings) }
                                td data-sort=(g.infos) { (g.infos) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn findings(
    viewer: &Viewer,
    found: &[&Finding],
    rules: &HygieneRules,
    rule: Option<RuleId>,
    owner: Option<UserId>,
) -> Markup {
    let caller = &viewer.0;
    let kept: Vec<_> = found
        .iter()
        .filter(|f| rule.is_none_or(|r| f.rule == r) && owner.is_none_or(|o| f.owner_id == Some(o)))
        .collect();
    let name = |id: Option<UserId>| id.map_or("Nobody", |id| viewer.user_name(id));
    let owners: Vec<_> = caller
        .context
        .users
        .iter()
        .filter(|u| caller.access.can_read(u.id))
        .collect();
    html! {
        section.panel aria-labelledby="findings-heading" {
            h2 id="findings-heading" { "Findings" }
            form.filters method="get" action=(viewer.path("hygiene")) {
                label { "Rule"
                    select name="rule" {
                        option value="" { "Every rule" }
                        @for id in RuleId::ALL {
                            option value=(id) selected[rule == Some(*id)] { (rules.get(*id).description) }
                        }
                    }
                }
                label { "Owner"
                    select name="owner" {
                        option value="" { "Everyone" }
                        @for user in &owners {
                            option value=(user.id) selected[owner == Some(user.id)] { (user.name) }
                        }
                    }
                }
                button type="submit" { "Apply" }
            }
            p { (grouped(kept.len() as u64)) " findings"
                @if kept.len() > MOST_LISTED { "; the first " (MOST_LISTED) " are listed" } "." }
            table.sortable {
                thead { tr {
                    th scope="col" { "Record" } th scope="col" { "Owner" } th scope="col" { "Severity" }
                    th scope="col" { "What is wrong" } th scope="col" { "Fix" }
                } }
                tbody {
                    @for f in kept.iter().take(MOST_LISTED) {
                        tr {
                            td {
                                @if f.record_kind == RecordKind::Opportunity {
                                    a href=(viewer.path(&format!("deals/{}", f.record_id))) { (f.record_name) }
                                } @else {
                                    (f.record_name) " (" (f.record_kind.as_str()) ")"
                                }
                            }
                            td { (name(f.owner_id)) }
                            td { (f.severity.as_str()) }
                            td { (f.detail) }
                            td { (f.fix) }
                        }
                    }
                }
            }
        }
    }
}
