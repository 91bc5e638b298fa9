//! Targets: quotas and plan numbers per person, team or the whole company, per fiscal
//! period. A person's quota is read by those who reach them; team and company numbers by
//! everyone. Only the roles allowed to set quotas write them.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use pipewise_core::access::Action;
use pipewise_core::calendar::Period;
use pipewise_core::crm::edits::TargetFields;
use pipewise_core::crm::{Target, TargetOwner};
use pipewise_core::ids::TargetId;
use pipewise_core::validation::{FieldErrors, Fields};
use pipewise_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::lists;
use super::records::{BoxFuture, Editable, decided, record_kind};
use crate::auth::Caller;
use crate::{ApiError, AppState};

impl Editable for Target {
    record_kind!(Target, TargetId, TargetFields, "targets", target);

    fn readable(&self, caller: &Caller) -> bool {
        match self.owner {
            TargetOwner::User(user) => caller.access.can_read(user),
            TargetOwner::Team(_) | TargetOwner::Workspace => true,
        }
    }

    fn check_write<'a>(
        caller: &'a Caller,
        _: &'a dyn Store,
        _: Option<&'a Self>,
        _: Option<&'a Self>,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        decided(caller.access.check_action(Action::SetQuotas))
    }

    fn create(fields: &TargetFields, caller: &Caller) -> Result<Self, FieldErrors> {
        fields.create(TargetId::generate(), caller.workspace.corporate_currency)
    }

    fn change(fields: &TargetFields, current: &Self) -> Result<Self, FieldErrors> {
        fields.change(current)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetQuery {
    /// Only the targets of this fiscal period, such as `2026-Q3`.
    period: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/targets`: every target the caller may read, by id.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<TargetQuery>, QueryRejection>,
) -> Result<Json<Vec<Target>>, ApiError> {
    let query = lists::query(query, "period")?;
    let mut fields = Fields::default();
    let period = fields.check_optional("period", query.period.as_deref(), str::parse::<Period>);
    fields.finish()?;
    let targets = state.store.targets(caller.workspace.id).await?;
    Ok(Json(
        targets
            .into_iter()
            .filter(|t| period.is_none_or(|p| t.period == p))
            .filter(|t| t.readable(&caller))
            .collect(),
    ))
}
