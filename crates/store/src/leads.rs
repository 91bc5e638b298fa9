//! Leads as the store holds them: what the lead funnel and the sales queue need (every lead,
//! the statuses its history records, the calls, e-mails and meetings logged on it), the
//! workspace's lead settings, and routing a new lead by them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use pipewise_analytics::leads::LeadFacts;
use pipewise_core::crm::{Activity, Lead, LeadStatus};
use pipewise_core::ids::{LeadId, UserId, WorkspaceId};
use pipewise_core::leads::routing::{RoutingIssue, Territory, assign};
use pipewise_core::leads::settings::LeadSettings;
use pipewise_core::leads::speed::Attempt;
use pipewise_core::org::Workspace;
use pipewise_core::process::{DefinitionError, DefinitionErrors};
use uuid::Uuid;

use crate::{ActivityFilter, PageRequest, Store, StoreError};

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
    attempts_in(store.lead_activities(workspace.id)).await
}

/// The attempts among `activities`, by lead.
async fn attempts_in(
    mut activities: BoxStream<'_, Result<Activity, StoreError>>,
) -> Result<HashMap<LeadId, Vec<Attempt>>, StoreError> {
    let mut attempts: HashMap<LeadId, Vec<Attempt>> = HashMap::new();
    while let Some(activity) = activities.try_next().await? {
        if let (Some(lead), Some(attempt)) = (activity.lead_id, Attempt::from_activity(&activity)) {
            attempts.entry(lead).or_default().push(attempt);
        }
    }
    Ok(attempts)
}

/// The attempts to reach one lead: the calls, e-mails and meetings logged on it.
pub async fn attempts_on(
    store: &dyn Store,
    workspace: WorkspaceId,
    lead: LeadId,
) -> Result<Vec<Attempt>, StoreError> {
    let filter = ActivityFilter {
        lead: Some(lead),
        ..ActivityFilter::default()
    };
    let mut attempts = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .activities(workspace, PageRequest { after, limit: 500 }, &filter)
            .await?;
        attempts.extend(page.items.iter().filter_map(Attempt::from_activity));
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(attempts),
        }
    }
}

/// A lead waiting in the sales queue with the attempts made to reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedLead {
    pub lead: Lead,
    pub attempts: Vec<Attempt>,
}

/// Every lead waiting in the sales queue (queued, open, not in nurture) with its attempts,
/// in id order. Reads only the queued leads and the activities on them.
pub async fn queued(
    store: &dyn Store,
    workspace: WorkspaceId,
) -> Result<Vec<QueuedLead>, StoreError> {
    let mut attempts = attempts_in(store.queued_lead_activities(workspace)).await?;
    let mut queued = Vec::new();
    let mut leads = store.queued_leads(workspace);
    while let Some(lead) = leads.try_next().await? {
        let attempts = attempts.remove(&lead.id).unwrap_or_default();
        queued.push(QueuedLead { lead, attempts });
    }
    Ok(queued)
}

/// The lead `id` with its attempts if it waits in the sales queue; `None` if it does not,
/// or no longer exists.
pub async fn queued_lead(
    store: &dyn Store,
    workspace: WorkspaceId,
    id: LeadId,
) -> Result<Option<QueuedLead>, StoreError> {
    let lead = match store.lead(workspace, id).await {
        Ok(lead) => lead,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(error),
    };
    if lead.waiting_since().is_none() {
        return Ok(None);
    }
    let attempts = attempts_on(store, workspace, id).await?;
    Ok(Some(QueuedLead { lead, attempts }))
}

/// The workspace's lead settings in force: the shipped ones with the last applied file laid
/// over them.
pub async fn settings(
    store: &dyn Store,
    workspace: &Workspace,
) -> Result<LeadSettings, StoreError> {
    match store.lead_settings(workspace.id).await? {
        None => Ok(LeadSettings::shipped()),
        Some(applied) => {
            LeadSettings::parse(&file_name(applied.version), &applied.text).map_err(|e| {
                StoreError::Corrupt {
                    table: "lead_settings",
                    key: applied.version.to_string(),
                    detail: e.to_string(),
                }
            })
        }
    }
}

/// How an applied settings file is named in messages.
fn file_name(version: u32) -> String {
    format!("lead settings v{version}")
}

/// Why lead settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsRefused {
    #[error("{0}")]
    Invalid(DefinitionErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `text` (the file `file`) and stores it as the workspace's next lead settings;
/// returns the version. Owners the assignment rules name must be users of the workspace.
pub async fn apply_settings(
    store: &dyn Store,
    workspace: &Workspace,
    file: &str,
    text: &str,
    by: UserId,
    at: DateTime<Utc>,
) -> Result<u32, SettingsRefused> {
    let settings = LeadSettings::parse(file, text).map_err(SettingsRefused::Invalid)?;
    let routing = &settings.routing;
    let named = routing
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| (format!("routing.rules[{i}].owner"), &rule.owner))
        .chain(
            routing
                .default_owner
                .iter()
                .map(|o| ("routing.default_owner".to_owned(), o)),
        );
    let mut errors = Vec::new();
    for (key, owner) in named {
        match store.user_by_email(workspace.id, owner).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => {
                // Where the address is written, so the error points at it.
                let at = text.to_lowercase().find(owner.as_str()).unwrap_or(0);
                let message = format!("`{owner}` is not a user of this workspace");
                errors.push(DefinitionError::located(file, text, at..at, key, message));
            }
            Err(other) => return Err(other.into()),
        }
    }
    if !errors.is_empty() {
        return Err(SettingsRefused::Invalid(DefinitionErrors(errors)));
    }
    Ok(store
        .apply_lead_settings(workspace.id, text, by, at)
        .await?)
}

/// Who a new lead goes to by the workspace's assignment rules, and the routing issue when
/// they cannot place it; `None` when the workspace has no rules and no default owner.
pub async fn route(
    store: &dyn Store,
    workspace: &Workspace,
    settings: &LeadSettings,
    lead: &Lead,
) -> Result<Option<(Option<UserId>, Option<RoutingIssue>)>, StoreError> {
    let routing = &settings.routing;
    if routing.rules.is_empty() && routing.default_owner.is_none() {
        return Ok(None);
    }
    let territory = Territory {
        region: lead.region.as_ref().map(|r| r.as_str().to_owned()),
        segment: lead.segment.as_ref().map(|s| s.as_str().to_owned()),
        product_line: lead.product_line.as_ref().map(|p| p.as_str().to_owned()),
    };
    let assignment = assign(&routing.rules, &territory, routing.default_owner.as_ref());
    let mut issue = assignment.issue;
    // Someone named since the settings were applied may have left: the lead then goes to the
    // default owner, or the queue.
    let candidates = assignment.owner.iter().chain(routing.default_owner.iter());
    for email in candidates {
        match store.user_by_email(workspace.id, email).await {
            Ok(user) => return Ok(Some((Some(user.id), issue))),
            Err(StoreError::NotFound { .. }) => {
                issue.get_or_insert(RoutingIssue::UnknownOwner {
                    owner: email.to_string(),
                });
            }
            Err(other) => return Err(other),
        }
    }
    Ok(Some((None, issue)))
}
