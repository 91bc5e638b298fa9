//! That the records a write refers to are in the workspace, checked before it is stored so
//! a missing one is reported at its field rather than as a database error.

use pipewise_core::ids::{AccountId, ContactId, LeadId, OpportunityId, TeamId, UserId};
use pipewise_core::org::Workspace;
use pipewise_core::validation::{Fields, InvalidValue};

use crate::commands::CommandFailed;
use crate::{Store, StoreError};

/// Collects references to records that are not in the workspace, as field errors.
pub(crate) struct References<'a> {
    store: &'a dyn Store,
    workspace: &'a Workspace,
    missing: Fields,
}

impl<'a> References<'a> {
    pub(crate) fn new(store: &'a dyn Store, workspace: &'a Workspace) -> Self {
        Self {
            store,
            workspace,
            missing: Fields::default(),
        }
    }

    pub(crate) async fn user(&mut self, field: &str, id: UserId) -> Result<(), StoreError> {
        let found = self.store.user(self.workspace.id, id).await.map(drop);
        self.note(field, &id.to_string(), "a user", found)
    }

    pub(crate) async fn account(&mut self, field: &str, id: AccountId) -> Result<(), StoreError> {
        let found = self.store.account(self.workspace.id, id).await.map(drop);
        self.note(field, &id.to_string(), "an account", found)
    }

    pub(crate) async fn contact(&mut self, field: &str, id: ContactId) -> Result<(), StoreError> {
        let found = self.store.contact(self.workspace.id, id).await.map(drop);
        self.note(field, &id.to_string(), "a contact", found)
    }

    pub(crate) async fn lead(&mut self, field: &str, id: LeadId) -> Result<(), StoreError> {
        let found = self.store.lead(self.workspace.id, id).await.map(drop);
        self.note(field, &id.to_string(), "a lead", found)
    }

    pub(crate) async fn opportunity(
        &mut self,
        field: &str,
        id: OpportunityId,
    ) -> Result<(), StoreError> {
        let found = self
            .store
            .opportunity(self.workspace.id, id)
            .await
            .map(drop);
        self.note(field, &id.to_string(), "an opportunity", found)
    }

    pub(crate) async fn team(&mut self, field: &str, id: TeamId) -> Result<(), StoreError> {
        let teams = self.store.teams(self.workspace.id).await?;
        let found = match teams.iter().any(|t| t.id == id) {
            true => Ok(()),
            false => Err(StoreError::not_found("team", id)),
        };
        self.note(field, &id.to_string(), "a team", found)
    }

    /// Records `id` at `field` as missing if the lookup found nothing; passes other errors on.
    fn note(
        &mut self,
        field: &str,
        id: &str,
        what: &str,
        found: Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match found {
            Err(StoreError::NotFound { .. }) => {
                let expected = format!("{what} of workspace {}", self.workspace.slug);
                self.missing.push(InvalidValue::new(id, expected).at(field));
                Ok(())
            }
            other => other,
        }
    }

    pub(crate) fn finish(self) -> Result<(), CommandFailed> {
        Ok(self.missing.finish()?)
    }
}
