//! The frame every page shares: the head with the CSRF token the script sends, the main
//! navigation with the current page marked, who is signed in, and a live region for
//! messages.

use maud::{DOCTYPE, Markup, html};

use super::assets::{SCRIPT, STYLESHEET};
use super::viewer::Viewer;

/// Where in the app a page is, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Board,
    Forecast,
    Diagnostics,
    Hygiene,
    Leads,
    Admin,
}

const SECTIONS: [(Section, &str, &str); 6] = [
    (Section::Board, "board", "Board"),
    (Section::Forecast, "forecast", "Forecast"),
    (Section::Diagnostics, "diagnostics", "Diagnostics"),
    (Section::Hygiene, "hygiene", "Hygiene"),
    (Section::Leads, "leads", "Leads"),
    (Section::Admin, "admin", "Admin"),
];

/// The head shared by every page, signed in or not.
pub(crate) fn head(title: &str, workspace: &str, csrf_token: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            link rel="icon" href="data:,";
            title { (title) " · pipewise" }
            meta name="workspace" content=(workspace);
            meta name="csrf-token" content=(csrf_token);
            link rel="stylesheet" href=(STYLESHEET);
            script src=(SCRIPT) defer {}
        }
    }
}

/// A page of the app for a signed-in person.
pub(crate) fn page(viewer: &Viewer, section: Section, title: &str, content: Markup) -> Markup {
    let caller = &viewer.0;
    let slug = caller.workspace.slug.as_str();
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, slug, viewer.csrf_token()))
            body data-writes=(viewer.writes()) {
                a.skip href="#content" { "Skip to content" }
                header.top {
                    a.brand href=(viewer.path("board")) { "pipewise" }
                    nav aria-label="Main" {
                        ul {
                            @for (each, path, label) in SECTIONS {
                                li {
                                    a href=(viewer.path(path))
                                        aria-current=[(each == section).then_some("page")] {
                                        (label)
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        span { (caller.user.name) " · " (caller.user.role.as_str()) }
                        button type="button" data-action="sign-out" { "Sign out" }
                    }
                }
                main id="content" tabindex="-1" { (content) }
                div id="toast" role="status" aria-live="polite" {}
            }
        }
    }
}
