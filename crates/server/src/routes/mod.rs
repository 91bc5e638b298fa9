mod forecast;
mod forecast_submissions;
mod health;
mod hygiene;
mod index;
mod opportunities;
mod opportunity_changes;
mod reports;
mod session;
mod settings;
mod tokens;
mod users;
mod webhooks;

use aide::axum::ApiRouter;
use aide::axum::routing::{delete_with, get_with, post_with, put_with};
use aide::transform::TransformOperation;
use schemars::JsonSchema;
use serde::Deserialize;

use std::str::FromStr;

use pipewise_core::validation::{FieldErrors, InvalidValue};

use crate::{ApiError, AppState};

pub(crate) use forecast::forecast_report;

/// Where each workspace's API lives.
const WORKSPACE: &str = "/api/v1/workspaces/{workspace}";

/// A record named in the path.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct IdPath {
    /// The record's id.
    id: String,
}

impl IdPath {
    /// The id as the kind of id it must be, or a 400 naming `id`.
    fn parse<T: FromStr<Err = InvalidValue>>(&self) -> Result<T, ApiError> {
        self.id
            .parse()
            .map_err(|e: InvalidValue| FieldErrors::from(e.at("id")).into())
    }
}

/// A workspace named in the path, where no caller is needed yet.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct WorkspacePath {
    /// The workspace's slug.
    workspace: String,
}

/// An operation's summary and the group it is listed in.
fn doc(
    tag: &'static str,
    summary: &'static str,
) -> impl for<'t> FnOnce(TransformOperation<'t>) -> TransformOperation<'t> {
    move |operation| operation.tag(tag).summary(summary)
}

pub(crate) fn router() -> ApiRouter<AppState> {
    use opportunity_changes as change;
    let workspace = ApiRouter::new()
        .api_route(
            "/session",
            post_with(
                session::sign_in,
                doc("access", "Sign in with e-mail and password"),
            )
            .get_with(
                session::show,
                doc("access", "Who is signed in, and the CSRF token"),
            )
            .delete_with(session::sign_out, doc("access", "Sign this browser out")),
        )
        .api_route(
            "/settings",
            get_with(settings::show, doc("access", "The workspace's settings")).patch_with(
                settings::change,
                doc("access", "Change the workspace's settings (admins)"),
            ),
        )
        .api_route(
            "/tokens",
            post_with(
                tokens::create,
                doc("access", "Create an API token for the caller"),
            )
            .get_with(
                tokens::list,
                doc("access", "The caller's API tokens (an admin's: all)"),
            ),
        )
        .api_route(
            "/tokens/{id}",
            delete_with(tokens::revoke, doc("access", "Revoke an API token")),
        )
        .api_route(
            "/hygiene",
            get_with(
                hygiene::hygiene,
                doc("hygiene", "Hygiene findings and scores"),
            ),
        )
        .api_route(
            "/webhooks",
            post_with(
                webhooks::create,
                doc("webhooks", "Subscribe a URL to deal events"),
            )
            .get_with(
                webhooks::list,
                doc("webhooks", "Every webhook subscription"),
            ),
        )
        .api_route(
            "/webhooks/{id}",
            get_with(webhooks::show, doc("webhooks", "A webhook subscription")).delete_with(
                webhooks::delete,
                doc("webhooks", "End a webhook subscription"),
            ),
        )
        .api_route(
            "/webhooks/{id}/deliveries",
            get_with(
                webhooks::deliveries,
                doc("webhooks", "A webhook's latest deliveries"),
            ),
        )
        .api_route(
            "/webhooks/{id}/enable",
            post_with(
                webhooks::enable,
                doc("webhooks", "Send to a disabled subscription again"),
            ),
        )
        .api_route(
            "/users",
            get_with(users::list, doc("access", "Everyone in the workspace")),
        )
        .api_route(
            "/users/{id}/password",
            put_with(users::set_password, doc("access", "Set a password")),
        )
        .api_route(
            "/opportunities",
            get_with(
                opportunities::list,
                doc("deals", "Deals the caller may read, a page at a time"),
            )
            .post_with(change::create, doc("deals", "Open a deal")),
        )
        .api_route(
            "/opportunities/{id}",
            get_with(opportunities::show, doc("deals", "A deal")).patch_with(
                change::patch,
                doc("deals", "Change several fields of a deal at once"),
            ),
        )
        .api_route(
            "/opportunities/{id}/history",
            get_with(
                opportunities::history,
                doc("deals", "Every change to a deal, with who and when"),
            ),
        )
        .api_route(
            "/opportunities/{id}/moves",
            post_with(
                change::move_stage,
                doc("deals", "Move a deal to another stage"),
            ),
        )
        .api_route(
            "/opportunities/{id}/close-won",
            post_with(change::close_won, doc("deals", "Close a deal won")),
        )
        .api_route(
            "/opportunities/{id}/close-lost",
            post_with(change::close_lost, doc("deals", "Close a deal lost")),
        )
        .api_route(
            "/opportunities/{id}/reopen",
            post_with(change::reopen, doc("deals", "Reopen a closed deal")),
        )
        .api_route(
            "/opportunities/{id}/evidence",
            post_with(
                change::record_evidence,
                doc(
                    "deals",
                    "Record a gate, score, milestone, stakeholder or criterion",
                ),
            ),
        )
        .api_route(
            "/forecast",
            get_with(
                forecast::forecast,
                doc("forecast", "The period's forecast by four methods"),
            ),
        )
        .api_route(
            "/forecast/backtest",
            get_with(
                forecast::backtest,
                doc("forecast", "Every method replayed on past quarters"),
            ),
        )
        .api_route(
            "/forecast/snapshots",
            get_with(
                forecast::snapshots,
                doc("forecast", "The period's forecast snapshots"),
            )
            .post_with(
                forecast_submissions::snapshot,
                doc("forecast", "Take a snapshot of the period's forecast now"),
            ),
        )
        .api_route(
            "/forecast/calls",
            post_with(
                forecast_submissions::call,
                doc("forecast", "Submit a rep's call on their deals"),
            ),
        )
        .api_route(
            "/forecast/adjustments",
            post_with(
                forecast_submissions::adjust,
                doc("forecast", "Adjust the number of someone below you"),
            ),
        )
        .api_route(
            "/forecast/snapshots/compare",
            get_with(
                forecast::compare,
                doc("forecast", "What moved between two snapshots"),
            ),
        )
        .api_route(
            "/reports/{name}",
            get_with(reports::report, doc("reports", "A pipeline report")),
        );
    ApiRouter::new()
        .api_route(
            "/",
            get_with(index::index, doc("server", "What this server holds")),
        )
        .api_route(
            "/health",
            get_with(
                health::health,
                doc("server", "Whether the database answers"),
            ),
        )
        .nest(WORKSPACE, workspace)
}
