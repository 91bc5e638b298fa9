//! Reads what the lead funnel needs of a workspace: every lead, the statuses its history
//! records, and the calls, e-mails and meetings logged on it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use pipewise_analytics::leads::LeadFacts;
use pipewise_core::crm::{Lead, LeadStatus};
use pipewise_core::ids::LeadId;
use pipewise_core::leads::settings::LeadSettings;
use pipewise_core::leads::speed::{Attempt, Response};
use pipewise_core::org::Workspace;
use uuid::Uuid;

use crate::{Store, StoreError};

/// The funnel facts of every lead of `workspace` at `now`, in three passes: lead changes,
/// activities on leads, leads.
pub async fn funnel_facts(
    store: &dyn Store,
    workspace: &Workspace,
    settings: &LeadSettings,
    now: DateTime<Utc>,
) -> Result<Vec<LeadFacts>, StoreError> {
    let mut statuses: HashMap<Uuid, Vec<LeadStatus>> = HashMap::new();
    let mut changes = store.lead_changes(workspace.id);
    while let Some(change) = changes.try_next().await? {
        let recorded = [&change.before, &change.after]
            .into_iter()
            .filter_map(|fields| fields.get("status")?.as_str()?.parse::<LeadStatus>().ok());
        statuses
            .entry(change.record_id)
            .or_default()
            .extend(recorded);
    }
    let attempts = attempts(store, workspace).await?;
    let mut facts = Vec::new();
    let mut leads = store.all_leads(workspace.id);
    while let Some(lead) = leads.try_next().await? {
        let history = statuses
            .get(&lead.id.as_uuid())
            .map_or(&[][..], Vec::as_slice);
        let tried = attempts.get(&lead.id).map_or(&[][..], Vec::as_slice);
        facts.push(LeadFacts::of(&lead, history, tried, settings, now));
    }
    Ok(facts)
}

/// The attempts to reach each lead: the calls, e-mails and meetings logged on it.
pub async fn attempts(
    store: &dyn Store,
    workspace: &Workspace,
) -> Result<HashMap<LeadId, Vec<Attempt>>, StoreError> {
    let mut attempts: HashMap<LeadId, Vec<Attempt>> = HashMap::new();
    let mut activities = store.lead_activities(workspace.id);
    while let Some(activity) = activities.try_next().await? {
        if let (Some(lead), Some(attempt)) = (activity.lead_id, Attempt::from_activity(&activity)) {
            attempts.entry(lead).or_default().push(attempt);
        }
    }
    Ok(attempts)
}

/// Every lead waiting in the sales queue (queued, open, not in nurture) with its response
/// clock at `now`, in id order.
pub async fn waiting(
    store: &dyn Store,
    workspace: &Workspace,
    settings: &LeadSettings,
    now: DateTime<Utc>,
) -> Result<Vec<(Lead, Response)>, StoreError> {
    let attempts = attempts(store, workspace).await?;
    let mut waiting = Vec::new();
    let mut leads = store.all_leads(workspace.id);
    while let Some(lead) = leads.try_next().await? {
        let Some(queued) = lead
            .queued_at
            .filter(|_| lead.status.is_open() && lead.nurture.is_none())
        else {
            continue;
        };
        let tried = attempts.get(&lead.id).map_or(&[][..], Vec::as_slice);
        let response = settings
            .speed_to_lead
            .response(&settings.calendar, queued, tried, now);
        waiting.push((lead, response));
    }
    Ok(waiting)
}
