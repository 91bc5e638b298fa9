//! Activities: calls, e-mails, meetings and notes. An activity belongs to the person who did
//! it: read by those who reach them, changed or deleted by those who may edit their records.
//! Logging one for someone else is giving it to them, which takes a role that changes owners.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use pipewise_core::crm::edits::ActivityFields;
use pipewise_core::crm::{Activity, ActivityKind};
use pipewise_core::ids::{AccountId, ActivityId, ContactId, LeadId, OpportunityId, UserId};
use pipewise_core::validation::{FieldErrors, Fields};
use pipewise_store::{ActivityFilter, Store};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lists::{self, ListPage};
use super::records::{BoxFuture, Editable, decided, record_kind};
use crate::auth::Caller;
use crate::{ApiError, AppState};

impl Editable for Activity {
    record_kind!(Activity, ActivityId, ActivityFields, "activities", activity);

    fn readable(&self, caller: &Caller) -> bool {
        caller.access.can_read(self.user_id)
    }

    fn check_write<'a>(
        caller: &'a Caller,
        _: &'a dyn Store,
        before: Option<&'a Self>,
        after: Option<&'a Self>,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        let before = before.map(|a| a.user_id);
        // Deleting needs what editing does.
        let after = after.map(|a| a.user_id).or(before);
        decided(caller.access.check_record_write(before, after))
    }

    fn create(fields: &ActivityFields, caller: &Caller) -> Result<Self, FieldErrors> {
        fields.create(ActivityId::generate(), caller.user.id, chrono::Utc::now())
    }

    fn change(fields: &ActivityFields, current: &Self) -> Result<Self, FieldErrors> {
        fields.change(current)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActivityQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200; default 50.
    limit: Option<String>,
    /// Only this person's activities.
    user_id: Option<String>,
    /// `call`, `email`, `meeting` or `note`.
    kind: Option<String>,
    opportunity_id: Option<String>,
    account_id: Option<String>,
    contact_id: Option<String>,
    lead_id: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/activities`: the activities the caller may read that
/// the filters keep, in creation order.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ActivityQuery>, QueryRejection>,
) -> Result<Json<ListPage<Activity>>, ApiError> {
    let query = lists::query(
        query,
        "cursor, limit, user_id, kind, opportunity_id, account_id, contact_id and lead_id",
    )?;
    let mut fields = Fields::default();
    let page = lists::page(&mut fields, query.cursor.as_deref(), query.limit.as_deref());
    let user = fields.check_optional("user_id", query.user_id.as_deref(), str::parse::<UserId>);
    let filter = ActivityFilter {
        users: caller.access.owners_within_reach(user),
        kind: fields.check_optional("kind", query.kind.as_deref(), str::parse::<ActivityKind>),
        opportunity: fields.check_optional(
            "opportunity_id",
            query.opportunity_id.as_deref(),
            str::parse::<OpportunityId>,
        ),
        account: fields.check_optional(
            "account_id",
            query.account_id.as_deref(),
            str::parse::<AccountId>,
        ),
        contact: fields.check_optional(
            "contact_id",
            query.contact_id.as_deref(),
            str::parse::<ContactId>,
        ),
        lead: fields.check_optional("lead_id", query.lead_id.as_deref(), str::parse::<LeadId>),
    };
    fields.finish()?;
    let page = state
        .store
        .activities(caller.workspace.id, page, &filter)
        .await?;
    Ok(Json(ListPage::new(page.items, page.next_after)))
}
