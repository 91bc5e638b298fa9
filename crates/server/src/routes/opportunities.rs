//! Reading deals: a paginated list of those the caller may see, one deal with its version as
//! the ETag, and its history of changes.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use pipewise_core::calendar::{DateRange, parse_date};
use pipewise_core::ids::{OpportunityId, UserId};
use pipewise_core::opportunity::{Opportunity, OpportunityEvent, Status};
use pipewise_core::process::{ForecastCategory, ProcessSet};
use pipewise_core::validation::{Fields, InvalidValue};
use pipewise_store::{DealFilter, DealOrder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IdPath;
use super::lists::{self, ListPage};
use crate::auth::Caller;
use crate::versioning::Versioned;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200; default 50.
    limit: Option<String>,
    /// Only this owner's deals.
    owner_id: Option<String>,
    /// Only deals in this stage (open, or closed from it).
    stage: Option<String>,
    /// `open`, `won` or `lost`.
    status: Option<String>,
    /// Only deals closing on or after this day (`YYYY-MM-DD`).
    closing_from: Option<String>,
    /// Only deals closing on or before this day.
    closing_to: Option<String>,
    /// `created` (the default), `close_date`, or either with `-` for the reverse order:
    /// `-created` is newest first.
    sort: Option<String>,
}

/// An opportunity as the API shows it: its stored fields plus its forecast category.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct OpportunityView {
    #[serde(flatten)]
    opportunity: Opportunity,
    forecast_category: ForecastCategory,
}

impl OpportunityView {
    pub(crate) fn new(opportunity: Opportunity, processes: &ProcessSet) -> Self {
        let process = processes.process_of(&opportunity.process);
        Self {
            forecast_category: opportunity.forecast_category(process),
            opportunity,
        }
    }
}

/// `GET /api/v1/workspaces/{workspace}/opportunities`: the deals the caller may read that
/// the filters keep, in creation order.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ListPage<OpportunityView>>, ApiError> {
    let query = lists::query(
        query,
        "cursor, limit, owner_id, stage, status, closing_from, closing_to and sort",
    )?;
    let mut fields = Fields::default();
    let page = lists::page(&mut fields, query.cursor.as_deref(), query.limit.as_deref());
    let process_set = &caller.context.processes;
    let owner = fields.check_optional("owner_id", query.owner_id.as_deref(), str::parse::<UserId>);
    let stage = fields.check_optional("stage", query.stage.as_deref(), |s| {
        process_set
            .processes()
            .iter()
            .find_map(|p| p.parse_stage(s).ok())
            .ok_or_else(|| InvalidValue::new(s, "a stage of one of the workspace's processes"))
    });
    let status = fields.check_optional("status", query.status.as_deref(), str::parse::<Status>);
    let from = fields.check_optional("closing_from", query.closing_from.as_deref(), parse_date);
    let to = fields.check_optional("closing_to", query.closing_to.as_deref(), parse_date);
    let order = fields
        .check_optional("sort", query.sort.as_deref(), parse_order)
        .unwrap_or_default();
    fields.finish()?;
    let owners = caller.access.owners_within_reach(owner);
    let closing = (from.is_some() || to.is_some()).then(|| DateRange {
        start: from.unwrap_or(NaiveDate::MIN),
        end: to.and_then(|d| d.succ_opt()).unwrap_or(NaiveDate::MAX),
    });
    let filter = DealFilter {
        owners,
        stage,
        status,
        closing,
        order,
    };
    let page = state
        .store
        .opportunities(caller.workspace.id, page, &filter)
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|o| OpportunityView::new(o, process_set))
        .collect();
    Ok(Json(ListPage::new(items, page.next_after)))
}

/// `GET /api/v1/workspaces/{workspace}/opportunities/{id}`: one deal, with its version as the
/// ETag.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    let opportunity = readable(&state, &caller, &path).await?;
    Ok(Versioned {
        version: opportunity.version,
        location: None,
        body: OpportunityView::new(opportunity, &caller.context.processes),
    })
}

/// `GET /api/v1/workspaces/{workspace}/opportunities/{id}/history`: every change to the deal,
/// oldest first, each with who made it and when.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Vec<OpportunityEvent>>, ApiError> {
    let opportunity = readable(&state, &caller, &path).await?;
    Ok(Json(
        state
            .store
            .opportunity_events(caller.workspace.id, opportunity.id)
            .await?,
    ))
}

/// The deal the path names, if the caller may read it: one out of reach is as good as
/// absent, so its existence is not confirmed.
async fn readable(
    state: &AppState,
    caller: &Caller,
    path: &IdPath,
) -> Result<Opportunity, ApiError> {
    let id: OpportunityId = path.parse()?;
    let opportunity = state.store.opportunity(caller.workspace.id, id).await?;
    if !caller.access.can_read(opportunity.owner_id) {
        return Err(ApiError::NotFound {
            what: "opportunity",
            key: id.to_string(),
        });
    }
    Ok(opportunity)
}

fn parse_order(text: &str) -> Result<DealOrder, InvalidValue> {
    match text {
        "created" => Ok(DealOrder::Created),
        "-created" => Ok(DealOrder::CreatedDescending),
        "close_date" => Ok(DealOrder::CloseDate),
        "-close_date" => Ok(DealOrder::CloseDateDescending),
        _ => Err(InvalidValue::new(
            text,
            "one of created, -created, close_date, -close_date",
        )),
    }
}
