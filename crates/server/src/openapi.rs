//! The API's OpenAPI 3.1 description, generated from the handlers' own request and response
//! types (aide over schemars), so it cannot drift from what the server does. Served at
//! `/openapi.json`, with a page listing every operation at `/docs`.

use std::fmt::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use aide::axum::ApiRouter;
use aide::openapi::{Components, Info, OpenApi, Operation, Parameter, ReferenceOr, SecurityScheme};
use axum::Router;
use indexmap::IndexMap;
use serde_json::json;

use crate::AppState;

/// The description, serialized once, and the page made from it.
pub(crate) struct Described {
    pub json: String,
    pub page: String,
}

/// The routes ready to serve and their description; generated once per process.
pub(crate) fn finish(build: fn() -> ApiRouter<AppState>) -> (Router<AppState>, Arc<Described>) {
    static FINISHED: OnceLock<(Router<AppState>, Arc<Described>)> = OnceLock::new();
    FINISHED
        .get_or_init(|| {
            let (router, described, errors) = describe(build);
            for error in errors {
                tracing::warn!(%error, "describing the API");
            }
            (router, Arc::new(described))
        })
        .clone()
}

/// Generates the routes and their description, with what could not be described (a
/// duplicate parameter, a schema that failed), if anything.
fn describe(build: fn() -> ApiRouter<AppState>) -> (Router<AppState>, Described, Vec<String>) {
    aide::generate::infer_responses(true);
    aide::generate::extract_schemas(true);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = errors.clone();
    aide::generate::on_error(move |error| {
        // A caller's refusals and the handler's are the same problems, documented once as
        // the default response.
        if !matches!(error, aide::error::Error::InferredDefaultResponseConflict) {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(error.to_string());
        }
    });
    let mut api = skeleton();
    let router = build().finish_api(&mut api);
    let json = serde_json::to_string_pretty(&api).unwrap_or_default();
    let page = page(&api);
    let errors = errors
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (router, Described { json, page }, errors)
}

fn skeleton() -> OpenApi {
    let scheme = |value: serde_json::Value| {
        serde_json::from_value::<SecurityScheme>(value).map(ReferenceOr::Item)
    };
    let mut security_schemes = IndexMap::new();
    let schemes = [
        (
            "token",
            json!({"type": "http", "scheme": "bearer",
                   "description": "An API token (`pwt_…`) from `POST …/tokens`."}),
        ),
        (
            "session",
            json!({"type": "apiKey", "in": "cookie", "name": "pipewise_session_{workspace}",
                   "description": "The cookie `POST …/session` sets; changes also need the \
                                   `X-CSRF-Token` header it returns."}),
        ),
    ];
    for (name, value) in schemes {
        match scheme(value) {
            Ok(item) => {
                security_schemes.insert(name.to_owned(), item);
            }
            Err(error) => tracing::warn!(%error, name, "describing a security scheme"),
        }
    }
    OpenApi {
        info: Info {
            title: "pipewise".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: Some(
                "The revenue engine's HTTP API: deals, their changes and history, reports \
                 and forecasts. Errors are RFC 9457 problems."
                    .into(),
            ),
            ..Info::default()
        },
        components: Some(Components {
            security_schemes,
            ..Components::default()
        }),
        ..OpenApi::default()
    }
}

/// Adds a parameter described as JSON (`{"in": "header", "name": …}`) to `operation`.
pub(crate) fn add_parameter(operation: &mut Operation, parameter: serde_json::Value) {
    match serde_json::from_value::<Parameter>(parameter) {
        Ok(parameter) => operation.parameters.push(ReferenceOr::Item(parameter)),
        Err(error) => tracing::warn!(%error, "describing a parameter"),
    }
}

/// A page listing every operation, for people; programs read `/openapi.json`.
fn page(api: &OpenApi) -> String {
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>pipewise API</title><style>body{font:15px/1.5 system-ui,sans-serif;\
         max-width:72rem;margin:2rem auto;padding:0 1rem}code{font-size:14px}\
         table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;\
         padding:.35rem .6rem;border-bottom:1px solid #ddd}th{background:#f4f4f4}</style>\
         </head><body><h1>pipewise API</h1>\n<p>",
    );
    if let Some(description) = &api.info.description {
        html.push_str(&escape(description));
    }
    html.push_str(
        " The machine-readable description is <a href=\"/openapi.json\">/openapi.json</a> \
         (OpenAPI 3.1); the guide is docs/api.md.</p>\n<table><thead><tr><th scope=\"col\">\
         method</th><th scope=\"col\">path</th><th scope=\"col\">what it does</th>\
         <th scope=\"col\">parameters</th><th scope=\"col\">answers</th></tr></thead><tbody>\n",
    );
    for (path, item) in api.paths.iter().flat_map(|paths| paths.iter()) {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, operation) in item.iter() {
            let parameters: Vec<String> = operation
                .parameters
                .iter()
                .filter_map(|p| match p {
                    ReferenceOr::Item(p) => Some(p.parameter_data_ref().name.clone()),
                    ReferenceOr::Reference { .. } => None,
                })
                .collect();
            let answers: Vec<String> = operation
                .responses
                .iter()
                .flat_map(|r| {
                    let codes = r.responses.keys().map(ToString::to_string);
                    codes.chain(r.default.as_ref().map(|_| "problem".to_owned()))
                })
                .collect();
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                method.to_uppercase(),
                escape(path),
                escape(operation.summary.as_deref().unwrap_or_default()),
                escape(&parameters.join(", ")),
                escape(&answers.join(", ")),
            );
        }
    }
    html.push_str("</tbody></table></body></html>\n");
    html
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_described_without_errors() {
        let (_, described, errors) = describe(crate::routes::router);
        assert_eq!(errors, Vec::<String>::new());
        let api: serde_json::Value = serde_json::from_str(&described.json).unwrap();
        assert_eq!(api["openapi"], "3.1.0");
        let deal = &api["paths"]["/api/v1/workspaces/{workspace}/opportunities/{id}"];
        let patch = &deal["patch"];
        let parameters: Vec<&str> = patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(parameters, ["workspace", "id", "If-Match"]);
        assert_eq!(
            patch["security"],
            serde_json::json!([{"token": []}, {"session": []}])
        );
        assert!(patch["responses"]["200"]["headers"]["ETag"].is_object());
        assert!(patch["responses"]["default"]["content"]["application/problem+json"].is_object());
        assert!(described.page.contains("<code>PATCH</code>"));
    }
}
