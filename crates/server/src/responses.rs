//! Response shapes that carry a status or a header besides their JSON, described in the
//! OpenAPI document as they are sent.

use aide::generate::GenContext;
use aide::openapi::{Operation, Response as ApiResponse};
use aide::operation::OperationOutput;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

use crate::versioning::Versioned;

/// A new record: `201` with its JSON.
pub(crate) struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

impl<T: JsonSchema> OperationOutput for Created<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        Json::<T>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|response| vec![(Some(201), response)])
            .unwrap_or_default()
    }
}

/// A response that also sets a cookie.
pub(crate) struct SetCookie<R> {
    pub cookie: String,
    pub response: R,
}

impl<R: IntoResponse> IntoResponse for SetCookie<R> {
    fn into_response(self) -> Response {
        let mut response = self.response.into_response();
        if let Ok(value) = HeaderValue::from_str(&self.cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        response
    }
}

impl<R: OperationOutput> OperationOutput for SetCookie<R> {
    type Inner = R::Inner;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        R::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        R::inferred_responses(ctx, operation)
    }
}

/// A new record (`201` with its `Location`), or the existing record the request turned out to
/// describe, updated (`200`); either with its version as the ETag.
pub(crate) enum CreatedOrUpdated<T> {
    Created(Versioned<T, 201>),
    Updated(Versioned<T>),
}

impl<T: Serialize> IntoResponse for CreatedOrUpdated<T> {
    fn into_response(self) -> Response {
        match self {
            CreatedOrUpdated::Created(created) => created.into_response(),
            CreatedOrUpdated::Updated(updated) => updated.into_response(),
        }
    }
}

impl<T: JsonSchema> OperationOutput for CreatedOrUpdated<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        Versioned::<T>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|response| vec![(Some(201), response.clone()), (Some(200), response)])
            .unwrap_or_default()
    }
}
