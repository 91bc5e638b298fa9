//! Leads: people not yet qualified into deals. A lead is read by those who reach its owner,
//! and one with no owner (the queue) by everyone; written like an account: a writer may take
//! a lead for themselves, and only those who change owners give one away. A new lead is the
//! caller's unless another owner (or `null`, for the queue) is given; one for a person who
//! already has a lead updates that lead instead. Its fit assessment, intent signals and
//! validation answers are added through their own endpoints, and its assessment (scores,
//! route, stage, response clock) is read from `…/qualification`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use pipewise_analytics::leads::LeadFunnelReport;
use pipewise_core::calendar::{Period, parse_timestamp};
use pipewise_core::crm::BuyingRole;
use pipewise_core::crm::edits::LeadFields;
use pipewise_core::crm::{Lead, LeadStatus};
use pipewise_core::ids::{AccountId, ContactId, LeadId, OpportunityId, UserId, WorkspaceId};
use pipewise_core::leads::assessment::{Assessment, assess};
use pipewise_core::leads::conversion;
use pipewise_core::leads::intake;
use pipewise_core::leads::scoring::{
    FitAssessment, IntentSignal, Layer, LeadEvidence, ValidationAnswer,
};
use pipewise_core::leads::settings::LeadSettings;
use pipewise_core::leads::speed::{self, Response};
use pipewise_core::opportunity::{self, OpportunityDraft};
use pipewise_core::text::{Label, Note};
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use pipewise_store::{AccountFilter, ContactFilter, LeadFilter, PageRequest, Store, commands};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IdPath;
use super::lists::{self, ListPage};
use super::opportunities::OpportunityView;
use super::records::{self, BoxFuture, Editable, decided, record_kind};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::responses::CreatedOrUpdated;
use crate::versioning::{IfMatch, Versioned};
use crate::{ApiError, AppState};

impl Editable for Lead {
    record_kind!(Lead, LeadId, LeadFields, "leads", lead);

    fn readable(&self, caller: &Caller) -> bool {
        self.owner_id
            .is_none_or(|owner| caller.access.can_read(owner))
    }

    fn check_write<'a>(
        caller: &'a Caller,
        _: &'a dyn Store,
        before: Option<&'a Self>,
        after: Option<&'a Self>,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        decided(caller.access.check_record_write(
            before.and_then(|l| l.owner_id),
            after.and_then(|l| l.owner_id),
        ))
    }

    fn create(fields: &LeadFields, caller: &Caller) -> Result<Self, FieldErrors> {
        let mut lead = fields.create(LeadId::generate(), chrono::Utc::now())?;
        if fields.owner_id.is_none() {
            lead.owner_id = Some(caller.user.id);
        }
        Ok(lead)
    }

    fn change(fields: &LeadFields, current: &Self) -> Result<Self, FieldErrors> {
        fields.change(current, Utc::now())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200; default 50.
    limit: Option<String>,
    /// Only this owner's leads.
    owner_id: Option<String>,
    /// `new`, `working`, `mql`, `sql`, `sal` or `disqualified`.
    status: Option<String>,
    /// `true`: only leads the assignment rules could not place (the routing-issue log).
    routing_issue: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/leads`: the leads the caller may read that the
/// filters keep, in creation order.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<LeadQuery>, QueryRejection>,
) -> Result<Json<ListPage<Lead>>, ApiError> {
    let query = lists::query(query, "cursor, limit, owner_id, status and routing_issue")?;
    let mut fields = Fields::default();
    let page = lists::page(&mut fields, query.cursor.as_deref(), query.limit.as_deref());
    let owner = fields.check_optional("owner_id", query.owner_id.as_deref(), str::parse::<UserId>);
    let status = fields.check_optional("status", query.status.as_deref(), str::parse::<LeadStatus>);
    let routing_issue =
        fields.check_optional("routing_issue", query.routing_issue.as_deref(), |t| {
            t.trim()
                .parse::<bool>()
                .map_err(|_| InvalidValue::new(t, "true or false"))
        });
    fields.finish()?;
    // Asked for no one in particular, the queue is in the list too.
    let filter = LeadFilter {
        owners: caller.access.owners_within_reach(owner),
        unowned: owner.is_none(),
        status,
        routing_issue: routing_issue.unwrap_or(false),
    };
    let page = state
        .store
        .leads(caller.workspace.id, page, &filter)
        .await?;
    Ok(Json(ListPage::new(page.items, page.next_after)))
}

/// The workspace's lead settings in force.
async fn settings(state: &AppState, caller: &Caller) -> Result<LeadSettings, ApiError> {
    Ok(pipewise_store::leads::settings(&*state.store, &caller.workspace).await?)
}

/// `POST /api/v1/workspaces/{workspace}/leads`: a new lead (`201`); or, when a lead for the
/// same person exists (same e-mail address, ignoring case and `+tags`), that lead updated
/// with the fields given (`200`), keeping its status, nurture and owner. A new lead without
/// an account is linked to the account with its company's web domain.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(fields): JsonBody<LeadFields>,
) -> Result<CreatedOrUpdated<Lead>, ApiError> {
    caller.access.check_writer()?;
    let mut lead = <Lead as Editable>::create(&fields, &caller)?;
    let workspace = caller.workspace.id;
    if let Some(email) = &lead.email {
        if let Some(existing) = state.store.lead_by_email(workspace, email).await? {
            if !existing.readable(&caller) {
                return Err(ApiError::Conflict(
                    "a lead for this e-mail address exists and belongs to someone out of your \
                     reach; ask its owner or their manager to update it"
                        .to_owned(),
                ));
            }
            let update = LeadFields {
                status: None,
                nurture: None,
                disposition: None,
                owner_id: None,
                ..fields
            };
            let path = IdPath::of(existing.id);
            let updated = records::edit(&state, &caller, &path, None, |before: &Lead| {
                Ok(update.change(before, Utc::now())?)
            })
            .await?;
            return Ok(CreatedOrUpdated::Updated(updated));
        }
    }
    if lead.account_id.is_none() {
        lead.account_id = account_of_company(&*state.store, workspace, &lead).await?;
    }
    // A lead that names no owner is placed by the workspace's assignment rules, if it has
    // any; the rules, not the caller, give it to someone.
    if fields.owner_id.is_none() {
        let settings = settings(&state, &caller).await?;
        let routed =
            pipewise_store::leads::route(&*state.store, &caller.workspace, &settings, &lead)
                .await?;
        if let Some((owner, issue)) = routed {
            lead.owner_id = owner;
            lead.routing_issue = issue;
            return Ok(CreatedOrUpdated::Created(
                records::write_new(&state, &caller, lead).await?,
            ));
        }
    }
    Ok(CreatedOrUpdated::Created(
        records::store_new(&state, &caller, lead).await?,
    ))
}

/// Stores the lead's next version with its evidence changed by `change`.
async fn with_evidence(
    state: &AppState,
    caller: &Caller,
    path: &IdPath,
    version: Option<u32>,
    change: impl Fn(&mut LeadEvidence),
) -> Result<Versioned<Lead>, ApiError> {
    records::edit(state, caller, path, version, |before: &Lead| {
        let mut lead = before.clone();
        change(&mut lead.evidence);
        lead.version += 1;
        Ok(lead)
    })
    .await
}

/// `PUT …/leads/{id}/fit`: the lead's fit assessment, part by part, each with its points and
/// the evidence behind them; replaces the previous one.
pub(crate) async fn assess_fit(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    IfMatch(version): IfMatch,
    JsonBody(fit): JsonBody<FitAssessment>,
) -> Result<Versioned<Lead>, ApiError> {
    settings(&state, &caller).await?.rubric.check_fit(&fit)?;
    with_evidence(&state, &caller, &path, version, |evidence| {
        evidence.fit = fit.clone()
    })
    .await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalInput {
    /// A signal of the rubric, such as `demo_request` or `pricing_guide_download`.
    signal: String,
    /// When it happened, in RFC 3339; defaults to now.
    at: Option<String>,
    /// What exactly was seen: "asked for a rollout plan for 3 sites".
    evidence: Option<String>,
    /// The campaign, sequence or event behind it, such as `sequence A`: the channel credited
    /// with the lead's origin (if the signal books a meeting) or influence.
    channel: Option<String>,
}

/// `POST …/leads/{id}/signals`: records something the lead did; their intent score counts it
/// with its age. Added to the newest version unless `If-Match` names one.
pub(crate) async fn add_signal(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    IfMatch(version): IfMatch,
    JsonBody(input): JsonBody<SignalInput>,
) -> Result<Versioned<Lead>, ApiError> {
    let now = Utc::now();
    let rubric = settings(&state, &caller).await?.rubric;
    let mut fields = Fields::default();
    let signal = fields.check(
        "signal",
        rubric.signal(&input.signal).map(|(key, _)| key.clone()),
    );
    let at = fields
        .check_optional("at", input.at.as_deref(), |t| not_after(t, now))
        .unwrap_or(now);
    let evidence = fields.check_optional("evidence", input.evidence.as_deref(), Label::parse);
    let channel = fields.check_optional("channel", input.channel.as_deref(), Label::parse);
    let signal = fields.build(|| {
        Some(IntentSignal {
            signal: signal?,
            at,
            evidence,
            channel,
        })
    })?;
    with_evidence(&state, &caller, &path, version, |evidence| {
        evidence.signals.push(signal.clone());
        evidence.signals.sort_by_key(|s| s.at);
    })
    .await
}

/// A time given for something that happened: not in the future.
fn not_after(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, InvalidValue> {
    let at = parse_timestamp(text)?;
    if at > now + Duration::minutes(5) {
        return Err(InvalidValue::new(text, "a time that has passed"));
    }
    Ok(at)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerInput {
    /// `fit`, `intent` or `readiness`: the score the question checks.
    layer: String,
    question: String,
    answer: String,
}

/// `POST …/leads/{id}/answers`: the answer to a question that checks a score, kept with the
/// lead.
pub(crate) async fn add_answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    IfMatch(version): IfMatch,
    JsonBody(input): JsonBody<AnswerInput>,
) -> Result<Versioned<Lead>, ApiError> {
    let mut fields = Fields::default();
    let layer = fields.check("layer", input.layer.parse::<Layer>());
    let question = fields.check("question", Label::parse(&input.question));
    let answer = fields.check("answer", Note::parse(&input.answer));
    let answer = fields.build(|| {
        Some(ValidationAnswer {
            layer: layer?,
            question: question?,
            answer: answer?,
            at: Utc::now(),
        })
    })?;
    with_evidence(&state, &caller, &path, version, |evidence| {
        evidence.answers.push(answer.clone())
    })
    .await
}

/// `GET …/leads/{id}/qualification`: the lead's fit and intent scores with what each rests
/// on, the route the fit × intent matrix prescribes, the stage the scores justify, its
/// speed-to-lead clock and the validation questions not yet answered.
pub(crate) async fn qualification(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Assessment>, ApiError> {
    let lead: Lead = records::readable(&state, &caller, &path).await?;
    let attempts =
        pipewise_store::leads::attempts_on(&*state.store, caller.workspace.id, lead.id).await?;
    let settings = settings(&state, &caller).await?;
    Ok(Json(assess(&lead, &attempts, &settings, Utc::now())))
}

/// The leads waiting for a sales attempt that the caller may read, the most urgent first,
/// handed to `take` with the lead settings their clocks run by.
pub(crate) async fn visible_queue<R>(
    state: &AppState,
    caller: &Caller,
    take: impl FnOnce(&LeadSettings, Vec<(&Lead, Response)>) -> R,
) -> Result<R, ApiError> {
    let settings = settings(state, caller).await?;
    let now = Utc::now();
    let taken = state
        .lead_queues
        .read(caller.workspace.id, &settings, |queue| {
            let waiting = queue
                .waiting()
                .filter(|(lead, _)| lead.readable(caller))
                .map(|(lead, clock)| (lead, clock.at(now)));
            take(&settings, speed::queue(waiting))
        })
        .await?;
    Ok(taken)
}

/// The account with the lead's company's web domain, if there is one.
async fn account_of_company(
    store: &dyn Store,
    workspace: WorkspaceId,
    lead: &Lead,
) -> Result<Option<AccountId>, ApiError> {
    let Some(domain) = intake::company_domain(lead.email.as_ref(), lead.website.as_ref()) else {
        return Ok(None);
    };
    let filter = AccountFilter {
        domain: Some(domain),
        ..AccountFilter::default()
    };
    let first = PageRequest {
        after: None,
        limit: 1,
    };
    let accounts = store.accounts(workspace, first, &filter).await?;
    Ok(accounts.items.first().map(|a| a.id))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConversionInput {
    /// The deal to open, as for `POST …/opportunities`; its account, owner, name, source and
    /// segment default to the lead's.
    #[serde(default)]
    opportunity: OpportunityDraft,
    /// The person's role in the buying group: `economic_buyer`, `champion`,
    /// `decision_maker`, `signer`, `blocker`, `influencer` (the default), `procurement` or
    /// `legal`.
    buying_role: Option<String>,
}

/// `POST …/leads/{id}/convert`: sales accepts the lead. Its company becomes the deal's account
/// (the lead's account, else the one with its web domain, else a new one), the person its
/// primary contact on the stakeholder map (the account's contact with the same e-mail, else a
/// new one), and the deal opens at the process's SAL stage unless another is named; the lead
/// becomes `sal` and points at the deal. Answers the deal, `201`.
pub(crate) async fn convert(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    IfMatch(version): IfMatch,
    JsonBody(input): JsonBody<ConversionInput>,
) -> Result<Versioned<OpportunityView, 201>, ApiError> {
    let lead: Lead = records::current(&state, &caller, &path, IfMatch(version)).await?;
    conversion::check(&lead)?;
    let mut fields = Fields::default();
    let role = fields
        .check_optional(
            "buying_role",
            input.buying_role.as_deref(),
            str::parse::<BuyingRole>,
        )
        .unwrap_or(BuyingRole::Influencer);
    fields.finish()?;
    let workspace = caller.workspace.id;
    let store = &*state.store;
    let now = Utc::now();
    let found_account = match lead.account_id {
        Some(account) => Some(account),
        None => account_of_company(store, workspace, &lead).await?,
    };
    let account = found_account.unwrap_or_else(AccountId::generate);
    let found_contact = match (&lead.email, found_account) {
        (Some(email), Some(account)) => {
            let same_person = ContactFilter {
                account: Some(account),
                email: Some(email.clone()),
            };
            let first = PageRequest {
                after: None,
                limit: 1,
            };
            store
                .contacts(workspace, first, &same_person)
                .await?
                .items
                .first()
                .map(|c| c.id)
        }
        _ => None,
    };
    let contact = found_contact.unwrap_or_else(ContactId::generate);
    let draft = conversion::draft(
        &lead,
        input.opportunity,
        account,
        contact,
        role,
        caller.user.id,
    );
    if let Some(owner) = draft
        .owner_id
        .as_deref()
        .and_then(|o| o.parse::<UserId>().ok())
    {
        caller.access.check_edit(owner)?;
    }
    // Whether the deal can open is decided before anything is written, so a refused
    // conversion leaves no account or contact behind.
    let processes = &caller.context.processes;
    let process = processes.default_process();
    let created = draft.validate(process, caller.workspace.corporate_currency)?;
    opportunity::open(OpportunityId::generate(), created, process, caller.stamp())?;
    if found_account.is_none() {
        let new = conversion::new_account(&lead, account, now)
            .ok_or_else(|| ApiError::Fault("a lead passing the check has a company".into()))?;
        records::store_new(&state, &caller, new).await?;
    }
    if found_contact.is_none() {
        let new = conversion::new_contact(&lead, account, role, contact, now);
        records::store_new(&state, &caller, new).await?;
    }
    let deal =
        commands::create_opportunity(store, &caller.workspace, process, &draft, caller.stamp())
            .await?;
    // The deal is open; the lead follows it on whatever version it is at now.
    records::edit(&state, &caller, &path, None, |before: &Lead| {
        Ok(conversion::converted(before, deal.id, account)?)
    })
    .await?;
    let location = format!(
        "/api/v1/workspaces/{}/opportunities/{}",
        caller.workspace.slug, deal.id
    );
    Ok(Versioned {
        version: deal.version,
        location: Some(location),
        body: OpportunityView::new(deal, processes),
    })
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FunnelQuery {
    /// Fiscal period, such as 2026-Q3, FY2026 or 2026-07 [default: the current quarter].
    period: Option<String>,
}

/// `GET …/reports/lead-funnel`: Lead → MQL → SQL → SAL conversion of the leads created in a
/// period, speed-to-lead and its breaches, and conversion by source and by fit × intent band.
pub(crate) async fn funnel(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<FunnelQuery>, QueryRejection>,
) -> Result<Json<LeadFunnelReport>, ApiError> {
    let query = lists::query(query, "period")?;
    let now = Utc::now();
    let mut fields = Fields::default();
    let calendar = caller.workspace.fiscal_calendar;
    let period = fields
        .check_optional("period", query.period.as_deref(), str::parse::<Period>)
        .unwrap_or_else(|| calendar.quarter_of(now.date_naive()));
    fields.finish()?;
    let settings = settings(&state, &caller).await?;
    let facts =
        pipewise_store::leads::funnel_facts(&*state.store, &caller.workspace, &settings, now)
            .await?;
    Ok(Json(LeadFunnelReport::of(&facts, calendar, period)))
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueQuery {
    /// Only this owner's leads.
    owner_id: Option<String>,
}

/// A lead waiting for a sales attempt, with its response clock.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct QueuedLead {
    lead: Lead,
    speed_to_lead: Response,
}

/// `GET …/leads/queue`: the leads the caller may read that wait for an attempt — queued,
/// open, not in nurture, with an attempt still due — the most urgent first (earliest due, then
/// longest waiting). Overdue leads come first, since their due time has passed.
pub(crate) async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Result<Json<Vec<QueuedLead>>, ApiError> {
    let query = lists::query(query, "owner_id")?;
    let mut fields = Fields::default();
    let owner = fields.check_optional("owner_id", query.owner_id.as_deref(), str::parse::<UserId>);
    fields.finish()?;
    let ordered = visible_queue(&state, &caller, |_, waiting| {
        waiting
            .into_iter()
            .filter(|(lead, _)| owner.is_none_or(|o| lead.owner_id == Some(o)))
            .map(|(lead, speed_to_lead)| QueuedLead {
                lead: lead.clone(),
                speed_to_lead,
            })
            .collect()
    })
    .await?;
    Ok(Json(ordered))
}
