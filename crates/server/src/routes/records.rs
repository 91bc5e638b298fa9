//! Reading and writing the CRM records around deals — accounts, contacts, leads, activities
//! and targets — the same way for each: one record with its version as the ETag, a creation
//! answered `201` with its `Location`, a change or deletion that names in `If-Match` the
//! version it was made on, and the record's history. What differs per kind (who may read and
//! write it, its fields, its list) is in its own module through [`Editable`].

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::NoContent;
use chrono::Utc;
use pipewise_core::access::Denied;
use pipewise_core::crm::changes::{CrmKind, CrmRecord, RecordChange};
use pipewise_core::ids::WorkspaceId;
use pipewise_core::validation::{FieldErrors, InvalidValue};
use pipewise_store::commands::CommandFailed;
use pipewise_store::{Store, StoreError, records};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::IdPath;
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::versioning::{IfMatch, Versioned};
use crate::{ApiError, AppState};

/// What a store read or a check of a record kind returns: a future that may be sent across
/// threads, as the store's own methods return.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A check of [`Editable::check_write`] that needs no I/O, as its future.
pub(crate) fn decided<'a>(check: Result<(), Denied>) -> BoxFuture<'a, Result<(), ApiError>> {
    Box::pin(std::future::ready(check.map_err(ApiError::from)))
}

/// The items of [`Editable`] that only name a kind's types, path and store method:
/// `record_kind!(Account, AccountId, AccountFields, "accounts", account)` inside the impl.
macro_rules! record_kind {
    ($record:ident, $id:ty, $fields:ty, $path:literal, $load:ident) => {
        type Id = $id;
        type Fields = $fields;
        const KIND: pipewise_core::crm::changes::CrmKind =
            pipewise_core::crm::changes::CrmKind::$record;
        const PATH: &'static str = $path;

        fn load(
            store: &dyn pipewise_store::Store,
            workspace: pipewise_core::ids::WorkspaceId,
            id: $id,
        ) -> $crate::routes::records::BoxFuture<'_, Result<Self, pipewise_store::StoreError>> {
            store.$load(workspace, id)
        }

        fn id(&self) -> $id {
            self.id
        }

        fn version(&self) -> u32 {
            self.version
        }
    };
}
pub(crate) use record_kind;

/// A kind of CRM record the API reads and writes.
pub(crate) trait Editable:
    Clone + Serialize + JsonSchema + Into<CrmRecord> + Send + Sync + 'static
{
    type Id: FromStr<Err = InvalidValue> + Display + Copy + Send + Sync;
    /// The fields a request may set.
    type Fields: DeserializeOwned + JsonSchema + Send;
    const KIND: CrmKind;
    /// Where the kind's records live under the workspace: `accounts`.
    const PATH: &'static str;

    fn load(
        store: &dyn Store,
        workspace: WorkspaceId,
        id: Self::Id,
    ) -> BoxFuture<'_, Result<Self, StoreError>>;
    fn id(&self) -> Self::Id;
    fn version(&self) -> u32;
    /// Whether the caller may read the record.
    fn readable(&self, caller: &Caller) -> bool;
    /// Checks that the caller may write `after` (`None`: delete) over `before` (`None`:
    /// create).
    fn check_write<'a>(
        caller: &'a Caller,
        store: &'a dyn Store,
        before: Option<&'a Self>,
        after: Option<&'a Self>,
    ) -> BoxFuture<'a, Result<(), ApiError>>;
    /// A new record from the request's fields.
    fn create(fields: &Self::Fields, caller: &Caller) -> Result<Self, FieldErrors>;
    /// The record's next version with the request's fields set.
    fn change(fields: &Self::Fields, current: &Self) -> Result<Self, FieldErrors>;
}

fn not_found<R: Editable>(id: R::Id) -> ApiError {
    ApiError::NotFound {
        what: R::KIND.as_str(),
        key: id.to_string(),
    }
}

/// The record the path names, if the caller may read it: one out of reach is as good as
/// absent, so its existence is not confirmed.
pub(crate) async fn readable<R: Editable>(
    state: &AppState,
    caller: &Caller,
    path: &IdPath,
) -> Result<R, ApiError> {
    let id: R::Id = path.parse()?;
    let record = R::load(&*state.store, caller.workspace.id, id).await?;
    if !record.readable(caller) {
        return Err(not_found::<R>(id));
    }
    Ok(record)
}

/// The readable record at the version `If-Match` names, or a 412 with the current one.
pub(crate) async fn current<R: Editable>(
    state: &AppState,
    caller: &Caller,
    path: &IdPath,
    IfMatch(version): IfMatch,
) -> Result<R, ApiError> {
    let record = readable::<R>(state, caller, path).await?;
    match version {
        Some(version) if version != record.version() => Err(StoreError::VersionConflict {
            current: record.version(),
        }
        .into()),
        _ => Ok(record),
    }
}

fn versioned<R: Editable, const STATUS: u16>(
    record: R,
    location: Option<String>,
) -> Versioned<R, STATUS> {
    Versioned {
        version: record.version(),
        location,
        body: record,
    }
}

/// `GET …/{kind}/{id}`: one record, with its version as the ETag.
pub(crate) async fn show<R: Editable>(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Versioned<R>, ApiError> {
    Ok(versioned(
        readable::<R>(&state, &caller, &path).await?,
        None,
    ))
}

/// `POST …/{kind}`: a new record, answered with its `Location`.
pub(crate) async fn create<R: Editable>(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(fields): JsonBody<R::Fields>,
) -> Result<Versioned<R, 201>, ApiError> {
    caller.access.check_writer()?;
    let record = R::create(&fields, &caller)?;
    store_new(&state, &caller, record).await
}

/// Stores a new record the caller may write, answered with its `Location`.
pub(crate) async fn store_new<R: Editable>(
    state: &AppState,
    caller: &Caller,
    record: R,
) -> Result<Versioned<R, 201>, ApiError> {
    R::check_write(caller, &*state.store, None, Some(&record)).await?;
    write_new(state, caller, record).await
}

/// Stores a new record whose owner was decided by the workspace's rules rather than by the
/// caller, answered with its `Location`.
pub(crate) async fn write_new<R: Editable>(
    state: &AppState,
    caller: &Caller,
    record: R,
) -> Result<Versioned<R, 201>, ApiError> {
    records::create(
        &*state.store,
        &caller.workspace,
        record.clone().into(),
        caller.user.id,
        Utc::now(),
    )
    .await?;
    state.directory.forget_settings(caller.workspace.id);
    let location = format!(
        "/api/v1/workspaces/{}/{}/{}",
        caller.workspace.slug,
        R::PATH,
        record.id()
    );
    Ok(versioned(record, Some(location)))
}

/// How often a change made with `If-Match: *` is made again on the newer version after
/// another writer changed the record first.
const OVERWRITE_ATTEMPTS: u32 = 5;

/// Whether to make a write again: it lost a race it was not told to lose (`If-Match: *`).
fn again<T>(result: &Result<T, CommandFailed>, version: Option<u32>, attempt: u32) -> bool {
    version.is_none()
        && attempt < OVERWRITE_ATTEMPTS
        && matches!(
            result,
            Err(CommandFailed::Store(StoreError::VersionConflict { .. }))
        )
}

/// `PATCH …/{kind}/{id}`: sets the fields the body names; absent fields stay, `null` clears
/// an optional one.
pub(crate) async fn patch<R: Editable>(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    IfMatch(version): IfMatch,
    JsonBody(fields): JsonBody<R::Fields>,
) -> Result<Versioned<R>, ApiError> {
    edit(&state, &caller, &path, version, |before: &R| {
        Ok(R::change(&fields, before)?)
    })
    .await
}

/// Stores the version `next` makes of the record the path names: made on the version
/// `version` names, or, without one (`If-Match: *`), on the newest, and made again if another
/// writer changed the record first. A change that sets nothing answers the record as it was.
pub(crate) async fn edit<R: Editable>(
    state: &AppState,
    caller: &Caller,
    path: &IdPath,
    version: Option<u32>,
    next: impl Fn(&R) -> Result<R, ApiError>,
) -> Result<Versioned<R>, ApiError> {
    let mut attempt = 1;
    loop {
        let before = current::<R>(state, caller, path, IfMatch(version)).await?;
        let after = next(&before)?;
        R::check_write(caller, &*state.store, Some(&before), Some(&after)).await?;
        let result = records::change(
            &*state.store,
            &caller.workspace,
            before.clone().into(),
            after.clone().into(),
            caller.user.id,
            Utc::now(),
        )
        .await;
        if !again(&result, version, attempt) {
            let written = result?;
            state.directory.forget_settings(caller.workspace.id);
            return Ok(versioned(if written { after } else { before }, None));
        }
        attempt += 1;
    }
}

/// `DELETE …/{kind}/{id}`: removes the record; its history keeps its last values.
pub(crate) async fn delete<R: Editable>(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    IfMatch(version): IfMatch,
) -> Result<NoContent, ApiError> {
    let mut attempt = 1;
    loop {
        let record = current::<R>(&state, &caller, &path, IfMatch(version)).await?;
        R::check_write(&caller, &*state.store, Some(&record), None).await?;
        let result = records::delete(
            &*state.store,
            &caller.workspace,
            &record.into(),
            caller.user.id,
            Utc::now(),
        )
        .await
        .map_err(CommandFailed::Store);
        if !again(&result, version, attempt) {
            result?;
            state.directory.forget_settings(caller.workspace.id);
            return Ok(NoContent);
        }
        attempt += 1;
    }
}

/// `GET …/{kind}/{id}/history`: every change made to the record through the API, oldest
/// first, with who made it, when, and the fields before and after.
pub(crate) async fn history<R: Editable>(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Vec<RecordChange>>, ApiError> {
    let record = readable::<R>(&state, &caller, &path).await?;
    let id = record.into().id();
    Ok(Json(
        state.store.record_history(caller.workspace.id, id).await?,
    ))
}
