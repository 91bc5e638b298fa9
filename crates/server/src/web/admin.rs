//! Administration: the sales process files (edited and applied whole, with every error
//! located by file and line), the people and their roles, API tokens, and quotas. Everyone
//! signed in may read what their role reaches; the controls show for the roles that may use
//! them, and the API checks again.

use axum::extract::State;
use axum::response::Html;
use chrono::Utc;
use maud::{Markup, html};
use pipewise_core::access::Action;
use pipewise_core::calendar::Period;
use pipewise_core::credentials::ApiToken;
use pipewise_core::crm::{Target, TargetOwner};
use pipewise_core::org::Team;
use pipewise_core::process::{ProcessRevision, ProcessSet};
use pipewise_store::processes;

use super::format::{date, money_exact};
use super::layout::{self, Section};
use super::viewer::{PageError, Viewer};
use crate::AppState;
use crate::routes::records::Editable;

/// `GET /app/{workspace}/admin`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Html<String>, PageError> {
    let caller = &viewer.0;
    let workspace = caller.workspace.id;
    let set = processes::current(&*state.store, &caller.workspace).await?;
    let history = state.store.process_history(workspace).await?;
    let teams = state.store.teams(workspace).await?;
    let manages_users = caller.access.check_action(Action::ManageUsers).is_ok();
    let tokens: Vec<ApiToken> = state
        .store
        .api_tokens(workspace)
        .await?
        .into_iter()
        .filter(|t| manages_users || t.user_id == caller.user.id)
        .collect();
    // This fiscal year's numbers: earlier years' stay in the API and the exports.
    let calendar = caller.workspace.fiscal_calendar;
    let year = calendar.year_of(Utc::now().date_naive());
    let this_year = calendar.range(Period::Year(year));
    // The quotas every forecast reads, kept by the directory: tens of thousands at scale.
    let settings = state.directory.report_settings(&caller.workspace).await?;
    let targets: Vec<&Target> = settings
        .targets
        .iter()
        .filter(|t| t.readable(caller) && this_year.contains(calendar.range(t.period).start))
        .collect();
    let content = html! {
        h1 { "Administration" }
        (process(&viewer, &set, &history))
        (people(&viewer, &teams))
        (api_tokens(&viewer, &tokens))
        (quotas(&viewer, &targets, &teams, year))
    };
    Ok(Html(
        layout::page(&viewer, Section::Admin, "Administration", content).into_string(),
    ))
}

fn process(viewer: &Viewer, set: &ProcessSet, history: &[ProcessRevision]) -> Markup {
    let edits = viewer.0.access.check_action(Action::EditProcess).is_ok();
    html! {
        section.panel aria-labelledby="process-heading" {
            h2 id="process-heading" { "Sales process, version " (set.version().0) }
            p.note { "Each file defines one process: its buyer stages, the criteria to enter and leave them, and the forecast category of each phase. "
                "A new set is checked whole and applied as the next version, or refused with every error and nothing changed." }
            form data-form="process" data-version=(set.version().0) {
                @for (i, file) in set.files().iter().enumerate() {
                    label for={ "process-file-" (i) } { (file.name) }
                    textarea.code id={ "process-file-" (i) } name=(file.name) rows="18" spellcheck="false" readonly[!edits] { (file.text) }
                }
                div.problem role="alert" {}
                @if edits { button type="submit" { "Apply as version " (set.version().0 + 1) } }
            }
            @if !history.is_empty() {
                h3 { "Versions" }
                table {
                    thead { tr { th scope="col" { "Version" } th scope="col" { "Applied" } th scope="col" { "By" } th scope="col" { "Changes" } } }
                    tbody {
                        @for revision in history.iter().rev() {
                            tr {
                                td { (revision.version.0) }
                                td { (date(revision.changed_at.date_naive())) }
                                td { (revision.changed_by.map_or("pipewise", |id| viewer.user_name(id))) }
                                td { @if revision.changes.is_empty() { "First version" } @else {
                                    ul { @for change in &revision.changes { li { (change) } } }
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn people(viewer: &Viewer, teams: &[Team]) -> Markup {
    let users = &viewer.0.context.users;
    html! {
        section.panel aria-labelledby="people-heading" {
            h2 id="people-heading" { "People and roles" }
            table.sortable {
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Role" }
                    th scope="col" { "Reports to" } th scope="col" { "Team" }
                } }
                tbody {
                    @for user in users {
                        tr {
                            td { (user.name) }
                            td { (user.email) }
                            td { (user.role.as_str()) }
                            td { (user.manager_id.map_or("", |m| viewer.user_name(m))) }
                            td { (user.team_id.and_then(|t| teams.iter().find(|team| team.id == t)).map_or("", |t| t.name.as_str())) }
                        }
                    }
                }
            }
        }
    }
}

fn api_tokens(viewer: &Viewer, tokens: &[ApiToken]) -> Markup {
    html! {
        section.panel aria-labelledby="tokens-heading" {
            h2 id="tokens-heading" { "API tokens" }
            @if tokens.is_empty() {
                p { "No API tokens yet." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Owner" } th scope="col" { "Scope" }
                        th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "State" }
                    } }
                    tbody {
                        @for token in tokens {
                            tr {
                                td { (token.name) }
                                td { (viewer.user_name(token.user_id)) }
                                td { (token.scope.as_str()) }
                                td { (date(token.created_at.date_naive())) }
                                td { (token.last_used_at.map_or("Never".to_owned(), |t| date(t.date_naive()))) }
                                td {
                                    @match token.revoked_at {
                                        Some(at) => { "Revoked " (date(at.date_naive())) },
                                        None => { button type="button" data-api={ "/tokens/" (token.id) } data-method="DELETE" { "Revoke " (token.name) } },
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.inline data-api="/tokens" data-method="POST" data-shows="secret" {
                label for="token-name" { "Token name" }
                input id="token-name" name="name" required placeholder="Nightly export";
                label for="token-scope" { "Scope" }
                select id="token-scope" name="scope" {
                    option value="read" { "Read" }
                    @if viewer.writes() { option value="write" { "Read and write" } }
                }
                button type="submit" { "Create token" }
                div.problem role="alert" {}
                output.secret {}
            }
        }
    }
}

fn quotas(viewer: &Viewer, targets: &[&Target], teams: &[Team], year: i32) -> Markup {
    let caller = &viewer.0;
    let sets = caller.access.check_action(Action::SetQuotas).is_ok();
    let owner = |target: &Target| match target.owner {
        TargetOwner::User(id) => viewer.user_name(id).to_owned(),
        TargetOwner::Team(id) => teams
            .iter()
            .find(|t| t.id == id)
            .map_or("A former team".to_owned(), |t| t.name.to_string()),
        TargetOwner::Workspace => "Company plan".to_owned(),
    };
    html! {
        section.panel aria-labelledby="quotas-heading" {
            h2 id="quotas-heading" { "Quotas and plan numbers for FY" (year) }
            table.sortable {
                thead { tr {
                    th scope="col" { "Whose" } th scope="col" { "Period" } th scope="col" { "Amount" }
                    @if sets { th scope="col" { "Remove" } }
                } }
                tbody {
                    @for target in targets {
                        tr {
                            td { (owner(target)) }
                            td { (target.period) }
                            td data-sort=(target.amount.minor) { (money_exact(target.amount.minor, target.amount.currency)) }
                            @if sets {
                                td { button type="button" data-api={ "/targets/" (target.id) } data-method="DELETE" data-version=(target.version) {
                                    "Remove " (owner(target)) " " (target.period)
                                } }
                            }
                        }
                    }
                }
            }
            @if sets {
                form.inline data-api="/targets" data-method="POST" {
                    label for="quota-whose" { "Whose" }
                    select id="quota-whose" name="owner" {
                        option value="workspace:" { "Company plan" }
                        @for team in teams { option value={ "team:" (team.id) } { "Team: " (team.name) } }
                        @for user in caller.context.users.iter().filter(|u| caller.access.can_read(u.id)) {
                            option value={ "user:" (user.id) } { (user.name) }
                        }
                    }
                    label for="quota-period" { "Period" }
                    input id="quota-period" name="period" required placeholder={ (year) "-Q1, FY" (year) " or " (year) "-01" };
                    label for="quota-amount" { "Amount" }
                    input id="quota-amount" name="amount" required inputmode="decimal" placeholder="250000";
                    button type="submit" { "Set quota" }
                    div.problem role="alert" {}
                }
            }
        }
    }
}
