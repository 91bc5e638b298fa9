//! `GET /api/v1/workspaces/{workspace}/reports/{name}`: the reports of `pipewise report`,
//! as JSON, read from the resident projection.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use pipewise_analytics::reports::{
    self, Report, ReportError, ReportInputs, ReportName, ReportRequest,
};
use pipewise_analytics::{CoverageMode, Dimension, FunnelBenchmarks, SizeBands};
use pipewise_core::calendar::{Period, parse_date};
use pipewise_core::org::Workspace;
use pipewise_core::process::ProcessKey;
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Which report.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ReportPath {
    /// One of outcomes, pipeline, snapshots, conversion, time-in-stage, waterfall, velocity,
    /// loss-mix, coverage, diagnosis.
    name: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    period: Option<String>,
    as_of: Option<String>,
    since: Option<String>,
    process: Option<String>,
    mode: Option<String>,
    by: Option<String>,
    size_bands: Option<String>,
}

pub(crate) async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(ReportPath { name }): Path<ReportPath>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(
                &rejection.body_text(),
                "only the parameters period, as_of, since, process, mode, by and size_bands",
            )
            .at("query"),
        )
    })?;
    let name = ReportName::parse(&name).ok_or_else(|| ApiError::NotFound {
        what: "report",
        key: name.clone(),
    })?;
    let workspace = caller.workspace;
    let now = Utc::now();
    let mut fields = Fields::default();
    let period = fields.check_optional("period", query.period.as_deref(), str::parse::<Period>);
    let as_of = fields
        .check_optional("as_of", query.as_of.as_deref(), parse_date)
        .unwrap_or_else(|| now.date_naive());
    let since = fields.check_optional("since", query.since.as_deref(), parse_date);
    let process = fields.check_optional("process", query.process.as_deref(), ProcessKey::parse);
    let mode = fields
        .check_optional("mode", query.mode.as_deref(), parse_mode)
        .unwrap_or(CoverageMode::Enterprise);
    let by = fields
        .check_optional("by", query.by.as_deref(), parse_dimensions)
        .unwrap_or_default();
    let currency = workspace.corporate_currency;
    let bands = fields
        .check_optional("size_bands", query.size_bands.as_deref(), |text| {
            parse_bands(text, currency)
        })
        .unwrap_or_else(|| SizeBands::standard(currency));
    fields.finish()?;
    let request = ReportRequest {
        name,
        period,
        as_of,
        now,
        since,
        process,
        mode,
        by,
        bands,
    };
    let regions = request.by.contains(&Dimension::Region);
    let result = with_inputs(&state, &workspace, regions, move |inputs| {
        reports::run(&request, inputs)
    })
    .await?;
    result.map(Json).map_err(|e| {
        refused(e, |parameter| match parameter {
            "period" => query.period.clone(),
            "since" => query.since.clone(),
            "process" => query.process.clone(),
            "by" => query.by.clone(),
            _ => None,
        })
    })
}

/// Runs `work` on the workspace's resident projection and settings, off the async workers:
/// over a million deals it is a second of CPU.
pub(crate) async fn with_inputs<T: Send + 'static>(
    state: &AppState,
    workspace: &Workspace,
    regions: bool,
    work: impl FnOnce(&ReportInputs) -> Result<T, ReportError> + Send + 'static,
) -> Result<Result<T, ReportError>, ApiError> {
    let settings = if regions {
        Arc::new(pipewise_store::analytics::report_settings(&*state.store, workspace, true).await?)
    } else {
        state.directory.report_settings(workspace).await?
    };
    let projection = state.analytics.projection(workspace).await?;
    let workspace = workspace.clone();
    tokio::task::spawn_blocking(move || {
        let Some(projection) = projection.as_ref() else {
            return Err(ReportError::Request {
                parameter: "workspace",
                message: "its analytics are being rebuilt; try again".to_owned(),
            });
        };
        let benchmarks = FunnelBenchmarks::shipped();
        work(&settings.inputs(projection, &workspace, &benchmarks))
    })
    .await
    .map_err(|e| ApiError::Fault(format!("a report failed: {e}")))
}

/// A refused request as a problem naming the parameter and the value it was given
/// (`value` looks it up); an amount that cannot be converted as 422.
pub(crate) fn refused(error: ReportError, value: impl Fn(&str) -> Option<String>) -> ApiError {
    match error {
        ReportError::Request { parameter, message } => FieldErrors::from(
            InvalidValue::new(value(parameter).as_deref().unwrap_or(""), message).at(parameter),
        )
        .into(),
        ReportError::Conversion(e) => ApiError::Unprocessable(e.to_string()),
    }
}

fn parse_mode(text: &str) -> Result<CoverageMode, InvalidValue> {
    match text {
        "enterprise" => Ok(CoverageMode::Enterprise),
        "smb" => Ok(CoverageMode::Smb),
        _ => Err(InvalidValue::new(text, "enterprise or smb")),
    }
}

fn parse_dimensions(text: &str) -> Result<Vec<Dimension>, InvalidValue> {
    let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
    let expected = format!(
        "dimensions named once each, comma-separated, from {}",
        names.join(", ")
    );
    let mut dimensions = Vec::new();
    for name in text.split(',') {
        match Dimension::parse(name.trim()) {
            Some(d) if !dimensions.contains(&d) => dimensions.push(d),
            _ => return Err(InvalidValue::new(text, expected)),
        }
    }
    Ok(dimensions)
}

fn parse_bands(
    text: &str,
    currency: pipewise_core::money::Currency,
) -> Result<SizeBands, InvalidValue> {
    let expected =
        "lower bounds in whole units, comma-separated, rising, such as 10000,50000,250000";
    let bounds: Vec<i64> = text
        .split(',')
        .map(|b| b.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| InvalidValue::new(text, expected))?;
    SizeBands::from_major(&bounds, currency).map_err(|_| InvalidValue::new(text, expected))
}
