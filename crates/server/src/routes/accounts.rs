//! Accounts: the workspace's shared address book of companies. Everyone reads every account;
//! an account is edited by those who may edit its owner's records, and one with no owner by
//! any writer. A new account is the caller's unless another owner (or `null`) is given.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use pipewise_core::crm::Account;
use pipewise_core::crm::edits::AccountFields;
use pipewise_core::ids::{AccountId, UserId};
use pipewise_core::text::{Label, WebDomain};
use pipewise_core::validation::{FieldErrors, Fields};
use pipewise_store::{AccountFilter, Store};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lists::{self, ListPage};
use super::records::{BoxFuture, Editable, decided, record_kind};
use crate::auth::Caller;
use crate::{ApiError, AppState};

impl Editable for Account {
    record_kind!(Account, AccountId, AccountFields, "accounts", account);

    fn readable(&self, _: &Caller) -> bool {
        true
    }

    fn check_write<'a>(
        caller: &'a Caller,
        _: &'a dyn Store,
        before: Option<&'a Self>,
        after: Option<&'a Self>,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        decided(caller.access.check_record_write(
            before.and_then(|a| a.owner_id),
            after.and_then(|a| a.owner_id),
        ))
    }

    fn create(fields: &AccountFields, caller: &Caller) -> Result<Self, FieldErrors> {
        let mut account = fields.create(AccountId::generate(), chrono::Utc::now())?;
        if fields.owner_id.is_none() {
            account.owner_id = Some(caller.user.id);
        }
        Ok(account)
    }

    fn change(fields: &AccountFields, current: &Self) -> Result<Self, FieldErrors> {
        fields.change(current)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200; default 50.
    limit: Option<String>,
    owner_id: Option<String>,
    segment: Option<String>,
    region: Option<String>,
    /// Accounts with this web domain: how duplicates are found.
    domain: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/accounts`: accounts the filters keep, in creation
/// order.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<Json<ListPage<Account>>, ApiError> {
    let query = lists::query(query, "cursor, limit, owner_id, segment, region and domain")?;
    let mut fields = Fields::default();
    let page = lists::page(&mut fields, query.cursor.as_deref(), query.limit.as_deref());
    let filter = AccountFilter {
        owner: fields.check_optional("owner_id", query.owner_id.as_deref(), str::parse::<UserId>),
        segment: fields.check_optional("segment", query.segment.as_deref(), Label::parse),
        region: fields.check_optional("region", query.region.as_deref(), Label::parse),
        domain: fields.check_optional("domain", query.domain.as_deref(), WebDomain::parse),
    };
    fields.finish()?;
    let page = state
        .store
        .accounts(caller.workspace.id, page, &filter)
        .await?;
    Ok(Json(ListPage::new(page.items, page.next_after)))
}
