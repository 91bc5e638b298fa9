//! The one mapping from failures to HTTP responses: RFC 9457 problem details with a stable
//! snake_case `code`. Server errors say nothing internal; their cause goes to the log.

use aide::generate::GenContext;
use aide::openapi::{MediaType, Operation, Response as ApiResponse, SchemaObject};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_core::access::Denied;
use pipewise_core::opportunity::CommandError;
use pipewise_core::process::Unmet;
use pipewise_core::validation::FieldErrors;
use pipewise_store::StoreError;
use pipewise_store::commands::CommandFailed;
use schemars::JsonSchema;
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
    /// The sales process or a deal's state refuses the change.
    #[error("{0}")]
    Refused(CommandError),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("send the version you read in an If-Match header, such as If-Match: \"3\"")]
    IfMatchRequired,
    #[error("the record has changed since you read it; it is at version {current} now")]
    VersionMismatch { current: u32 },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadBody(String),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("send the body as application/json")]
    NotJson,
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] StoreError),
    /// A fault outside the store, such as a computation that panicked.
    #[error("internal error")]
    Fault(String),
}

/// One invalid field, as reported to API clients.
#[derive(Debug, Serialize, JsonSchema)]
struct InvalidField<'a> {
    field: &'a str,
    value: &'a str,
    expected: &'a str,
}

/// An RFC 9457 problem: what went wrong, with a stable `code`.
#[derive(Debug, Serialize, JsonSchema)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    errors: Vec<InvalidField<'a>>,
    /// The criteria a refused move, opening or win still needs.
    #[serde(default, skip_serializing_if = "<[Unmet]>::is_empty")]
    unmet: &'a [Unmet],
    /// The version a stale write should be retried against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_version: Option<u32>,
}

impl ApiError {
    pub(crate) fn status_title_code(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::NotFound { .. } => (S::NOT_FOUND, "Not found", "not_found"),
            ApiError::InvalidParameters(_) => {
                (S::BAD_REQUEST, "Invalid parameters", "invalid_parameters")
            }
            ApiError::BadBody(_) => (S::BAD_REQUEST, "Invalid body", "invalid_body"),
            ApiError::Unprocessable(_) => {
                (S::UNPROCESSABLE_ENTITY, "Unprocessable", "unprocessable")
            }
            ApiError::Refused(_) => (S::UNPROCESSABLE_ENTITY, "Refused", "refused"),
            ApiError::Unauthenticated(_) => (S::UNAUTHORIZED, "Not signed in", "unauthenticated"),
            ApiError::Forbidden(_) => (S::FORBIDDEN, "Forbidden", "forbidden"),
            ApiError::TooManyAttempts { .. } => (
                S::TOO_MANY_REQUESTS,
                "Too many attempts",
                "too_many_attempts",
            ),
            ApiError::IfMatchRequired => (
                S::PRECONDITION_REQUIRED,
                "Version required",
                "if_match_required",
            ),
            ApiError::VersionMismatch { .. } => (
                S::PRECONDITION_FAILED,
                "Version mismatch",
                "version_mismatch",
            ),
            ApiError::Conflict(_) => (S::CONFLICT, "Conflict", "conflict"),
            ApiError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, "Body too large", "too_large"),
            ApiError::NotJson => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "not_json",
            ),
            ApiError::Unavailable(_) => {
                (S::SERVICE_UNAVAILABLE, "Service unavailable", "unavailable")
            }
            ApiError::Internal(_) | ApiError::Fault(_) => {
                (S::INTERNAL_SERVER_ERROR, "Internal error", "internal")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what, key } => ApiError::NotFound { what, key },
            StoreError::Conflict(detail) => ApiError::Conflict(detail),
            StoreError::VersionConflict { current } => ApiError::VersionMismatch { current },
            other => ApiError::Internal(other),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::InvalidParameters(errors)
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        ApiError::Forbidden(denied.to_string())
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Invalid(errors) => ApiError::InvalidParameters(errors),
            other => ApiError::Refused(other),
        }
    }
}

impl From<CommandFailed> for ApiError {
    fn from(failed: CommandFailed) -> Self {
        match failed {
            CommandFailed::Refused(error) => error.into(),
            CommandFailed::Store(error) => error.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, code) = self.status_title_code();
        match &self {
            ApiError::Unavailable(cause) | ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "{title}");
            }
            ApiError::Fault(cause) => tracing::error!(error = %cause, "{title}"),
            _ => {}
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
        let unmet = match &self {
            ApiError::Refused(CommandError::CriteriaUnmet { unmet, .. }) => unmet.as_slice(),
            _ => &[],
        };
        let current_version = match &self {
            ApiError::VersionMismatch { current } => Some(*current),
            _ => None,
        };
        let problem = Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
            code,
            errors,
            unmet,
            current_version,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::Unauthenticated(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"pipewise\""),
                );
            }
            ApiError::TooManyAttempts { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::VersionMismatch { current } => {
                if let Ok(etag) = HeaderValue::from_str(&crate::versioning::etag(*current)) {
                    headers.insert(header::ETAG, etag);
                }
            }
            _ => {}
        }
        response
    }
}

/// Every operation may answer with a problem, whatever its status: documented once, as the
/// default response.
impl aide::operation::OperationOutput for ApiError {
    type Inner = ();

    fn operation_response(ctx: &mut GenContext, _: &mut Operation) -> Option<ApiResponse> {
        let json_schema = ctx.schema.subschema_for::<Problem<'static>>();
        Some(ApiResponse {
            description: "A problem (RFC 9457): `status`, `code` and `detail` say what went \
                          wrong; `errors` lists invalid fields."
                .into(),
            content: indexmap::IndexMap::from_iter([(
                "application/problem+json".into(),
                MediaType {
                    schema: Some(SchemaObject {
                        json_schema,
                        example: None,
                        external_docs: None,
                    }),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        })
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|response| vec![(None, response)])
            .unwrap_or_default()
    }
}

/// The problem an extractor answers with when it refuses a request, for the extractors'
/// `inferred_early_responses`.
pub(crate) fn problem_response(
    ctx: &mut GenContext,
    operation: &mut Operation,
) -> Vec<(Option<u16>, ApiResponse)> {
    <ApiError as aide::operation::OperationOutput>::inferred_responses(ctx, operation)
}
