mod accounts;
mod activities;
mod contacts;
mod forecast;
mod forecast_submissions;
mod health;
pub(crate) mod hygiene;
mod index;
pub(crate) mod leads;
pub(crate) mod lists;
mod opportunities;
mod opportunity_changes;
mod process;
pub(crate) mod records;
pub(crate) mod reports;
mod session;
mod settings;
mod targets;
mod tokens;
mod users;
mod webhooks;

use aide::axum::ApiRouter;
use aide::axum::routing::{delete_with, get_with, post_with, put_with};
use aide::transform::TransformOperation;
use pipewise_core::crm::{Account, Activity, Contact, Lead, Target};
use schemars::JsonSchema;
use serde::Deserialize;

use std::str::FromStr;

use pipewise_core::validation::{FieldErrors, InvalidValue};

use crate::{ApiError, AppState};

pub(crate) use forecast::{backtest_report, forecast_report};

/// Where each workspace's API lives.
const WORKSPACE: &str = "/api/v1/workspaces/{workspace}";

/// A record named in the path.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct IdPath {
    /// The record's id.
    id: String,
}

impl IdPath {
    pub(crate) fn of(id: impl std::fmt::Display) -> Self {
        Self { id: id.to_string() }
    }

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
    let workspace = crm_routes(ApiRouter::new())
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
            "/settings/leads",
            get_with(
                settings::show_leads,
                doc("leads", "The lead settings in force"),
            )
            .put_with(
                settings::apply_leads,
                doc("leads", "Apply lead settings (admins)"),
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
            "/process",
            get_with(
                process::show,
                doc("process", "The sales process in force, with its files"),
            )
            .put_with(
                process::apply,
                doc(
                    "process",
                    "Apply new process files as the next version (admins)",
                ),
            ),
        )
        .api_route(
            "/process/history",
            get_with(
                process::history,
                doc("process", "Every process version: who, when, what changed"),
            ),
        )
        .api_route(
            "/reports/lead-funnel",
            get_with(leads::funnel, doc("reports", "The lead funnel of a period")),
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

/// Accounts, contacts, leads, activities and targets: each read, created, changed and shown
/// with its history alike (`records`); activities and targets may also be deleted.
fn crm_routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    use records::{create, delete, history, patch, show};
    router
        .api_route(
            "/accounts",
            get_with(
                accounts::list,
                doc("accounts", "Accounts, a page at a time"),
            )
            .post_with(create::<Account>, doc("accounts", "Add an account")),
        )
        .api_route(
            "/accounts/{id}",
            get_with(show::<Account>, doc("accounts", "An account"))
                .patch_with(patch::<Account>, doc("accounts", "Change an account")),
        )
        .api_route(
            "/accounts/{id}/history",
            get_with(
                history::<Account>,
                doc("accounts", "Every change to an account"),
            ),
        )
        .api_route(
            "/contacts",
            get_with(
                contacts::list,
                doc("contacts", "Contacts, a page at a time"),
            )
            .post_with(create::<Contact>, doc("contacts", "Add a contact")),
        )
        .api_route(
            "/contacts/{id}",
            get_with(show::<Contact>, doc("contacts", "A contact"))
                .patch_with(patch::<Contact>, doc("contacts", "Change a contact")),
        )
        .api_route(
            "/contacts/{id}/history",
            get_with(
                history::<Contact>,
                doc("contacts", "Every change to a contact"),
            ),
        )
        .api_route(
            "/leads",
            get_with(leads::list, doc("leads", "Leads the caller may read")).post_with(
                leads::create,
                doc(
                    "leads",
                    "Add a lead, or update the lead for the same person",
                ),
            ),
        )
        .api_route(
            "/leads/queue",
            get_with(
                leads::queue,
                doc(
                    "leads",
                    "Leads waiting for a sales attempt, most urgent first",
                ),
            ),
        )
        .api_route(
            "/leads/{id}",
            get_with(show::<Lead>, doc("leads", "A lead"))
                .patch_with(patch::<Lead>, doc("leads", "Change a lead")),
        )
        .api_route(
            "/leads/{id}/history",
            get_with(history::<Lead>, doc("leads", "Every change to a lead")),
        )
        .api_route(
            "/leads/{id}/fit",
            put_with(
                leads::assess_fit,
                doc("leads", "Assess a lead's fit, with evidence"),
            ),
        )
        .api_route(
            "/leads/{id}/signals",
            post_with(leads::add_signal, doc("leads", "Record an intent signal")),
        )
        .api_route(
            "/leads/{id}/answers",
            post_with(
                leads::add_answer,
                doc("leads", "Record the answer to a validation question"),
            ),
        )
        .api_route(
            "/leads/{id}/convert",
            post_with(
                leads::convert,
                doc("leads", "Convert an accepted lead into an opportunity"),
            ),
        )
        .api_route(
            "/leads/{id}/qualification",
            get_with(
                leads::qualification,
                doc("leads", "A lead's scores, route, stage and response clock"),
            ),
        )
        .api_route(
            "/activities",
            get_with(
                activities::list,
                doc(
                    "activities",
                    "Calls, e-mails, meetings and notes the caller may read",
                ),
            )
            .post_with(create::<Activity>, doc("activities", "Log an activity")),
        )
        .api_route(
            "/activities/{id}",
            get_with(show::<Activity>, doc("activities", "An activity"))
                .patch_with(patch::<Activity>, doc("activities", "Change an activity"))
                .delete_with(delete::<Activity>, doc("activities", "Delete an activity")),
        )
        .api_route(
            "/activities/{id}/history",
            get_with(
                history::<Activity>,
                doc("activities", "Every change to an activity"),
            ),
        )
        .api_route(
            "/targets",
            get_with(
                targets::list,
                doc("targets", "Quotas and plan numbers the caller may read"),
            )
            .post_with(
                create::<Target>,
                doc("targets", "Set a quota or plan number"),
            ),
        )
        .api_route(
            "/targets/{id}",
            get_with(show::<Target>, doc("targets", "A quota or plan number"))
                .patch_with(patch::<Target>, doc("targets", "Change a quota"))
                .delete_with(delete::<Target>, doc("targets", "Remove a quota")),
        )
        .api_route(
            "/targets/{id}/history",
            get_with(history::<Target>, doc("targets", "Every change to a quota")),
        )
}
