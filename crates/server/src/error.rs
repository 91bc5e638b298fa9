//! The one mapping from failures to HTTP responses: RFC 9457 problem details with a stable
//! snake_case `code`. Server errors say nothing internal; their cause goes to the log.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_core::validation::FieldErrors;
use pipewise_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{what} `{key}` was not found")]
    NotFound { what: &'static str, key: String },
    #[error("the request has invalid parameters")]
    InvalidParameters(FieldErrors),
    /// The request is well formed but its data cannot answer it (an amount in a currency
    /// without an exchange rate, say).
    #[error("{0}")]
    Unprocessable(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] StoreError),
    /// A fault outside the store, such as a computation that panicked.
    #[error("internal error")]
    Fault(String),
}

/// One invalid field, as reported to API clients.
#[derive(Debug, Serialize)]
struct InvalidField<'a> {
    field: &'a str,
    value: &'a str,
    expected: &'a str,
}

#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<InvalidField<'a>>,
}

impl ApiError {
    fn status_title_code(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, "Not found", "not_found"),
            ApiError::InvalidParameters(_) => (
                StatusCode::BAD_REQUEST,
                "Invalid parameters",
                "invalid_parameters",
            ),
            ApiError::Unprocessable(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable",
                "unprocessable",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "unavailable",
            ),
            ApiError::Internal(_) | ApiError::Fault(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "internal",
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what, key } => ApiError::NotFound { what, key },
            other => ApiError::Internal(other),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::InvalidParameters(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, code) = self.status_title_code();
        if let ApiError::Unavailable(cause) | ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "{title}");
        }
        if let ApiError::Fault(cause) = &self {
            tracing::error!(error = %cause, "{title}");
        }
        let errors = match &self {
            ApiError::InvalidParameters(errors) => errors
                .iter()
                .map(|e| InvalidField {
                    field: e.field(),
                    value: e.value(),
                    expected: e.expected(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let detail = match &self {
            ApiError::InvalidParameters(errors) => errors.to_string(),
            other => other.to_string(),
        };
        let problem = Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
            code,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}
