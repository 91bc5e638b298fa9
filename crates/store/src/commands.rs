//! Running commands against stored opportunities: load the state, let the domain decide,
//! store the outcome. Every surface that changes a deal goes through here, so the rules in
//! `pipewise_core::opportunity` are applied the same way everywhere.

use pipewise_core::evidence::EvidenceChange;
use pipewise_core::ids::OpportunityId;
use pipewise_core::opportunity::{
    self, Command, CommandError, FieldChange, Opportunity, OpportunityDraft, Stamp,
};
use pipewise_core::org::Workspace;
use pipewise_core::process::Process;
use pipewise_core::validation::FieldErrors;

use crate::references::References;
use crate::{Store, StoreError};

/// How often a command without an expected version is decided again after another writer
/// changed the deal first.
const CONFLICT_ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum CommandFailed {
    /// The rules refused the command; nothing was written.
    #[error(transparent)]
    Refused(#[from] CommandError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FieldErrors> for CommandFailed {
    fn from(errors: FieldErrors) -> Self {
        CommandFailed::Refused(CommandError::Invalid(errors))
    }
}

/// Opens a new opportunity from a draft: checks every field, checks that the account and the
/// people it names belong to the workspace, then stores the deal and its created event.
pub async fn create_opportunity(
    store: &dyn Store,
    workspace: &Workspace,
    process: &Process,
    draft: &OpportunityDraft,
    stamp: Stamp,
) -> Result<Opportunity, CommandFailed> {
    let created = draft.validate(process, workspace.corporate_currency)?;
    let mut references = References::new(store, workspace);
    references.account("account_id", created.account_id).await?;
    references.user("owner_id", created.owner_id).await?;
    if let Some(next) = &created.next_step {
        references.user("next_step_owner_id", next.owner_id).await?;
    }
    for stakeholder in created.evidence.stakeholders.stakeholders() {
        references
            .contact("evidence.stakeholders", stakeholder.contact_id)
            .await?;
    }
    references.finish()?;
    let recorded = opportunity::open(OpportunityId::generate(), created, process, stamp)?;
    store.record(workspace.id, &recorded).await?;
    Ok(recorded.state)
}

/// Runs `command` on a stored opportunity. With `expected_version`, refuses with
/// [`StoreError::VersionConflict`] if the deal has changed since the caller read it; without
/// one, a concurrent change makes the command be decided again on the new state.
pub async fn execute(
    store: &dyn Store,
    workspace: &Workspace,
    process: &Process,
    id: OpportunityId,
    expected_version: Option<u32>,
    command: Command,
    stamp: Stamp,
) -> Result<Opportunity, CommandFailed> {
    execute_all(
        store,
        workspace,
        process,
        id,
        expected_version,
        vec![command],
        stamp,
    )
    .await
}

/// Runs several commands on a stored opportunity as one change, stored whole or not at all;
/// versions are checked as by [`execute`].
pub async fn execute_all(
    store: &dyn Store,
    workspace: &Workspace,
    process: &Process,
    id: OpportunityId,
    expected_version: Option<u32>,
    commands: Vec<Command>,
    stamp: Stamp,
) -> Result<Opportunity, CommandFailed> {
    let current = store.opportunity(workspace.id, id).await?;
    execute_all_on(
        store,
        workspace,
        process,
        current,
        expected_version,
        commands,
        stamp,
    )
    .await
}

/// Like [`execute_all`], on `current`: the deal as the caller just read it, so it is not
/// read again unless another writer changed it first.
pub async fn execute_all_on(
    store: &dyn Store,
    workspace: &Workspace,
    process: &Process,
    mut current: Opportunity,
    expected_version: Option<u32>,
    commands: Vec<Command>,
    stamp: Stamp,
) -> Result<Opportunity, CommandFailed> {
    for command in &commands {
        check_references(store, workspace, &current, command).await?;
    }
    let mut attempt = 1;
    loop {
        if let Some(expected) = expected_version.filter(|v| *v != current.version) {
            tracing::debug!(id = %current.id, expected, current = current.version, "stale version");
            return Err(StoreError::VersionConflict {
                current: current.version,
            }
            .into());
        }
        let recorded = opportunity::execute_all(&current, commands.clone(), process, stamp)?;
        match store.record(workspace.id, &recorded).await {
            Err(StoreError::VersionConflict { .. })
                if expected_version.is_none() && attempt < CONFLICT_ATTEMPTS =>
            {
                attempt += 1;
                current = store.opportunity(workspace.id, current.id).await?;
            }
            Err(error) => return Err(error.into()),
            Ok(()) => return Ok(recorded.state),
        }
    }
}

/// Checks the records `command` on `deal` names; the deal's own owner is known to exist.
async fn check_references(
    store: &dyn Store,
    workspace: &Workspace,
    deal: &Opportunity,
    command: &Command,
) -> Result<(), CommandFailed> {
    let mut references = References::new(store, workspace);
    match command {
        Command::ChangeOwner(owner) => references.user("owner_id", *owner).await?,
        Command::MoveStage {
            next_step: Some(next),
            ..
        }
        | Command::ChangeField(FieldChange::NextStep(Some(next)))
            if next.owner_id != deal.owner_id =>
        {
            references.user("next_step_owner_id", next.owner_id).await?;
        }
        Command::ChangeField(FieldChange::Account(account)) => {
            references.account("account_id", *account).await?;
        }
        Command::RecordEvidence(EvidenceChange::StakeholderSet(stakeholder)) => {
            references
                .contact("contact_id", stakeholder.contact_id)
                .await?;
        }
        _ => {}
    }
    references.finish()
}
