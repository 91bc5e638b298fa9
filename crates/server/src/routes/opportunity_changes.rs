//! Changes to deals: opening one, moving it, closing, reopening, editing fields and recording
//! evidence. Each is checked against the caller's access, then decided by the domain
//! (`pipewise_core::opportunity::execute`) and stored with its events; each names the version
//! it was made on in `If-Match` and answers with the deal's new version as its ETag.

use axum::extract::{Path, State};
use chrono::NaiveDate;
use pipewise_core::calendar::parse_date;
use pipewise_core::evidence::EvidenceChange;
use pipewise_core::ids::{AccountId, OpportunityId, UserId};
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{
    Command, FieldChange, LossType, NextStep, Opportunity, OpportunityDraft,
};
use pipewise_core::process::{ForecastCategory, Process, ProcessSet};
use pipewise_core::text::{Label, Name, Note};
use pipewise_core::validation::{FieldErrors, Fields, present};
use pipewise_store::commands;
use schemars::JsonSchema;
use serde::Deserialize;

use super::IdPath;
use super::opportunities::OpportunityView;
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::versioning::{IfMatch, Versioned};
use crate::{ApiError, AppState};

/// A deal in a response, with its version as the ETag.
fn versioned<const STATUS: u16>(
    deal: Opportunity,
    processes: &ProcessSet,
    location: Option<String>,
) -> Versioned<OpportunityView, STATUS> {
    Versioned {
        version: deal.version,
        location,
        body: OpportunityView::new(deal, processes),
    }
}

/// `POST /api/v1/workspaces/{workspace}/opportunities`: opens a deal. The owner defaults to
/// the caller.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(mut draft): JsonBody<OpportunityDraft>,
) -> Result<Versioned<OpportunityView, 201>, ApiError> {
    let owner_text = draft
        .owner_id
        .get_or_insert_with(|| caller.user.id.to_string());
    if let Ok(owner) = owner_text.parse::<UserId>() {
        caller.access.check_edit(owner)?;
    }
    let processes = &caller.context.processes;
    let process = processes.default_process();
    let deal = commands::create_opportunity(
        &*state.store,
        &caller.workspace,
        process,
        &draft,
        caller.stamp(),
    )
    .await?;
    let location = format!(
        "/api/v1/workspaces/{}/opportunities/{}",
        caller.workspace.slug, deal.id
    );
    Ok(versioned(deal, processes, Some(location)))
}

/// Loads a deal the caller can see, decides the commands `build` makes of the request on
/// it, checks the caller may run them, and stores them as one change.
async fn change(
    state: &AppState,
    caller: &Caller,
    path: &IdPath,
    IfMatch(version): IfMatch,
    build: impl FnOnce(&Opportunity, &Process, NaiveDate) -> Result<Vec<Command>, FieldErrors>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    let id: OpportunityId = path.parse()?;
    let deal = state.store.opportunity(caller.workspace.id, id).await?;
    if !caller.access.can_read(deal.owner_id) {
        return Err(ApiError::NotFound {
            what: "opportunity",
            key: id.to_string(),
        });
    }
    let processes = &caller.context.processes;
    let process = processes.process_of(&deal.process);
    let stamp = caller.stamp();
    let commands = build(&deal, process, stamp.effective_at.date_naive())?;
    for command in &commands {
        caller.access.check_command(deal.owner_id, command)?;
    }
    let deal = commands::execute_all_on(
        &*state.store,
        &caller.workspace,
        process,
        deal,
        version,
        commands,
        stamp,
    )
    .await?;
    Ok(versioned(deal, processes, None))
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NextStepBody {
    text: Option<String>,
    /// Defaults to the deal's owner.
    owner_id: Option<String>,
    due: Option<String>,
}

impl NextStepBody {
    fn parse(&self, fields: &mut Fields, at: &str, deal_owner: UserId) -> Option<NextStep> {
        let text = fields.require(&format!("{at}.text"), self.text.as_deref(), Note::parse);
        let owner = fields
            .check_optional(&format!("{at}.owner_id"), self.owner_id.as_deref(), |s| {
                s.parse::<UserId>()
            })
            .unwrap_or(deal_owner);
        let due = fields.require(&format!("{at}.due"), self.due.as_deref(), parse_date);
        Some(NextStep {
            text: text?,
            owner_id: owner,
            due: due?,
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveBody {
    to: Option<String>,
    /// Required when moving back.
    reason: Option<String>,
    next_step: Option<NextStepBody>,
}

/// `POST .../opportunities/{id}/moves`: moves a deal to another open stage.
pub(crate) async fn move_stage(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<MoveBody>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    change(&state, &caller, &path, if_match, |deal, process, _| {
        let mut fields = Fields::default();
        let to = fields.require("to", body.to.as_deref(), |s| process.parse_stage(s));
        let reason = fields.check_optional("reason", body.reason.as_deref(), Note::parse);
        let next_step = body
            .next_step
            .as_ref()
            .map(|n| n.parse(&mut fields, "next_step", deal.owner_id));
        fields.build(|| {
            Some(vec![Command::MoveStage {
                to: to?,
                reason,
                next_step: next_step.flatten(),
            }])
        })
    })
    .await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseWonBody {
    /// Defaults to today.
    on: Option<String>,
}

/// `POST .../opportunities/{id}/close-won`.
pub(crate) async fn close_won(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<CloseWonBody>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    change(&state, &caller, &path, if_match, |_, _, today| {
        let mut fields = Fields::default();
        let on = fields.check_optional("on", body.on.as_deref(), parse_date);
        fields.build(|| {
            Some(vec![Command::CloseWon {
                on: on.unwrap_or(today),
            }])
        })
    })
    .await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseLostBody {
    /// Defaults to today.
    on: Option<String>,
    loss_type: Option<String>,
    reason: Option<String>,
    /// Required for a loss to competition.
    competitor: Option<String>,
}

/// `POST .../opportunities/{id}/close-lost`.
pub(crate) async fn close_lost(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<CloseLostBody>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    change(&state, &caller, &path, if_match, |_, _, today| {
        let mut fields = Fields::default();
        let on = fields.check_optional("on", body.on.as_deref(), parse_date);
        let loss_type = fields.require(
            "loss_type",
            body.loss_type.as_deref(),
            str::parse::<LossType>,
        );
        let reason = fields.check_optional("reason", body.reason.as_deref(), Note::parse);
        let competitor =
            fields.check_optional("competitor", body.competitor.as_deref(), Label::parse);
        fields.build(|| {
            Some(vec![Command::CloseLost {
                on: on.unwrap_or(today),
                loss_type: loss_type?,
                reason,
                competitor,
            }])
        })
    })
    .await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReopenBody {
    /// Defaults to the stage the deal closed from.
    stage: Option<String>,
    close_date: Option<String>,
    reason: Option<String>,
}

/// `POST .../opportunities/{id}/reopen`.
pub(crate) async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<ReopenBody>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    change(&state, &caller, &path, if_match, |_, process, _| {
        let mut fields = Fields::default();
        let stage =
            fields.check_optional("stage", body.stage.as_deref(), |s| process.parse_stage(s));
        let close_date = fields.require("close_date", body.close_date.as_deref(), parse_date);
        let reason = fields.require("reason", body.reason.as_deref(), Note::parse);
        fields.build(|| {
            Some(vec![Command::Reopen {
                stage,
                close_date: close_date?,
                reason: reason?,
            }])
        })
    })
    .await
}

/// `POST .../opportunities/{id}/evidence`: one change to the deal's evidence, tagged by
/// `evidence` (`gate_decided`, `scored`, `milestone_set`, `stakeholder_set`, ...).
pub(crate) async fn record_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<EvidenceChange>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    change(&state, &caller, &path, if_match, |_, _, _| {
        Ok(vec![Command::RecordEvidence(body)])
    })
    .await
}

/// A forecast category set by hand (`category`), or removed (`null`), with why.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryBody {
    category: Option<String>,
    reason: Option<String>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchBody {
    name: Option<String>,
    account_id: Option<String>,
    owner_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    amount: Option<Option<String>>,
    /// The amount's currency; defaults to the deal's current one.
    currency: Option<String>,
    close_date: Option<String>,
    #[serde(default, deserialize_with = "present")]
    source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    segment: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    competitor: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    next_step: Option<Option<NextStepBody>>,
    forecast_category: Option<CategoryBody>,
}

/// `PATCH .../opportunities/{id}`: changes several fields as one change.
pub(crate) async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<PatchBody>,
) -> Result<Versioned<OpportunityView>, ApiError> {
    let corporate_currency = caller.workspace.corporate_currency;
    change(&state, &caller, &path, if_match, |deal, _, _| {
        patch_commands(&body, deal, corporate_currency)
    })
    .await
}

fn patch_commands(
    body: &PatchBody,
    deal: &Opportunity,
    corporate_currency: Currency,
) -> Result<Vec<Command>, FieldErrors> {
    let mut fields = Fields::default();
    let mut commands = Vec::new();
    let mut push = |command: Option<Command>| commands.extend(command);
    push(
        fields
            .check_optional("name", body.name.as_deref(), Name::parse)
            .map(|name| Command::ChangeField(FieldChange::Name(name))),
    );
    push(
        fields
            .check_optional("account_id", body.account_id.as_deref(), |s| {
                s.parse::<AccountId>()
            })
            .map(|account| Command::ChangeField(FieldChange::Account(account))),
    );
    push(
        fields
            .check_optional("owner_id", body.owner_id.as_deref(), |s| {
                s.parse::<UserId>()
            })
            .map(Command::ChangeOwner),
    );
    let currency = fields
        .check_optional("currency", body.currency.as_deref(), str::parse)
        .or(deal.amount.map(|m| m.currency))
        .unwrap_or(corporate_currency);
    if let Some(amount) = &body.amount {
        let amount = match amount {
            None => Some(None),
            Some(text) => fields
                .check("amount", Money::parse_non_negative(text, currency))
                .map(Some),
        };
        push(amount.map(Command::ChangeAmount));
    }
    push(
        fields
            .check_optional("close_date", body.close_date.as_deref(), parse_date)
            .map(Command::ChangeCloseDate),
    );
    let mut label = |field: &str, value: &Option<Option<String>>| {
        value.as_ref().map(|value| match value {
            None => Some(None),
            Some(text) => fields.check(field, Label::parse(text)).map(Some),
        })
    };
    let source = label("source", &body.source).flatten();
    let segment = label("segment", &body.segment).flatten();
    let competitor = label("competitor", &body.competitor).flatten();
    push(source.map(|v| Command::ChangeField(FieldChange::Source(v))));
    push(segment.map(|v| Command::ChangeField(FieldChange::Segment(v))));
    push(competitor.map(|v| Command::ChangeField(FieldChange::Competitor(v))));
    if let Some(next_step) = &body.next_step {
        let next_step = match next_step {
            None => Some(None),
            Some(body) => body
                .parse(&mut fields, "next_step", deal.owner_id)
                .map(Some),
        };
        push(next_step.map(|n| Command::ChangeField(FieldChange::NextStep(n))));
    }
    if let Some(category) = &body.forecast_category {
        let to = fields.check_optional(
            "forecast_category.category",
            category.category.as_deref(),
            str::parse::<ForecastCategory>,
        );
        let reason = fields.check_optional(
            "forecast_category.reason",
            category.reason.as_deref(),
            Note::parse,
        );
        if category.category.is_none() || to.is_some() {
            push(Some(Command::OverrideCategory { to, reason }));
        }
    }
    fields.finish()?;
    Ok(commands)
}
