//! `GET /api/v1/workspaces/{workspace}/hygiene`: findings and scores, as `pipewise hygiene
//! --format json` prints them, limited to the records the caller may read.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{NaiveDate, Utc};
use pipewise_core::calendar::parse_date;
use pipewise_core::hygiene::{GroupScore, HygieneRules, Report};
use pipewise_core::ids::UserId;
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use pipewise_store::hygiene::{self, HygieneFailed};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Caller;
use crate::{ApiError, AppState};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HygieneQuery {
    /// `YYYY-MM-DD`: the day the rules look from; default today.
    as_of: Option<String>,
}

impl From<HygieneFailed> for ApiError {
    fn from(failed: HygieneFailed) -> Self {
        match failed {
            HygieneFailed::Store(error) => error.into(),
            HygieneFailed::AsOfBeforeLatestChange { as_of, latest } => FieldErrors::from(
                InvalidValue::new(
                    &as_of.to_string(),
                    format!("a day on or after {latest}, the workspace's latest change"),
                )
                .at("as_of"),
            )
            .into(),
        }
    }
}

/// The shipped rules run over the workspace; records out of the caller's reach are left out,
/// as are owners' scores; team scores stay (they are aggregates).
pub(crate) async fn hygiene(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<HygieneQuery>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(&rejection.body_text(), "only the parameter as_of").at("query"),
        )
    })?;
    let mut fields = Fields::default();
    let as_of = fields.check_optional("as_of", query.as_of.as_deref(), parse_date);
    fields.finish()?;
    let as_of = as_of.unwrap_or_else(|| Utc::now().date_naive());
    Ok(Json(visible_report(&state, &caller, as_of).await?))
}

/// The shipped rules run over the workspace as of `as_of`, keeping what the caller may read.
async fn visible_report(
    state: &AppState,
    caller: &Caller,
    as_of: NaiveDate,
) -> Result<Report, ApiError> {
    let report = hygiene::report(
        &*state.store,
        &caller.workspace,
        as_of,
        &HygieneRules::shipped(),
    )
    .await?;
    Ok(visible_to(&report, caller))
}

/// What of `report` the caller may read: records out of reach and the scores of owners out
/// of reach are left out; team scores stay (they are aggregates).
fn visible_to(report: &Report, caller: &Caller) -> Report {
    let visible = |owner: Option<UserId>| owner_visible(caller, owner);
    let mut report = report.clone();
    report.findings.retain(|f| visible(f.owner_id));
    report.deals.retain(|r| visible(r.owner_id));
    report.accounts.retain(|r| visible(r.owner_id));
    report.contacts.retain(|r| visible(r.owner_id));
    report.owners.retain(|g| group_visible(caller, g));
    report
}

/// Whether the caller may read a finding or a record's scores with this owner: one with no
/// owner, or an owner within reach.
pub(crate) fn owner_visible(caller: &Caller, owner: Option<UserId>) -> bool {
    owner.is_none_or(|o| caller.access.can_read(o))
}

/// Whether the caller may read an owner's scores; a group named by anything but a person
/// (team scores are aggregates) stays.
pub(crate) fn group_visible(caller: &Caller, group: &GroupScore) -> bool {
    owner_visible(caller, group.id.parse::<UserId>().ok())
}
