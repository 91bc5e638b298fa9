//! Signing in from a browser: the page's form posts the e-mail and password to the API's
//! session endpoint, which sets the session cookie, then goes on to the page asked for.

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{DOCTYPE, html};

use super::layout::head;
use super::viewer::PageError;
use crate::AppState;

/// `GET /app`: the workspaces this server holds.
pub(crate) async fn workspaces(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let workspaces = state.store.workspaces().await?;
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            (head("Workspaces", "", ""))
            body {
                main.narrow id="content" {
                    h1 { "Choose a workspace" }
                    @if workspaces.is_empty() {
                        p { "This server holds no workspace yet: run " code { "pipewise demo" }
                            " or " code { "pipewise import" } " to make one." }
                    }
                    ul.plain {
                        @for workspace in &workspaces {
                            li {
                                a href={ "/app/" (workspace.slug) "/sign-in" } { (workspace.name) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(body.into_string()))
}

/// `GET /app/{workspace}/sign-in`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Html<String>, PageError> {
    let context = state.directory.get(&slug).await?;
    let workspace = &context.workspace;
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in", workspace.slug.as_str(), ""))
            body {
                main.narrow id="content" {
                    h1 { "Sign in to " (workspace.name) }
                    form.stack data-form="sign-in" novalidate {
                        label for="email" { "E-mail" }
                        input id="email" name="email" type="email" autocomplete="username" required autofocus;
                        label for="password" { "Password" }
                        input id="password" name="password" type="password" autocomplete="current-password" required;
                        div.problem role="alert" {}
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    };
    Ok(Html(body.into_string()))
}
