//! `GET /api/v1/workspaces/{workspace}/forecast`: the period's forecast by four methods, as
//! `pipewise forecast --format json` prints it, read from the resident projection.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::Utc;
use pipewise_analytics::forecast::{
    self, BacktestReport, BacktestRequest, Comparison, ForecastReport, ForecastRequest, Listed,
};
use pipewise_analytics::reports::ReportError;
use pipewise_core::calendar::{Period, parse_date};
use pipewise_core::ids::SnapshotId;
use pipewise_core::org::Workspace;
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Caller;
use crate::routes::reports::{refused, with_inputs};
use crate::{ApiError, AppState};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForecastQuery {
    period: Option<String>,
    as_of: Option<String>,
}

pub(crate) async fn forecast(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ForecastQuery>, QueryRejection>,
) -> Result<Json<ForecastReport>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(
                &rejection.body_text(),
                "only the parameters period and as_of",
            )
            .at("query"),
        )
    })?;
    let workspace = &caller.workspace;
    let now = Utc::now();
    let mut fields = Fields::default();
    let period = fields.check_optional("period", query.period.as_deref(), str::parse::<Period>);
    let as_of = fields
        .check_optional("as_of", query.as_of.as_deref(), parse_date)
        .unwrap_or_else(|| now.date_naive());
    fields.finish()?;
    let request = ForecastRequest { period, as_of, now };
    let mut report = forecast_report(&state, workspace, request)
        .await?
        .map_err(|e| {
            refused(e, |p| {
                (p == "period").then(|| query.period.clone()).flatten()
            })
        })?;
    // The numbers are the workspace's; the deals listed are those the caller may read.
    report
        .deals
        .retain(|deal| caller.access.can_read(deal.owner_id));
    Ok(Json(report))
}

/// The forecast of `request` from the resident projection and the calls and adjustments
/// submitted by the end of its as-of day.
pub(crate) async fn forecast_report(
    state: &AppState,
    workspace: &Workspace,
    request: ForecastRequest,
) -> Result<Result<ForecastReport, ReportError>, ApiError> {
    let submissions =
        pipewise_store::forecasts::submitted_for(&*state.store, workspace, &request).await?;
    with_inputs(state, workspace, false, move |inputs| {
        forecast::run(&request, inputs, &submissions)
    })
    .await
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotsQuery {
    period: Option<String>,
}

/// `GET …/forecast/snapshots?period=`: the period's snapshots, oldest first.
pub(crate) async fn snapshots(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SnapshotsQuery>, QueryRejection>,
) -> Result<Json<Vec<Listed>>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(&rejection.body_text(), "only the parameter period").at("query"),
        )
    })?;
    let workspace = caller.workspace;
    let mut fields = Fields::default();
    let period = fields.check_optional("period", query.period.as_deref(), str::parse::<Period>);
    fields.finish()?;
    let period = period.unwrap_or_else(|| {
        workspace
            .fiscal_calendar
            .quarter_of(Utc::now().date_naive())
    });
    let snapshots = state.store.snapshots(workspace.id, period).await?;
    Ok(Json(
        snapshots
            .into_iter()
            .map(|(id, snapshot)| Listed { id, snapshot })
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompareQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET …/forecast/snapshots/compare?from=&to=`: what moved between two snapshots.
pub(crate) async fn compare(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<CompareQuery>, QueryRejection>,
) -> Result<Json<Comparison>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(&rejection.body_text(), "only the parameters from and to")
                .at("query"),
        )
    })?;
    let workspace = caller.workspace;
    let mut fields = Fields::default();
    let from = fields.require("from", query.from.as_deref(), str::parse::<SnapshotId>);
    let to = fields.require("to", query.to.as_deref(), str::parse::<SnapshotId>);
    let (from, to) = fields.build(|| Some((from?, to?)))?;
    let earlier = state.store.snapshot(workspace.id, from).await?;
    let later = state.store.snapshot(workspace.id, to).await?;
    if earlier.period != later.period {
        return Err(FieldErrors::from(
            InvalidValue::new(
                &to.to_string(),
                format!(
                    "a snapshot of {} like `from`; this one is of {}",
                    earlier.period, later.period
                ),
            )
            .at("to"),
        )
        .into());
    }
    Ok(Json(forecast::compare(&earlier, &later)))
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BacktestQuery {
    periods: Option<String>,
    as_of: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/forecast/backtest`: every method replayed week by week
/// over past quarters, as `pipewise forecast backtest --format json` prints it.
pub(crate) async fn backtest(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<BacktestQuery>, QueryRejection>,
) -> Result<Json<BacktestReport>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(
                &rejection.body_text(),
                "only the parameters periods and as_of",
            )
            .at("query"),
        )
    })?;
    let workspace = caller.workspace;
    let now = Utc::now();
    let mut fields = Fields::default();
    let periods = fields
        .check_optional("periods", query.periods.as_deref(), |text| {
            text.parse::<usize>()
                .ok()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| InvalidValue::new(text, "a number of quarters from 1 to 20"))
        })
        .unwrap_or(4);
    let as_of = fields
        .check_optional("as_of", query.as_of.as_deref(), parse_date)
        .unwrap_or_else(|| now.date_naive());
    fields.finish()?;
    let request = BacktestRequest {
        periods,
        as_of,
        now,
    };
    Ok(Json(backtest_report(&state, &workspace, request).await?))
}

/// Every method replayed week by week over the quarters `request` names, with the calls
/// submitted in them.
pub(crate) async fn backtest_report(
    state: &AppState,
    workspace: &Workspace,
    request: BacktestRequest,
) -> Result<BacktestReport, ApiError> {
    let quarters = request.quarters(workspace.fiscal_calendar);
    let submissions =
        pipewise_store::forecasts::submitted_in(&*state.store, workspace, &quarters).await?;
    with_inputs(state, workspace, false, move |inputs| {
        forecast::backtest(&request, inputs, &submissions)
    })
    .await?
    .map_err(|e| refused(e, |_| None))
}
