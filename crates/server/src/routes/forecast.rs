//! `GET /api/v1/workspaces/{workspace}/forecast`: the period's forecast by four methods, as
//! `pipewise forecast --format json` prints it, read from the resident projection.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use pipewise_analytics::forecast::{
    self, BacktestReport, BacktestRequest, ForecastReport, ForecastRequest,
};
use pipewise_analytics::reports::end_of;
use pipewise_core::calendar::{Period, parse_date};
use pipewise_core::forecast::Submission;
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use serde::Deserialize;

use crate::routes::opportunities::workspace;
use crate::routes::reports::{refused, with_inputs};
use crate::{ApiError, AppState};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForecastQuery {
    period: Option<String>,
    as_of: Option<String>,
}

pub(crate) async fn forecast(
    State(state): State<AppState>,
    Path(slug): Path<String>,
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
    let workspace = workspace(&state, &slug).await?;
    let now = Utc::now();
    let mut fields = Fields::default();
    let period = fields.check_optional("period", query.period.as_deref(), str::parse::<Period>);
    let as_of = fields
        .check_optional("as_of", query.as_of.as_deref(), parse_date)
        .unwrap_or_else(|| now.date_naive());
    fields.finish()?;
    let request = ForecastRequest { period, as_of, now };
    let submissions: Vec<Submission> = state
        .store
        .submissions(workspace.id, request.period_in(workspace.fiscal_calendar))
        .await?
        .into_iter()
        .filter(|s| s.submitted_at <= end_of(as_of))
        .collect();
    let result = with_inputs(&state, &workspace, false, move |inputs| {
        forecast::run(&request, inputs, &submissions)
    })
    .await?;
    result.map(Json).map_err(|e| {
        refused(e, |p| {
            (p == "period").then(|| query.period.clone()).flatten()
        })
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BacktestQuery {
    periods: Option<String>,
    as_of: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/forecast/backtest`: every method replayed week by week
/// over past quarters, as `pipewise forecast backtest --format json` prints it.
pub(crate) async fn backtest(
    State(state): State<AppState>,
    Path(slug): Path<String>,
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
    let workspace = workspace(&state, &slug).await?;
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
    let mut submissions = Vec::new();
    for period in request.quarters(workspace.fiscal_calendar) {
        submissions.extend(state.store.submissions(workspace.id, period).await?);
    }
    let result = with_inputs(&state, &workspace, false, move |inputs| {
        forecast::backtest(&request, inputs, &submissions)
    })
    .await?;
    result.map(Json).map_err(|e| refused(e, |_| None))
}
