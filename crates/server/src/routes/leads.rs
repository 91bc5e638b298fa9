//! Leads: people not yet qualified into deals. A lead is read by those who reach its owner,
//! and one with no owner (the queue) by everyone; written like an account: a writer may take
//! a lead for themselves, and only those who change owners give one away. A new lead is the
//! caller's unless another owner (or `null`, for the queue) is given.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use pipewise_core::crm::edits::LeadFields;
use pipewise_core::crm::{Lead, LeadStatus};
use pipewise_core::ids::{LeadId, UserId};
use pipewise_core::validation::{FieldErrors, Fields};
use pipewise_store::{LeadFilter, Store};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lists::{self, ListPage};
use super::records::{BoxFuture, Editable, decided, record_kind};
use crate::auth::Caller;
use crate::{ApiError, AppState};

impl Editable for Lead {
    record_kind!(Lead, LeadId, LeadFields, "leads", lead);

    fn readable(&self, caller: &Caller) -> bool {
        self.owner_id
            .is_none_or(|owner| caller.access.can_read(owner))
    }

    fn check_write<'a>(
        caller: &'a Caller,
        _: &'a dyn Store,
        before: Option<&'a Self>,
        after: Option<&'a Self>,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        decided(caller.access.check_record_write(
            before.and_then(|l| l.owner_id),
            after.and_then(|l| l.owner_id),
        ))
    }

    fn create(fields: &LeadFields, caller: &Caller) -> Result<Self, FieldErrors> {
        let mut lead = fields.create(LeadId::generate(), chrono::Utc::now())?;
        if fields.owner_id.is_none() {
            lead.owner_id = Some(caller.user.id);
        }
        Ok(lead)
    }

    fn change(fields: &LeadFields, current: &Self) -> Result<Self, FieldErrors> {
        fields.change(current)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200; default 50.
    limit: Option<String>,
    /// Only this owner's leads.
    owner_id: Option<String>,
    /// `new`, `working`, `mql`, `sql`, `sal` or `disqualified`.
    status: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/leads`: the leads the caller may read that the
/// filters keep, in creation order.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<LeadQuery>, QueryRejection>,
) -> Result<Json<ListPage<Lead>>, ApiError> {
    let query = lists::query(query, "cursor, limit, owner_id and status")?;
    let mut fields = Fields::default();
    let page = lists::page(&mut fields, query.cursor.as_deref(), query.limit.as_deref());
    let owner = fields.check_optional("owner_id", query.owner_id.as_deref(), str::parse::<UserId>);
    let status = fields.check_optional("status", query.status.as_deref(), str::parse::<LeadStatus>);
    fields.finish()?;
    // Asked for no one in particular, the queue is in the list too.
    let filter = LeadFilter {
        owners: caller.access.owners_within_reach(owner),
        unowned: owner.is_none(),
        status,
    };
    let page = state
        .store
        .leads(caller.workspace.id, page, &filter)
        .await?;
    Ok(Json(ListPage::new(page.items, page.next_after)))
}
