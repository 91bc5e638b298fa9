//! Optimistic concurrency over HTTP: every record's version is its ETag, and a change must
//! name the version it was made on in `If-Match`, or is refused.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use pipewise_core::validation::{FieldErrors, InvalidValue};

use crate::ApiError;

/// The ETag of a record at `version`: a strong tag, `"3"`.
pub(crate) fn etag(version: u32) -> String {
    format!("\"{version}\"")
}

/// The version a change was made on, from `If-Match`: `Some(3)` for `"3"`; `None` for `*`,
/// which overwrites whatever is there.
pub(crate) struct IfMatch(pub Option<u32>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::IF_MATCH)
            .ok_or(ApiError::IfMatchRequired)?;
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        text.strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .and_then(|version| version.parse::<u32>().ok())
            .map(|version| IfMatch(Some(version)))
            .ok_or_else(|| {
                FieldErrors::from(
                    InvalidValue::new(text, "an ETag read from the record, such as \"3\", or *")
                        .at("If-Match"),
                )
                .into()
            })
    }
}
