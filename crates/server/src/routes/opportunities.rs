//! Reading deals: a paginated list of those the caller may see, and one deal with its event
//! history and its version as the ETag.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use pipewise_core::ids::OpportunityId;
use pipewise_core::opportunity::{Opportunity, OpportunityEvent};
use pipewise_core::process::{ForecastCategory, ProcessSet};
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use pipewise_store::PageRequest;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IdPath;
use crate::auth::Caller;
use crate::versioning::Versioned;
use crate::{ApiError, AppState};

/// Page size when none is asked for.
const DEFAULT_LIMIT: u32 = 50;
/// Largest page a client may ask for.
const MAX_LIMIT: u32 = 200;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
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

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListResponse {
    items: Vec<OpportunityView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ShowResponse {
    opportunity: OpportunityView,
    events: Vec<OpportunityEvent>,
}

/// `GET /api/v1/workspaces/{workspace}/opportunities?cursor=&limit=`: deals in creation order.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ListResponse>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(
                &rejection.body_text(),
                "only the parameters cursor and limit",
            )
            .at("query"),
        )
    })?;
    let mut fields = Fields::default();
    let after = fields.check_optional("cursor", query.cursor.as_deref(), |s| {
        s.parse::<OpportunityId>()
    });
    let limit = fields
        .check_optional("limit", query.limit.as_deref(), parse_limit)
        .unwrap_or(DEFAULT_LIMIT);
    fields.finish()?;
    let workspace = &caller.workspace;
    let owners = caller.access.readable_owners();
    let page = state
        .store
        .opportunities(
            workspace.id,
            PageRequest { after, limit },
            owners.as_deref(),
        )
        .await?;
    let process_set = &caller.context.processes;
    Ok(Json(ListResponse {
        items: page
            .items
            .into_iter()
            .map(|o| OpportunityView::new(o, process_set))
            .collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

/// `GET /api/v1/workspaces/{workspace}/opportunities/{id}`: one deal and its events.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Versioned<ShowResponse>, ApiError> {
    let id: OpportunityId = path.parse()?;
    let workspace = &caller.workspace;
    let opportunity = state.store.opportunity(workspace.id, id).await?;
    // A deal out of reach is as good as absent: its existence is not confirmed.
    if !caller.access.can_read(opportunity.owner_id) {
        return Err(ApiError::NotFound {
            what: "opportunity",
            key: id.to_string(),
        });
    }
    let events = state.store.opportunity_events(workspace.id, id).await?;
    let process_set = &caller.context.processes;
    Ok(Versioned {
        version: opportunity.version,
        location: None,
        body: ShowResponse {
            opportunity: OpportunityView::new(opportunity, process_set),
            events,
        },
    })
}

fn parse_limit(text: &str) -> Result<u32, InvalidValue> {
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| InvalidValue::new(text, format!("a whole number from 1 to {MAX_LIMIT}")))
}
