//! Optimistic concurrency over HTTP: every record's version is its ETag, and a change must
//! name the version it was made on in `If-Match`, or is refused.

use aide::generate::GenContext;
use aide::openapi::{Operation, Response as ApiResponse};
use aide::operation::OperationOutput;
use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

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

impl aide::operation::OperationInput for IfMatch {
    fn operation_input(_: &mut GenContext, operation: &mut Operation) {
        crate::openapi::add_parameter(
            operation,
            serde_json::json!({"in": "header", "name": "If-Match", "required": true,
                               "description": "The ETag of the version the change was made on, \
                                               such as \"3\"; * to overwrite whatever is there.",
                               "schema": {"type": "string"}}),
        );
    }
}

/// A record in a response with its version as the ETag, answered with `STATUS`; `201`
/// answers also carry the record's `Location`.
pub(crate) struct Versioned<T, const STATUS: u16 = 200> {
    pub version: u32,
    pub location: Option<String>,
    pub body: T,
}

impl<T: Serialize, const STATUS: u16> IntoResponse for Versioned<T, STATUS> {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(STATUS).unwrap_or(StatusCode::OK);
        let mut response = (status, Json(self.body)).into_response();
        let headers = response.headers_mut();
        if let Ok(tag) = HeaderValue::from_str(&etag(self.version)) {
            headers.insert(header::ETAG, tag);
        }
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

impl<T: JsonSchema, const STATUS: u16> OperationOutput for Versioned<T, STATUS> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        let mut response = Json::<T>::operation_response(ctx, operation)?;
        let etag = serde_json::json!({"description": "The record's version, for If-Match.",
                                      "schema": {"type": "string"}});
        if let Ok(header) = serde_json::from_value(etag) {
            response
                .headers
                .insert("ETag".to_owned(), aide::openapi::ReferenceOr::Item(header));
        }
        Some(response)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|response| vec![(Some(STATUS), response)])
            .unwrap_or_default()
    }
}
