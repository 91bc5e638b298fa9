//! A server in process over a small generated demo, on SQLite or PostgreSQL, and requests
//! made to it as a signed-in user would make them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../store/tests/common/mod.rs"]
pub mod store_common;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use pipewise_core::org::{Role, User};
use pipewise_demo::{DemoConfig, Generator};
use pipewise_server::{AppState, router};
use serde_json::{Value, json};
pub use store_common::TestStore;
use tower::ServiceExt;

pub const DEALS: usize = 60;
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub state: AppState,
    pub users: Vec<User>,
    /// An admin's write token, sent by [`TestApp::get`].
    pub admin_token: String,
    store: TestStore,
}

/// A response: status, headers and JSON body (`Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::on(TestStore::sqlite().await).await
    }

    pub async fn postgres() -> Option<Self> {
        Some(Self::on(TestStore::postgres().await?).await)
    }

    async fn on(test: TestStore) -> Self {
        let store = test.store.clone();
        let mut generator = Generator::new(DemoConfig {
            seed: 5,
            opportunities: DEALS,
            as_of: "2026-11-23".parse().unwrap(),
            slug: "demo".parse().unwrap(),
        })
        .unwrap();
        store.create_workspace(generator.workspace()).await.unwrap();
        let workspace = generator.workspace().id;
        for chunk in generator.by_ref() {
            store
                .write_batch(workspace, &chunk.unwrap().batch)
                .await
                .unwrap();
        }
        let hash = pipewise_server::hash_password(PASSWORD).unwrap();
        let users = store.users(workspace).await.unwrap();
        for user in &users {
            store
                .set_password(workspace, user.id, &hash, chrono::Utc::now())
                .await
                .unwrap();
        }
        let mut app = Self {
            state: AppState::new(store).unwrap(),
            users,
            admin_token: String::new(),
            store: test,
        };
        let admin = app.user(Role::Admin).clone();
        app.admin_token = app.token(&admin, "write").await;
        app
    }

    /// The demo workspace as the store holds it.
    pub async fn workspace(&self) -> pipewise_core::org::Workspace {
        self.store()
            .workspace(&"demo".parse().unwrap())
            .await
            .unwrap()
    }

    pub fn store(&self) -> &dyn pipewise_store::Store {
        &*self.state.store
    }

    pub async fn remove(self) {
        drop(self.state);
        self.store.remove().await;
    }

    /// The first user with `role`.
    pub fn user(&self, role: Role) -> &User {
        self.users.iter().find(|u| u.role == role).unwrap()
    }

    /// Signs `user` in; returns the cookie to send and the CSRF token.
    pub async fn sign_in(&self, user: &User) -> (String, String) {
        let reply = self
            .send(
                Method::POST,
                "/api/v1/workspaces/demo/session",
                &[],
                Some(json!({ "email": user.email.as_str(), "password": PASSWORD })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let cookie = reply
            .header("set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        (
            cookie,
            reply.body["csrf_token"].as_str().unwrap().to_owned(),
        )
    }

    /// A new API token of `user` with `scope`.
    pub async fn token(&self, user: &User, scope: &str) -> String {
        let (cookie, csrf) = self.sign_in(user).await;
        let reply = self
            .send(
                Method::POST,
                "/api/v1/workspaces/demo/tokens",
                &[("cookie", &cookie), ("x-csrf-token", &csrf)],
                Some(json!({ "name": "tests", "scope": scope })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["secret"].as_str().unwrap().to_owned()
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let (status, headers, bytes) = self.respond(request).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A request with `token` as the bearer.
    pub async fn with_token(
        &self,
        token: &str,
        method: Method,
        uri: &str,
        extra: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let bearer = format!("Bearer {token}");
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend_from_slice(extra);
        self.send(method, uri, &headers, body).await
    }

    /// A web page as the holder of `token` sees it: status and HTML.
    pub async fn page(&self, token: &str, uri: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, _, bytes) = self.respond(request).await;
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// The server's answer to `request`: status, headers, body.
    async fn respond(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, bytes)
    }

    /// A GET as the admin: status, content type, body.
    pub async fn get(&self, uri: &str) -> (StatusCode, String, Value) {
        let reply = self
            .with_token(&self.admin_token.clone(), Method::GET, uri, &[], None)
            .await;
        let content_type = reply.header("content-type").to_owned();
        (reply.status, content_type, reply.body)
    }
}

/// Runs each test body on SQLite and on PostgreSQL (skipped without a server).
#[macro_export]
macro_rules! on_both_backends_app {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $app = common::TestApp::sqlite().await;
                    let $app = { $body; $app };
                    $app.remove().await;
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let Some($app) = common::TestApp::postgres().await else { return };
                    let $app = { $body; $app };
                    $app.remove().await;
                }
            )*
        }
    };
}
