//! Contacts: the people at accounts. Everyone reads every contact; a contact is edited by
//! those who may edit its account (both accounts, when it moves).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use pipewise_core::crm::Contact;
use pipewise_core::crm::edits::ContactFields;
use pipewise_core::ids::{AccountId, ContactId};
use pipewise_core::text::Email;
use pipewise_core::validation::{FieldErrors, Fields};
use pipewise_store::{ContactFilter, Store, StoreError};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lists::{self, ListPage};
use super::records::{BoxFuture, Editable, record_kind};
use crate::auth::Caller;
use crate::{ApiError, AppState};

impl Editable for Contact {
    record_kind!(Contact, ContactId, ContactFields, "contacts", contact);

    fn readable(&self, _: &Caller) -> bool {
        true
    }

    fn check_write<'a>(
        caller: &'a Caller,
        store: &'a dyn Store,
        before: Option<&'a Self>,
        after: Option<&'a Self>,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            caller.access.check_writer()?;
            let mut accounts: Vec<AccountId> = before
                .iter()
                .chain(after.iter())
                .map(|c| c.account_id)
                .collect();
            accounts.dedup();
            for id in accounts {
                match store.account(caller.workspace.id, id).await {
                    Ok(account) => caller
                        .access
                        .check_record_write(account.owner_id, account.owner_id)?,
                    // A missing account is reported at its field when the contact is stored.
                    Err(StoreError::NotFound { .. }) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            Ok(())
        })
    }

    fn create(fields: &ContactFields, _: &Caller) -> Result<Self, FieldErrors> {
        fields.create(ContactId::generate(), chrono::Utc::now())
    }

    fn change(fields: &ContactFields, current: &Self) -> Result<Self, FieldErrors> {
        fields.change(current)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContactQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200; default 50.
    limit: Option<String>,
    /// The contacts of this account.
    account_id: Option<String>,
    /// The contacts with this e-mail address.
    email: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/contacts`: contacts the filters keep, in creation
/// order.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ContactQuery>, QueryRejection>,
) -> Result<Json<ListPage<Contact>>, ApiError> {
    let query = lists::query(query, "cursor, limit, account_id and email")?;
    let mut fields = Fields::default();
    let page = lists::page(&mut fields, query.cursor.as_deref(), query.limit.as_deref());
    let filter = ContactFilter {
        account: fields.check_optional(
            "account_id",
            query.account_id.as_deref(),
            str::parse::<AccountId>,
        ),
        email: fields.check_optional("email", query.email.as_deref(), Email::parse),
    };
    fields.finish()?;
    let page = state
        .store
        .contacts(caller.workspace.id, page, &filter)
        .await?;
    Ok(Json(ListPage::new(page.items, page.next_after)))
}
