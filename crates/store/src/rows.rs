//! Rows as the database returns them, and their conversion back into domain types. Stored
//! values were validated on the way in; one that no longer parses is reported as corrupt.

use chrono::NaiveDate;
use pipewise_core::calendar::FiscalCalendar;
use pipewise_core::credentials::{ApiToken, Session};
use pipewise_core::crm::changes::RecordChange;
use pipewise_core::crm::{Account, Activity, Contact, DealTouch, Lead, Target, TargetOwner};
use pipewise_core::evidence::Evidence;
use pipewise_core::exchange::{ExchangeRate, Rate};
use pipewise_core::external::ExternalKey;
use pipewise_core::forecast::{Submission, SubmissionKind};
use pipewise_core::ids::{
    AccountId, ActivityId, ContactId, LeadId, OpportunityId, SessionId, SubmissionId, TargetId,
    TokenId, UserId, WebhookId, WorkspaceId,
};
use pipewise_core::leads::routing::RoutingIssue;
use pipewise_core::leads::scoring::LeadEvidence;
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{CategoryOverride, Loss, NextStep, Opportunity, OpportunityEvent};
use pipewise_core::org::{Team, User, Workspace};
use pipewise_core::process::{ProcessRevision, ProcessVersion};
use pipewise_core::text::{Email, Label, Name, Note, Phone, Slug, WebDomain};
use pipewise_core::validation::InvalidValue;
use pipewise_core::webhooks::{Delivery, EventFilter, Webhook, WebhookUrl};
use serde_json::value::RawValue;
use sqlx::types::Json;
use uuid::Uuid;

use crate::db_time::DbTime;
use crate::event_codec::decode_change;
use crate::{DealCard, StoreError};

/// Parses one stored column, naming the table and row if it no longer parses.
struct Parser {
    table: &'static str,
    key: String,
}

impl Parser {
    fn new(table: &'static str, key: impl ToString) -> Self {
        Self {
            table,
            key: key.to_string(),
        }
    }

    fn corrupt(&self, column: &str, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            key: self.key.clone(),
            detail: format!("{column}: {detail}"),
        }
    }

    fn value<T>(&self, column: &str, parsed: Result<T, InvalidValue>) -> Result<T, StoreError> {
        parsed.map_err(|e| self.corrupt(column, e))
    }

    fn optional<T>(
        &self,
        column: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Result<Option<T>, StoreError> {
        raw.map(parse)
            .transpose()
            .map_err(|e| self.corrupt(column, e))
    }

    fn count(&self, column: &str, raw: i64) -> Result<u32, StoreError> {
        u32::try_from(raw).map_err(|_| self.corrupt(column, format!("{raw} is out of range")))
    }

    fn money(
        &self,
        minor: Option<i64>,
        currency: Option<&str>,
    ) -> Result<Option<Money>, StoreError> {
        match (minor, currency) {
            (None, None) => Ok(None),
            (Some(minor), Some(code)) => {
                let currency: Currency = self.value("currency", code.parse())?;
                Ok(Some(Money::new(minor, currency)))
            }
            _ => Err(self.corrupt(
                "amount_minor",
                "amount and currency must both be set or both empty",
            )),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WorkspaceRow {
    id: Uuid,
    slug: String,
    name: String,
    corporate_currency: String,
    fiscal_year_start_month: i64,
    created_at: DbTime,
    rep_visibility: String,
}

impl TryFrom<WorkspaceRow> for Workspace {
    type Error = StoreError;

    fn try_from(row: WorkspaceRow) -> Result<Self, StoreError> {
        let p = Parser::new("workspaces", row.id);
        let month = p.count("fiscal_year_start_month", row.fiscal_year_start_month)?;
        Ok(Workspace {
            id: WorkspaceId::from_uuid(row.id),
            slug: p.value("slug", Slug::parse(&row.slug))?,
            name: p.value("name", Name::parse(&row.name))?,
            corporate_currency: p.value("corporate_currency", row.corporate_currency.parse())?,
            fiscal_calendar: p.value(
                "fiscal_year_start_month",
                FiscalCalendar::starting_in(month),
            )?,
            rep_visibility: p.value("rep_visibility", row.rep_visibility.parse())?,
            created_at: row.created_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    name: String,
    email: String,
    role: String,
    manager_id: Option<Uuid>,
    team_id: Option<Uuid>,
    created_at: DbTime,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let p = Parser::new("users", row.id);
        Ok(User {
            id: UserId::from_uuid(row.id),
            name: p.value("name", Name::parse(&row.name))?,
            email: p.value("email", Email::parse(&row.email))?,
            role: p.value("role", row.role.parse())?,
            manager_id: row.manager_id.map(UserId::from_uuid),
            team_id: row.team_id.map(Into::into),
            created_at: row.created_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: Uuid,
    version: i64,
    name: String,
    domain: Option<String>,
    industry: Option<String>,
    employee_band: Option<String>,
    region: Option<String>,
    segment: Option<String>,
    tier: Option<String>,
    owner_id: Option<Uuid>,
    created_at: DbTime,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        let p = Parser::new("accounts", row.id);
        Ok(Account {
            id: AccountId::from_uuid(row.id),
            version: p.count("version", row.version)?,
            name: p.value("name", Name::parse(&row.name))?,
            domain: p.optional("domain", row.domain.as_deref(), WebDomain::parse)?,
            industry: p.optional("industry", row.industry.as_deref(), Label::parse)?,
            employee_band: p.optional("employee_band", row.employee_band.as_deref(), str::parse)?,
            region: p.optional("region", row.region.as_deref(), Label::parse)?,
            segment: p.optional("segment", row.segment.as_deref(), Label::parse)?,
            tier: p.optional("tier", row.tier.as_deref(), str::parse)?,
            owner_id: row.owner_id.map(UserId::from_uuid),
            created_at: row.created_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OpportunityRow {
    id: Uuid,
    version: i64,
    name: String,
    account_id: Uuid,
    owner_id: Uuid,
    process: String,
    stage: String,
    status: String,
    amount_minor: Option<i64>,
    currency: Option<String>,
    close_date: NaiveDate,
    category_override: Option<String>,
    category_override_reason: Option<String>,
    source: Option<String>,
    segment: Option<String>,
    competitor: Option<String>,
    next_step: Option<String>,
    next_step_owner_id: Option<Uuid>,
    next_step_due: Option<NaiveDate>,
    loss_type: Option<String>,
    loss_reason: Option<String>,
    evidence: Json<Evidence>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<OpportunityRow> for Opportunity {
    type Error = StoreError;

    fn try_from(row: OpportunityRow) -> Result<Self, StoreError> {
        let p = Parser::new("opportunities", row.id);
        let category_override = match (row.category_override, row.category_override_reason) {
            (Some(category), Some(reason)) => Some(CategoryOverride {
                category: p.value("category_override", category.parse())?,
                reason: p.value("category_override_reason", Note::parse(&reason))?,
            }),
            (None, None) => None,
            _ => return Err(p.corrupt("category_override", "category and reason must both be set")),
        };
        let next_step = match (row.next_step, row.next_step_owner_id, row.next_step_due) {
            (Some(text), Some(owner), Some(due)) => Some(NextStep {
                text: p.value("next_step", Note::parse(&text))?,
                owner_id: UserId::from_uuid(owner),
                due,
            }),
            (None, None, None) => None,
            _ => return Err(p.corrupt("next_step", "text, owner and due date must all be set")),
        };
        let loss = match row.loss_type {
            Some(loss_type) => Some(Loss {
                loss_type: p.value("loss_type", loss_type.parse())?,
                reason: p.optional("loss_reason", row.loss_reason.as_deref(), Note::parse)?,
            }),
            None => None,
        };
        Ok(Opportunity {
            id: OpportunityId::from_uuid(row.id),
            version: p.count("version", row.version)?,
            name: p.value("name", Name::parse(&row.name))?,
            account_id: AccountId::from_uuid(row.account_id),
            owner_id: UserId::from_uuid(row.owner_id),
            process: p.value("process", row.process.parse())?,
            stage: p.value("stage", row.stage.parse())?,
            status: p.value("status", row.status.parse())?,
            amount: p.money(row.amount_minor, row.currency.as_deref())?,
            close_date: row.close_date,
            category_override,
            source: p.optional("source", row.source.as_deref(), Label::parse)?,
            segment: p.optional("segment", row.segment.as_deref(), Label::parse)?,
            competitor: p.optional("competitor", row.competitor.as_deref(), Label::parse)?,
            next_step,
            evidence: row.evidence.0,
            loss,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DealCardRow {
    id: Uuid,
    version: i64,
    name: String,
    owner_id: Uuid,
    process: String,
    stage: String,
    status: String,
    amount_minor: Option<i64>,
    currency: Option<String>,
    close_date: NaiveDate,
    category_override: Option<String>,
    segment: Option<String>,
}

impl TryFrom<DealCardRow> for DealCard {
    type Error = StoreError;

    fn try_from(row: DealCardRow) -> Result<Self, StoreError> {
        let p = Parser::new("opportunities", row.id);
        Ok(DealCard {
            id: OpportunityId::from_uuid(row.id),
            version: p.count("version", row.version)?,
            name: p.value("name", Name::parse(&row.name))?,
            owner_id: UserId::from_uuid(row.owner_id),
            process: p.value("process", row.process.parse())?,
            stage: p.value("stage", row.stage.parse())?,
            status: p.value("status", row.status.parse())?,
            amount: p.money(row.amount_minor, row.currency.as_deref())?,
            close_date: row.close_date,
            category_override: row
                .category_override
                .map(|c| p.value("category_override", c.parse()))
                .transpose()?,
            segment: p.optional("segment", row.segment.as_deref(), Label::parse)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    opportunity_id: Uuid,
    seq: i64,
    kind: String,
    actor_id: Uuid,
    effective_at: DbTime,
    recorded_at: DbTime,
    process_version: i64,
    data: Json<Box<RawValue>>,
}

impl TryFrom<EventRow> for OpportunityEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let p = Parser::new(
            "opportunity_events",
            format!("{}#{}", row.opportunity_id, row.seq),
        );
        Ok(OpportunityEvent {
            opportunity_id: OpportunityId::from_uuid(row.opportunity_id),
            seq: p.count("seq", row.seq)?,
            actor_id: UserId::from_uuid(row.actor_id),
            effective_at: row.effective_at.0,
            recorded_at: row.recorded_at.0,
            process_version: ProcessVersion(p.count("process_version", row.process_version)?),
            change: decode_change(&row.kind, row.data.0.get()).map_err(|e| p.corrupt("data", e))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProcessVersionRow {
    version: i64,
    changed_by: Option<Uuid>,
    changed_at: DbTime,
    changes: Json<Vec<String>>,
}

impl TryFrom<ProcessVersionRow> for ProcessRevision {
    type Error = StoreError;

    fn try_from(row: ProcessVersionRow) -> Result<Self, StoreError> {
        let p = Parser::new("process_versions", row.version);
        Ok(ProcessRevision {
            version: ProcessVersion(p.count("version", row.version)?),
            changed_by: row.changed_by.map(UserId::from_uuid),
            changed_at: row.changed_at.0,
            changes: row.changes.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TeamRow {
    id: Uuid,
    name: String,
    created_at: DbTime,
}

impl TryFrom<TeamRow> for Team {
    type Error = StoreError;

    fn try_from(row: TeamRow) -> Result<Self, StoreError> {
        let p = Parser::new("teams", row.id);
        Ok(Team {
            id: row.id.into(),
            name: p.value("name", Name::parse(&row.name))?,
            created_at: row.created_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    id: Uuid,
    version: i64,
    account_id: Uuid,
    name: String,
    email: Option<String>,
    title: Option<String>,
    buying_role: Option<String>,
    created_at: DbTime,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;

    fn try_from(row: ContactRow) -> Result<Self, StoreError> {
        let p = Parser::new("contacts", row.id);
        Ok(Contact {
            id: ContactId::from_uuid(row.id),
            version: p.count("version", row.version)?,
            account_id: AccountId::from_uuid(row.account_id),
            name: p.value("name", Name::parse(&row.name))?,
            email: p.optional("email", row.email.as_deref(), Email::parse)?,
            title: p.optional("title", row.title.as_deref(), Label::parse)?,
            buying_role: p.optional("buying_role", row.buying_role.as_deref(), str::parse)?,
            created_at: row.created_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TouchRow {
    opportunity_id: Uuid,
    occurred_at: DbTime,
    contact_id: Option<Uuid>,
}

impl TryFrom<TouchRow> for DealTouch {
    type Error = StoreError;

    fn try_from(row: TouchRow) -> Result<Self, StoreError> {
        Ok(DealTouch {
            opportunity_id: OpportunityId::from_uuid(row.opportunity_id),
            occurred_at: row.occurred_at.0,
            contact_id: row.contact_id.map(ContactId::from_uuid),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ExchangeRateRow {
    currency: String,
    valid_from: chrono::NaiveDate,
    rate: String,
}

impl TryFrom<ExchangeRateRow> for ExchangeRate {
    type Error = StoreError;

    fn try_from(row: ExchangeRateRow) -> Result<Self, StoreError> {
        let p = Parser::new(
            "exchange_rates",
            format!("{} from {}", row.currency, row.valid_from),
        );
        Ok(ExchangeRate {
            currency: p.value("currency", row.currency.parse())?,
            valid_from: row.valid_from,
            rate: p.value("rate", Rate::parse(&row.rate))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ExternalKeyRow {
    system: String,
    kind: String,
    external_id: String,
    record_id: Uuid,
}

impl TryFrom<ExternalKeyRow> for ExternalKey {
    type Error = StoreError;

    fn try_from(row: ExternalKeyRow) -> Result<Self, StoreError> {
        let p = Parser::new(
            "external_keys",
            format!("{} {} {}", row.system, row.kind, row.external_id),
        );
        Ok(ExternalKey {
            system: p.value("system", row.system.parse())?,
            kind: p.value("kind", row.kind.parse())?,
            external_id: row.external_id,
            record_id: row.record_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TargetRow {
    id: Uuid,
    version: i64,
    owner_kind: String,
    user_id: Option<Uuid>,
    team_id: Option<Uuid>,
    period: String,
    amount_minor: i64,
    currency: String,
}

impl TryFrom<TargetRow> for Target {
    type Error = StoreError;

    fn try_from(row: TargetRow) -> Result<Self, StoreError> {
        let p = Parser::new("targets", row.id);
        let owner = match (row.owner_kind.as_str(), row.user_id, row.team_id) {
            ("user", Some(user), None) => TargetOwner::User(UserId::from_uuid(user)),
            ("team", None, Some(team)) => TargetOwner::Team(team.into()),
            ("workspace", None, None) => TargetOwner::Workspace,
            _ => return Err(p.corrupt("owner_kind", "owner kind and owner ids disagree")),
        };
        Ok(Target {
            id: TargetId::from_uuid(row.id),
            version: p.count("version", row.version)?,
            owner,
            period: p.value("period", row.period.parse())?,
            amount: p
                .money(Some(row.amount_minor), Some(&row.currency))?
                .ok_or_else(|| p.corrupt("amount_minor", "a target needs an amount"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SubmissionRow {
    id: Uuid,
    period: String,
    subject_id: Uuid,
    body: Json<SubmissionKind>,
    submitted_by: Uuid,
    submitted_at: DbTime,
}

impl TryFrom<SubmissionRow> for Submission {
    type Error = StoreError;

    fn try_from(row: SubmissionRow) -> Result<Self, StoreError> {
        let p = Parser::new("forecast_submissions", row.id);
        Ok(Submission {
            id: SubmissionId::from_uuid(row.id),
            period: p.value("period", row.period.parse())?,
            subject_id: UserId::from_uuid(row.subject_id),
            kind: row.body.0,
            submitted_by: UserId::from_uuid(row.submitted_by),
            submitted_at: row.submitted_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    secret_hash: Vec<u8>,
    created_at: DbTime,
    expires_at: DbTime,
}

impl From<SessionRow> for (Session, Vec<u8>) {
    fn from(row: SessionRow) -> Self {
        let session = Session {
            id: SessionId::from_uuid(row.id),
            user_id: UserId::from_uuid(row.user_id),
            created_at: row.created_at.0,
            expires_at: row.expires_at.0,
        };
        (session, row.secret_hash)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    scope: String,
    secret_hash: Vec<u8>,
    created_at: DbTime,
    last_used_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
}

impl TryFrom<ApiTokenRow> for (ApiToken, Vec<u8>) {
    type Error = StoreError;

    fn try_from(row: ApiTokenRow) -> Result<Self, StoreError> {
        let p = Parser::new("api_tokens", row.id);
        let token = ApiToken {
            id: TokenId::from_uuid(row.id),
            user_id: UserId::from_uuid(row.user_id),
            name: p.value("name", Label::parse(&row.name))?,
            scope: p.value("scope", row.scope.parse())?,
            created_at: row.created_at.0,
            last_used_at: row.last_used_at.map(|t| t.0),
            revoked_at: row.revoked_at.map(|t| t.0),
        };
        Ok((token, row.secret_hash))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    id: Uuid,
    url: String,
    events: String,
    secret: String,
    created_by: Uuid,
    created_at: DbTime,
    failed_deliveries: i64,
    disabled_at: Option<DbTime>,
}

impl TryFrom<WebhookRow> for (Webhook, String) {
    type Error = StoreError;

    fn try_from(row: WebhookRow) -> Result<Self, StoreError> {
        let p = Parser::new("webhooks", row.id);
        let hook = Webhook {
            id: WebhookId::from_uuid(row.id),
            url: p.value("url", WebhookUrl::parse(&row.url))?,
            events: p.value("events", EventFilter::from_stored(&row.events))?,
            created_by: UserId::from_uuid(row.created_by),
            created_at: row.created_at.0,
            failed_deliveries: p.count("failed_deliveries", row.failed_deliveries)?,
            disabled_at: row.disabled_at.map(|t| t.0),
        };
        Ok((hook, row.secret))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    webhook_id: Uuid,
    record_id: Uuid,
    seq: i64,
    event_type: String,
    status: String,
    attempts: i64,
    next_attempt_at: DbTime,
    last_attempt_at: Option<DbTime>,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: DbTime,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self, StoreError> {
        let p = Parser::new(
            "webhook_deliveries",
            format!("{}:{}", row.record_id, row.seq),
        );
        Ok(Delivery {
            webhook_id: WebhookId::from_uuid(row.webhook_id),
            record_id: row.record_id,
            seq: p.count("seq", row.seq)?,
            event_type: p.value("event_type", row.event_type.parse())?,
            status: p.value("status", row.status.parse())?,
            attempts: p.count("attempts", row.attempts)?,
            next_attempt_at: row.next_attempt_at.0,
            last_attempt_at: row.last_attempt_at.map(|t| t.0),
            last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: row.last_error,
            created_at: row.created_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LeadRow {
    id: Uuid,
    version: i64,
    name: String,
    email: Option<String>,
    company: Option<String>,
    source: Option<String>,
    status: String,
    owner_id: Option<Uuid>,
    account_id: Option<Uuid>,
    opportunity_id: Option<Uuid>,
    created_at: DbTime,
    title: Option<String>,
    phone: Option<String>,
    website: Option<String>,
    region: Option<String>,
    segment: Option<String>,
    product_line: Option<String>,
    nurture: Option<String>,
    disposition: Option<String>,
    queued_at: Option<DbTime>,
    evidence: Json<LeadEvidence>,
    routing_issue: Option<Json<RoutingIssue>>,
}

impl TryFrom<LeadRow> for Lead {
    type Error = StoreError;

    fn try_from(row: LeadRow) -> Result<Self, StoreError> {
        let p = Parser::new("leads", row.id);
        Ok(Lead {
            id: LeadId::from_uuid(row.id),
            version: p.count("version", row.version)?,
            name: p.value("name", Name::parse(&row.name))?,
            email: p.optional("email", row.email.as_deref(), Email::parse)?,
            company: p.optional("company", row.company.as_deref(), Name::parse)?,
            source: p.optional("source", row.source.as_deref(), Label::parse)?,
            status: p.value("status", row.status.parse())?,
            owner_id: row.owner_id.map(UserId::from_uuid),
            account_id: row.account_id.map(AccountId::from_uuid),
            opportunity_id: row.opportunity_id.map(OpportunityId::from_uuid),
            created_at: row.created_at.0,
            title: p.optional("title", row.title.as_deref(), Label::parse)?,
            phone: p.optional("phone", row.phone.as_deref(), Phone::parse)?,
            website: p.optional("website", row.website.as_deref(), WebDomain::parse)?,
            region: p.optional("region", row.region.as_deref(), Label::parse)?,
            segment: p.optional("segment", row.segment.as_deref(), Label::parse)?,
            product_line: p.optional("product_line", row.product_line.as_deref(), Label::parse)?,
            nurture: p.optional("nurture", row.nurture.as_deref(), str::parse)?,
            disposition: p.optional("disposition", row.disposition.as_deref(), str::parse)?,
            queued_at: row.queued_at.map(|t| t.0),
            evidence: row.evidence.0,
            routing_issue: row.routing_issue.map(|issue| issue.0),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ActivityRow {
    id: Uuid,
    version: i64,
    kind: String,
    occurred_at: DbTime,
    user_id: Uuid,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    lead_id: Option<Uuid>,
    opportunity_id: Option<Uuid>,
    subject: String,
    outcome: Option<String>,
}

impl TryFrom<ActivityRow> for Activity {
    type Error = StoreError;

    fn try_from(row: ActivityRow) -> Result<Self, StoreError> {
        let p = Parser::new("activities", row.id);
        Ok(Activity {
            id: ActivityId::from_uuid(row.id),
            version: p.count("version", row.version)?,
            kind: p.value("kind", row.kind.parse())?,
            occurred_at: row.occurred_at.0,
            user_id: UserId::from_uuid(row.user_id),
            account_id: row.account_id.map(AccountId::from_uuid),
            contact_id: row.contact_id.map(ContactId::from_uuid),
            lead_id: row.lead_id.map(LeadId::from_uuid),
            opportunity_id: row.opportunity_id.map(OpportunityId::from_uuid),
            subject: p.value("subject", Name::parse(&row.subject))?,
            outcome: p.optional("outcome", row.outcome.as_deref(), Label::parse)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RecordChangeRow {
    record_id: Uuid,
    version: i64,
    record_kind: String,
    action: String,
    actor_id: Uuid,
    recorded_at: DbTime,
    before: Json<serde_json::Map<String, serde_json::Value>>,
    after: Json<serde_json::Map<String, serde_json::Value>>,
}

impl TryFrom<RecordChangeRow> for RecordChange {
    type Error = StoreError;

    fn try_from(row: RecordChangeRow) -> Result<Self, StoreError> {
        let p = Parser::new(
            "record_changes",
            format!("{} v{}", row.record_id, row.version),
        );
        Ok(RecordChange {
            record_id: row.record_id,
            record_kind: p.value("record_kind", row.record_kind.parse())?,
            version: p.count("version", row.version)?,
            action: p.value("action", row.action.parse())?,
            actor_id: UserId::from_uuid(row.actor_id),
            recorded_at: row.recorded_at.0,
            before: row.before.0,
            after: row.after.0,
        })
    }
}
