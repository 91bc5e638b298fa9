//! Writing CRM records (accounts, contacts, leads, activities, targets): check that the
//! records they name are in the workspace, work out the entry for the audit trail, and store
//! both together. Every surface that edits these records goes through here.

use chrono::{DateTime, Utc};
use pipewise_core::crm::TargetOwner;
use pipewise_core::crm::changes::{CrmRecord, RecordChange};
use pipewise_core::ids::UserId;
use pipewise_core::org::Workspace;

use crate::commands::CommandFailed;
use crate::references::References;
use crate::{Store, StoreError};

/// Stores a new record with its creation in the audit trail.
pub async fn create(
    store: &dyn Store,
    workspace: &Workspace,
    record: CrmRecord,
    actor: UserId,
    at: DateTime<Utc>,
) -> Result<(), CommandFailed> {
    check_references(store, workspace, &record).await?;
    let change = RecordChange::created(&record, actor, at);
    store.write_record(workspace.id, &record, &change).await?;
    Ok(())
}

/// Replaces `before`, the stored version, by `after`, the next one, with the fields that
/// differ in the audit trail; `true` if it did. A change that sets every field to what it
/// was writes nothing, and `before` stays in force at its version.
pub async fn change(
    store: &dyn Store,
    workspace: &Workspace,
    before: CrmRecord,
    after: CrmRecord,
    actor: UserId,
    at: DateTime<Utc>,
) -> Result<bool, CommandFailed> {
    let change = RecordChange::changed(&before, &after, actor, at);
    if change.is_empty() {
        return Ok(false);
    }
    check_references(store, workspace, &after).await?;
    store.write_record(workspace.id, &after, &change).await?;
    Ok(true)
}

/// Removes `record`, the stored version, with its last values in the audit trail.
pub async fn delete(
    store: &dyn Store,
    workspace: &Workspace,
    record: &CrmRecord,
    actor: UserId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let change = RecordChange::deleted(record, actor, at);
    store.write_record(workspace.id, record, &change).await
}

async fn check_references(
    store: &dyn Store,
    workspace: &Workspace,
    record: &CrmRecord,
) -> Result<(), CommandFailed> {
    let mut references = References::new(store, workspace);
    match record {
        CrmRecord::Account(account) => {
            if let Some(owner) = account.owner_id {
                references.user("owner_id", owner).await?;
            }
        }
        CrmRecord::Contact(contact) => {
            references.account("account_id", contact.account_id).await?;
        }
        CrmRecord::Lead(lead) => {
            if let Some(owner) = lead.owner_id {
                references.user("owner_id", owner).await?;
            }
            if let Some(account) = lead.account_id {
                references.account("account_id", account).await?;
            }
        }
        CrmRecord::Activity(activity) => {
            references.user("user_id", activity.user_id).await?;
            if let Some(account) = activity.account_id {
                references.account("account_id", account).await?;
            }
            if let Some(contact) = activity.contact_id {
                references.contact("contact_id", contact).await?;
            }
            if let Some(lead) = activity.lead_id {
                references.lead("lead_id", lead).await?;
            }
            if let Some(deal) = activity.opportunity_id {
                references.opportunity("opportunity_id", deal).await?;
            }
        }
        CrmRecord::Target(target) => match target.owner {
            TargetOwner::User(user) => references.user("owner_id", user).await?,
            TargetOwner::Team(team) => references.team("owner_id", team).await?,
            TargetOwner::Workspace => {}
        },
    }
    references.finish()
}
