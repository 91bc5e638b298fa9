//! Records as flat CSV rows: nested parts spread into columns, amounts as decimals in major
//! units beside their currency, times in RFC 3339.

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::crm::{Lead, Target, TargetOwner};
use pipewise_core::money::Money;
use pipewise_core::opportunity::{Opportunity, OpportunityEvent};
use serde::Serialize;
use uuid::Uuid;

/// `12500.50` for 12,500.50 USD.
fn decimal(money: Money) -> String {
    let shown = money.to_string();
    shown
        .rsplit_once(' ')
        .map_or(shown.clone(), |(amount, _)| amount.to_owned())
}

#[derive(Serialize)]
pub struct LeadRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    company: Option<String>,
    title: Option<String>,
    phone: Option<String>,
    website: Option<String>,
    source: Option<String>,
    status: &'static str,
    nurture: Option<&'static str>,
    disposition: Option<&'static str>,
    owner_id: Option<Uuid>,
    account_id: Option<Uuid>,
    opportunity_id: Option<Uuid>,
    region: Option<String>,
    segment: Option<String>,
    product_line: Option<String>,
    created_at: DateTime<Utc>,
}

pub fn lead(lead: Lead) -> LeadRow {
    LeadRow {
        id: lead.id.as_uuid(),
        name: lead.name.into(),
        email: lead.email.map(Into::into),
        company: lead.company.map(Into::into),
        title: lead.title.map(Into::into),
        phone: lead.phone.map(Into::into),
        website: lead.website.map(Into::into),
        source: lead.source.map(Into::into),
        status: lead.status.as_str(),
        nurture: lead.nurture.map(|n| n.as_str()),
        disposition: lead.disposition.map(|d| d.as_str()),
        owner_id: lead.owner_id.map(|id| id.as_uuid()),
        account_id: lead.account_id.map(|id| id.as_uuid()),
        opportunity_id: lead.opportunity_id.map(|id| id.as_uuid()),
        region: lead.region.map(Into::into),
        segment: lead.segment.map(Into::into),
        product_line: lead.product_line.map(Into::into),
        created_at: lead.created_at,
    }
}

#[derive(Serialize)]
pub struct OpportunityRow {
    id: Uuid,
    name: String,
    account_id: Uuid,
    owner_id: Uuid,
    process: String,
    stage: String,
    status: &'static str,
    amount: Option<String>,
    currency: Option<String>,
    close_date: NaiveDate,
    category_override: Option<&'static str>,
    category_override_reason: Option<String>,
    source: Option<String>,
    segment: Option<String>,
    competitor: Option<String>,
    next_step: Option<String>,
    next_step_owner_id: Option<Uuid>,
    next_step_due: Option<NaiveDate>,
    loss_type: Option<&'static str>,
    loss_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub fn opportunity(deal: Opportunity) -> OpportunityRow {
    let next = deal.next_step;
    let loss = deal.loss;
    let category = deal.category_override;
    OpportunityRow {
        id: deal.id.as_uuid(),
        name: deal.name.into(),
        account_id: deal.account_id.as_uuid(),
        owner_id: deal.owner_id.as_uuid(),
        process: deal.process.to_string(),
        stage: deal.stage.to_string(),
        status: deal.status.as_str(),
        amount: deal.amount.map(decimal),
        currency: deal.amount.map(|m| m.currency.to_string()),
        close_date: deal.close_date,
        category_override: category.as_ref().map(|c| c.category.as_str()),
        category_override_reason: category.map(|c| c.reason.into()),
        source: deal.source.map(Into::into),
        segment: deal.segment.map(Into::into),
        competitor: deal.competitor.map(Into::into),
        next_step: next.as_ref().map(|n| n.text.to_string()),
        next_step_owner_id: next.as_ref().map(|n| n.owner_id.as_uuid()),
        next_step_due: next.map(|n| n.due),
        loss_type: loss.as_ref().map(|l| l.loss_type.as_str()),
        loss_reason: loss.and_then(|l| l.reason.map(Into::into)),
        created_at: deal.created_at,
        updated_at: deal.updated_at,
    }
}

#[derive(Serialize)]
pub struct TargetRow {
    id: Uuid,
    owner: &'static str,
    owner_id: Option<Uuid>,
    period: String,
    amount: String,
    currency: String,
}

pub fn target(target: Target) -> TargetRow {
    let (owner, owner_id) = match target.owner {
        TargetOwner::User(id) => ("user", Some(id.as_uuid())),
        TargetOwner::Team(id) => ("team", Some(id.as_uuid())),
        TargetOwner::Workspace => ("workspace", None),
    };
    TargetRow {
        id: target.id.as_uuid(),
        owner,
        owner_id,
        period: target.period.to_string(),
        amount: decimal(target.amount),
        currency: target.amount.currency.to_string(),
    }
}

/// One event: its envelope in columns, what changed as the JSON the API shows under `data`.
#[derive(Serialize)]
pub struct EventRow {
    opportunity_id: Uuid,
    seq: u32,
    kind: &'static str,
    actor_id: Uuid,
    effective_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    process_version: u32,
    data: String,
}

pub fn event(event: OpportunityEvent) -> EventRow {
    EventRow {
        opportunity_id: event.opportunity_id.as_uuid(),
        seq: event.seq,
        kind: event.change.kind().as_str(),
        actor_id: event.actor_id.as_uuid(),
        effective_at: event.effective_at,
        recorded_at: event.recorded_at,
        process_version: event.process_version.0,
        data: change_data(&event),
    }
}

/// The `data` part of an event's change, as JSON.
pub fn change_data(event: &OpportunityEvent) -> String {
    serde_json::to_value(&event.change)
        .ok()
        .and_then(|mut v| v.get_mut("data").map(serde_json::Value::take))
        .map_or_else(String::new, |data| data.to_string())
}
