//! The pipeline board: a column per buyer stage with its count and amount, and a card per
//! open deal. Cards are dragged, or moved with their "Move…" button and the stage chosen in
//! the board's move dialog, by the page's script through `POST …/opportunities/{id}/moves`;
//! a refused move shows the unmet criteria on the card. The column totals come from the
//! resident analytics, the cards from the store.

use std::collections::{HashMap, HashSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use pipewise_analytics::{OpenFilter, Tally};
use pipewise_core::calendar::{DateRange, Period};
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::hygiene::Finding;
use pipewise_core::ids::{TeamId, UserId};
use pipewise_core::money::Money;
use pipewise_core::opportunity::Status;
use pipewise_core::process::{ForecastCategory, Process, ProcessKey, StageKey};
use pipewise_core::validation::{Fields, InvalidValue};
use pipewise_store::{DealCard, DealFilter, DealOrder, PageRequest};
use serde::Deserialize;

use super::findings;
use super::format::{category, date, grouped, money};
use super::layout::{self, Section};
use super::viewer::{PageError, Viewer};
use crate::routes::lists;
use crate::{ApiError, AppState};

/// Cards drawn at most; the column totals count every deal the filters keep.
const MOST_CARDS: usize = 5_000;
/// Hygiene findings written out on a card; the deal room lists them all with their fixes.
const FLAGS_SHOWN: usize = 2;
/// Deals read from the store per query.
const READ_PAGE: u32 = 1_000;

/// The board's filters, all optional; an empty value is no filter.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct BoardQuery {
    process: Option<String>,
    owner: Option<String>,
    team: Option<String>,
    segment: Option<String>,
    category: Option<String>,
    period: Option<String>,
}

/// The filters, checked.
struct Filters {
    process: ProcessKey,
    owner: Option<UserId>,
    team: Option<TeamId>,
    segment: Option<String>,
    category: Option<ForecastCategory>,
    period: Option<Period>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /app/{workspace}/board`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Html<String>, PageError> {
    let query = lists::query(query, "process, owner, team, segment, category and period")?;
    let caller = &viewer.0;
    let processes = &caller.context.processes;
    let mut fields = Fields::default();
    let process = fields
        .check_optional("process", given(&query.process), |text| {
            processes
                .processes()
                .iter()
                .find(|p| p.key.as_str() == text)
                .map(|p| p.key.clone())
                .ok_or_else(|| InvalidValue::new(text, "a process of the workspace"))
        })
        .unwrap_or_else(|| processes.default_process().key.clone());
    let filters = Filters {
        process,
        owner: fields.check_optional("owner", given(&query.owner), str::parse::<UserId>),
        team: fields.check_optional("team", given(&query.team), str::parse::<TeamId>),
        segment: given(&query.segment).map(str::to_owned),
        category: fields.check_optional(
            "category",
            given(&query.category),
            str::parse::<ForecastCategory>,
        ),
        period: fields.check_optional("period", given(&query.period), str::parse::<Period>),
    };
    fields.finish()?;
    let owners = owners(caller, &filters);
    let rates = ExchangeRates::with(
        caller.workspace.corporate_currency,
        &state.store.exchange_rates(caller.workspace.id).await?,
    );
    let today = Utc::now().date_naive();
    let closing = filters
        .period
        .map(|p| caller.workspace.fiscal_calendar.range(p));
    let totals = column_totals(
        &state,
        caller,
        &filters,
        closing,
        owners.as_ref(),
        &rates,
        today,
    )
    .await?;
    let cards = soonest_deals(&state, caller, &filters, closing, owners).await?;
    let teams = state.store.teams(caller.workspace.id).await?;
    let shown: HashSet<String> = cards.iter().map(|d| d.id.to_string()).collect();
    let flags = findings::by_deal(&state.hygiene, caller, &shown);
    let process = processes.process_of(&filters.process);
    let board = Board {
        viewer: &viewer,
        process,
        totals: &totals,
        cards: &cards,
        rates: &rates,
        today,
        flags: flags.as_ref(),
    };
    let content = html! {
        h1 { "Pipeline board" }
        (filter_form(&viewer, &filters, &teams))
        (board.render())
    };
    Ok(Html(
        layout::page(&viewer, Section::Board, "Pipeline board", content).into_string(),
    ))
}

/// The owners whose deals the board shows: those within the viewer's reach, narrowed to the
/// owner or the team asked for; `None` for everyone's.
fn owners(caller: &crate::auth::Caller, filters: &Filters) -> Option<Vec<UserId>> {
    let team_members: Option<Vec<UserId>> = filters.team.map(|team| {
        caller
            .context
            .users
            .iter()
            .filter(|u| u.team_id == Some(team))
            .map(|u| u.id)
            .collect()
    });
    let owners = caller.access.owners_within_reach(filters.owner);
    match team_members {
        Some(members) => Some(match owners {
            Some(owners) => owners.into_iter().filter(|o| members.contains(o)).collect(),
            None => members,
        }),
        None => owners,
    }
}

/// Every open deal the filters keep, counted by stage with its amount in the corporate
/// currency, from the resident analytics: at scale the board totals tens of thousands of
/// deals and draws only the soonest due.
async fn column_totals(
    state: &AppState,
    caller: &crate::auth::Caller,
    filters: &Filters,
    closing: Option<DateRange>,
    owners: Option<&Vec<UserId>>,
    rates: &ExchangeRates,
    today: NaiveDate,
) -> Result<HashMap<StageKey, Tally>, PageError> {
    let projection = state.analytics.projection(&caller.workspace).await?;
    let Some(projection) = projection.as_ref() else {
        let rebuilding = "the workspace's analytics are being rebuilt; reload in a moment";
        return Err(ApiError::Conflict(rebuilding.to_owned()).into());
    };
    let owners: Option<HashSet<UserId>> = owners.map(|o| o.iter().copied().collect());
    let filter = OpenFilter {
        process: &filters.process,
        owners: owners.as_ref(),
        closing,
        segment: filters.segment.as_deref(),
        category: filters.category,
    };
    Ok(projection.open_by_stage(&filter, |money| corporate(rates, money, today)))
}

/// The open deals of the process the filters keep, within the viewer's reach, the soonest
/// due first: at most [`MOST_CARDS`].
async fn soonest_deals(
    state: &AppState,
    caller: &crate::auth::Caller,
    filters: &Filters,
    closing: Option<DateRange>,
    owners: Option<Vec<UserId>>,
) -> Result<Vec<DealCard>, PageError> {
    let filter = DealFilter {
        owners,
        stage: None,
        status: Some(Status::Open),
        closing,
        order: DealOrder::CloseDate,
    };
    let process = caller.context.processes.process_of(&filters.process);
    let mut kept = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .deal_cards(
                caller.workspace.id,
                PageRequest {
                    after,
                    limit: READ_PAGE,
                },
                &filter,
            )
            .await?;
        kept.extend(page.items.into_iter().filter(|deal| {
            deal.process == filters.process
                && filters
                    .segment
                    .as_deref()
                    .is_none_or(|s| deal.segment.as_ref().is_some_and(|d| d.as_str() == s))
                && filters
                    .category
                    .is_none_or(|c| deal.forecast_category(process) == c)
        }));
        match page.next_after {
            Some(next) if kept.len() < MOST_CARDS => after = Some(next),
            _ => {
                kept.truncate(MOST_CARDS);
                return Ok(kept);
            }
        }
    }
}

/// An amount in the corporate currency; 0 without a rate.
fn corporate(rates: &ExchangeRates, money: Money, today: NaiveDate) -> i64 {
    rates.convert(money, today).unwrap_or(0)
}

fn filter_form(viewer: &Viewer, filters: &Filters, teams: &[pipewise_core::org::Team]) -> Markup {
    let caller = &viewer.0;
    let processes = caller.context.processes.processes();
    let owners = caller
        .context
        .users
        .iter()
        .filter(|u| caller.access.can_read(u.id));
    let selected = |on: bool| on.then_some("selected");
    let categories = [
        ForecastCategory::Pipeline,
        ForecastCategory::BestCase,
        ForecastCategory::Commit,
    ];
    html! {
        form.filters method="get" action=(viewer.path("board")) {
            @if processes.len() > 1 {
                label { "Process"
                    select name="process" {
                        @for p in processes {
                            option value=(p.key) selected=[selected(p.key == filters.process)] { (p.name) }
                        }
                    }
                }
            }
            label { "Owner"
                select name="owner" {
                    option value="" { "Everyone" }
                    @for user in owners {
                        option value=(user.id) selected=[selected(filters.owner == Some(user.id))] { (user.name) }
                    }
                }
            }
            label { "Team"
                select name="team" {
                    option value="" { "Every team" }
                    @for team in teams {
                        option value=(team.id) selected=[selected(filters.team == Some(team.id))] { (team.name) }
                    }
                }
            }
            label { "Segment"
                input name="segment" value=[filters.segment.as_deref()] placeholder="Any";
            }
            label { "Category"
                select name="category" {
                    option value="" { "Any" }
                    @for c in categories {
                        option value=(c.as_str()) selected=[selected(filters.category == Some(c))] { (category(c)) }
                    }
                }
            }
            label { "Closing in"
                input name="period" value=[filters.period.map(|p| p.to_string())] placeholder="2026-Q4, FY2026 or 2026-11";
            }
            button type="submit" { "Apply" }
        }
    }
}

struct Board<'a> {
    viewer: &'a Viewer,
    process: &'a Process,
    /// Every deal the filters keep, by stage.
    totals: &'a HashMap<StageKey, Tally>,
    /// The soonest due of them.
    cards: &'a [DealCard],
    rates: &'a ExchangeRates,
    today: NaiveDate,
    /// `None` until the workspace's first hygiene report is worked out.
    flags: Option<&'a HashMap<String, Vec<Finding>>>,
}

impl Board<'_> {
    fn render(&self) -> Markup {
        let currency = self.rates.corporate();
        let names: HashMap<UserId, &str> = self
            .viewer
            .0
            .context
            .users
            .iter()
            .map(|u| (u.id, u.name.as_str()))
            .collect();
        let kept: u64 = self.totals.values().map(|t| t.count).sum();
        html! {
            @if kept > self.cards.len() as u64 {
                p.note { "Showing the " (grouped(self.cards.len() as u64)) " deals closing soonest of "
                    (grouped(kept)) "; the totals count them all. Narrow the filters to see the rest." }
            }
            @if self.flags.is_none() {
                p.note { "Hygiene flags appear on the cards once the rules have run over the workspace; reload in a moment." }
            }
            div.board data-currency=(currency.code()) data-minor-digits=(currency.minor_digits()) {
                @for stage in self.process.stages() {
                    @let in_stage = self.totals.get(&stage.key).copied().unwrap_or_default();
                    @let cards = self.cards.iter().filter(|d| d.stage == stage.key);
                    @let heading = format!("column-{}", stage.key);
                    section.column data-stage=(stage.key) aria-labelledby=(heading) {
                        header {
                            h2 id=(heading) { (stage.name) }
                            p.totals {
                                span data-count=(in_stage.count) { (grouped(in_stage.count)) } (if in_stage.count == 1 { " deal · " } else { " deals · " })
                                span data-total=(in_stage.amount) { (money(in_stage.amount, currency)) }
                            }
                        }
                        div.cards data-drop=(stage.key) {
                            @for deal in cards {
                                (self.card(deal, &names))
                            }
                        }
                    }
                }
            }
            @if self.viewer.0.access.check_writer().is_ok() {
                dialog #move-dialog aria-labelledby="move-dialog-heading" {
                    form method="dialog" {
                        h2 #move-dialog-heading { "Move a deal" }
                        label for="move-stage" { "Move " span data-name {} " to" }
                        select #move-stage {}
                        div.actions {
                            button type="submit" value="move" { "Move" }
                            button type="submit" value="cancel" { "Cancel" }
                        }
                    }
                }
            }
        }
    }

    fn card(&self, deal: &DealCard, names: &HashMap<UserId, &str>) -> Markup {
        let id = deal.id.to_string();
        let name_id = format!("deal-{id}-name");
        let can_move = self.viewer.0.access.check_edit(deal.owner_id).is_ok();
        let flags = self
            .flags
            .and_then(|f| f.get(&id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let category = deal.forecast_category(self.process);
        html! {
            article.card id={ "deal-" (id) } data-deal=(id) data-version=(deal.version)
                data-amount=(deal.amount.map_or(0, |m| corporate(self.rates, m, self.today))) draggable=[can_move.then_some("true")]
                aria-labelledby=(name_id) {
                h3 id=(name_id) { a href=(self.viewer.path(&format!("deals/{id}"))) { (deal.name) } }
                p.meta {
                    (names.get(&deal.owner_id).copied().unwrap_or("Former user"))
                    " · " span.category data-category=(category.as_str()) { (self::category(category)) }
                }
                p {
                    strong { (deal.amount.map_or_else(|| "No amount".to_owned(), |m| money(m.minor, m.currency))) }
                    " · closes " (date(deal.close_date))
                }
                @if !flags.is_empty() {
                    ul.flags aria-label="Hygiene" {
                        @for finding in flags.iter().take(FLAGS_SHOWN) {
                            li class={ "flag " (finding.severity.as_str()) } { (finding.detail) }
                        }
                        @if flags.len() > FLAGS_SHOWN {
                            li.flag { "and " (flags.len() - FLAGS_SHOWN) " more in the deal room" }
                        }
                    }
                }
                @if can_move {
                    // One dialog for the whole board holds the stages to choose from:
                    // thousands of cards would otherwise each carry a list of them.
                    button.move type="button" data-action="choose" aria-haspopup="dialog"
                        aria-describedby=(name_id) { "Move…" }
                }
                div.problem role="alert" {}
            }
        }
    }
}
