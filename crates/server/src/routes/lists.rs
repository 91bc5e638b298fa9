//! What every list endpoint shares: its query string read with located errors, a page size,
//! and a page of items with the cursor to the next.

use std::str::FromStr;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use pipewise_store::PageRequest;
use schemars::JsonSchema;
use serde::Serialize;

use crate::ApiError;

/// Page size when none is asked for.
const DEFAULT_LIMIT: u32 = 50;
/// Largest page a client may ask for.
const MAX_LIMIT: u32 = 200;

/// The query string, or a 400 naming `accepted`: the parameters the list takes.
pub(crate) fn query<T>(
    query: Result<Query<T>, QueryRejection>,
    accepted: &str,
) -> Result<T, ApiError> {
    query.map(|Query(query)| query).map_err(|rejection| {
        FieldErrors::from(
            InvalidValue::new(
                &rejection.body_text(),
                format!("only the parameters {accepted}"),
            )
            .at("query"),
        )
        .into()
    })
}

/// The page `cursor` (the id the previous page ended at) and `limit` ask for; their errors
/// go to `fields`.
pub(crate) fn page<I: FromStr<Err = InvalidValue>>(
    fields: &mut Fields,
    cursor: Option<&str>,
    limit: Option<&str>,
) -> PageRequest<I> {
    PageRequest {
        after: fields.check_optional("cursor", cursor, str::parse::<I>),
        limit: fields
            .check_optional("limit", limit, parse_limit)
            .unwrap_or(DEFAULT_LIMIT),
    }
}

fn parse_limit(text: &str) -> Result<u32, InvalidValue> {
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| InvalidValue::new(text, format!("a whole number from 1 to {MAX_LIMIT}")))
}

/// One page of a list, oldest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListPage<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ListPage<T> {
    pub(crate) fn new<I: ToString>(items: Vec<T>, next_after: Option<I>) -> Self {
        Self {
            items,
            next_cursor: next_after.map(|id| id.to_string()),
        }
    }
}
