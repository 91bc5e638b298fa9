//! The stylesheet and script, compiled into the binary so that a fresh clone serves the app
//! with no build step. Browsers revalidate them with their ETag.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub(crate) const STYLESHEET: &str = "/assets/app.css";
pub(crate) const SCRIPT: &str = "/assets/app.js";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 2] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/app.js"),
    },
];

/// Each asset's ETag, worked out once.
fn etags() -> &'static [String; 2] {
    static ETAGS: OnceLock<[String; 2]> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS.each_ref().map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            format!("\"{}\"", hex::encode(&digest[..8]))
        })
    })
}

/// `GET /assets/{file}`.
pub(crate) async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (asset, etag) = (&ASSETS[index], &etags()[index]);
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|given| given.as_bytes() == etag.as_bytes());
    let etag = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\""));
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if cached {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    let content_type = HeaderValue::from_static(asset.content_type);
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::ETAG, etag),
            cache,
        ],
        asset.body,
    )
        .into_response()
}
