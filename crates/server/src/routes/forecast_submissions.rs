//! What people add to a forecast: a rep's call on their deals, a manager's adjustment of
//! someone's number, and a snapshot taken on demand. All are kept as history with who and
//! when; the rules are in `pipewise_core::forecast` and `pipewise_store::forecasts`.

use axum::extract::State;
use chrono::Utc;
use pipewise_analytics::forecast::{ForecastRequest, Listed, Snapshot};
use pipewise_core::calendar::Period;
use pipewise_core::forecast::{CallLine, Submission};
use pipewise_core::ids::{OpportunityId, SnapshotId, UserId};
use pipewise_core::money::Money;
use pipewise_core::text::Note;
use pipewise_core::validation::Fields;
use pipewise_store::forecasts::{self, SubmitFailed};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::responses::Created;
use crate::routes::forecast_report;
use crate::routes::reports::refused;
use crate::{ApiError, AppState};

impl From<SubmitFailed> for ApiError {
    fn from(failed: SubmitFailed) -> Self {
        match failed {
            SubmitFailed::Invalid(errors) => errors.into(),
            SubmitFailed::Store(error) => error.into(),
        }
    }
}

/// One deal of a call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallLineBody {
    opportunity_id: Option<String>,
    /// In the number, or out of it.
    include: Option<bool>,
    /// Why: a Commit deal's timing risk, a Best Case deal's vendor and timing risk. Needed
    /// when leaving out a Commit deal or putting in a Best Case one.
    note: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallBody {
    /// `2026-Q3`, `FY2026` or `2026-07`.
    period: Option<String>,
    /// Whose call; defaults to the caller. A manager may enter one for someone below them.
    rep_id: Option<String>,
    #[serde(default)]
    lines: Vec<CallLineBody>,
}

/// `POST …/forecast/calls`: a rep's call on their open deals due in the period.
pub(crate) async fn call(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CallBody>,
) -> Result<Created<Submission>, ApiError> {
    let mut fields = Fields::default();
    let period = fields.require("period", body.period.as_deref(), str::parse::<Period>);
    let rep = fields
        .check_optional("rep_id", body.rep_id.as_deref(), str::parse::<UserId>)
        .unwrap_or(caller.user.id);
    let lines: Vec<Option<CallLine>> = body
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let at = |field: &str| format!("lines[{i}].{field}");
            let id = fields.require(
                &at("opportunity_id"),
                line.opportunity_id.as_deref(),
                str::parse::<OpportunityId>,
            );
            let note = fields.check_optional(&at("note"), line.note.as_deref(), Note::parse);
            Some(CallLine {
                opportunity_id: id?,
                include: line.include.unwrap_or(true),
                note,
            })
        })
        .collect();
    let (period, lines) =
        fields.build(|| Some((period?, lines.into_iter().collect::<Option<_>>()?)))?;
    caller.access.check_edit(rep)?;
    let submission = forecasts::call(
        &*state.store,
        &caller.workspace,
        period,
        rep,
        lines,
        caller.user.id,
        Utc::now(),
    )
    .await?;
    Ok(Created(submission))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdjustmentBody {
    period: Option<String>,
    /// Whose number: someone below the caller.
    subject_id: Option<String>,
    /// The number the manager puts instead, in major units of the corporate currency
    /// (`"1250000.00"`).
    amount: Option<String>,
    /// Why.
    note: Option<String>,
}

/// `POST …/forecast/adjustments`: a manager's adjustment of someone's number below them.
pub(crate) async fn adjust(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<AdjustmentBody>,
) -> Result<Created<Submission>, ApiError> {
    let currency = caller.workspace.corporate_currency;
    let mut fields = Fields::default();
    let period = fields.require("period", body.period.as_deref(), str::parse::<Period>);
    let subject = fields.require(
        "subject_id",
        body.subject_id.as_deref(),
        str::parse::<UserId>,
    );
    let amount = fields.require("amount", body.amount.as_deref(), |text| {
        Money::parse_non_negative(text, currency)
    });
    let note = fields.require("note", body.note.as_deref(), Note::parse);
    let (period, subject, amount, note) =
        fields.build(|| Some((period?, subject?, amount?, note?)))?;
    caller.access.check_edit(subject)?;
    let submission = forecasts::adjust(
        &*state.store,
        &caller.workspace,
        period,
        subject,
        amount,
        note,
        caller.user.id,
        Utc::now(),
    )
    .await?;
    Ok(Created(submission))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotBody {
    /// Defaults to the quarter holding today.
    period: Option<String>,
}

/// `POST …/forecast/snapshots`: freezes the period's forecast as it stands now.
pub(crate) async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SnapshotBody>,
) -> Result<Created<Listed>, ApiError> {
    caller.access.check_writer()?;
    let mut fields = Fields::default();
    let period = fields.check_optional("period", body.period.as_deref(), str::parse::<Period>);
    fields.finish()?;
    let now = Utc::now();
    let request = ForecastRequest {
        period,
        as_of: now.date_naive(),
        now,
    };
    let report = forecast_report(&state, &caller.workspace, request)
        .await?
        .map_err(|e| {
            refused(e, |p| {
                (p == "period").then(|| body.period.clone()).flatten()
            })
        })?;
    let snapshot = Snapshot::of(&report, now);
    let id = SnapshotId::generate();
    state
        .store
        .record_snapshot(caller.workspace.id, id, &snapshot)
        .await?;
    Ok(Created(Listed { id, snapshot }))
}
