//! Request bodies: JSON only, of bounded size, with unknown fields refused and every error
//! located by its path in the body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use pipewise_core::validation::{FieldErrors, InvalidValue};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The largest body a request may carry.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body deserialized into `T`.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::NotJson);
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(BODY_LIMIT),
                    _ => ApiError::BadBody(rejection.body_text()),
                })?;
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut json)
            .map(JsonBody)
            .map_err(|error| {
                let path = error.path().to_string();
                let inner = error.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    return ApiError::BadBody(format!("the body is not valid JSON: {inner}"));
                }
                let field = if path == "." { "body".to_owned() } else { path };
                let message = inner.to_string();
                // serde_json appends the position, which the field path already gives.
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                FieldErrors::from(InvalidValue::new("", message).at(field)).into()
            })
    }
}

impl<T: schemars::JsonSchema> aide::operation::OperationInput for JsonBody<T> {
    fn operation_input(
        ctx: &mut aide::generate::GenContext,
        operation: &mut aide::openapi::Operation,
    ) {
        <axum::Json<T> as aide::operation::OperationInput>::operation_input(ctx, operation);
    }
}
