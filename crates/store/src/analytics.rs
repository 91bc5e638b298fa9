//! Builds the analytics projection of a workspace from its stored event log and process
//! versions.

use futures_util::TryStreamExt;
use pipewise_analytics::reports::ReportInputs;
use pipewise_analytics::{FunnelBenchmarks, Projection, SliceContext};
use pipewise_core::crm::Target;
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::org::Workspace;
use pipewise_core::process::ProcessSet;

use crate::{Store, StoreError, processes};

/// The projection of every deal in the workspace, read in one pass over its event log (the
/// evidence the projection ignores left out) and one over the calls, e-mails and meetings
/// logged on its deals.
pub async fn projection(
    store: &dyn Store,
    workspace: &Workspace,
) -> Result<Projection, StoreError> {
    let mut versions = Vec::new();
    for revision in store.process_history(workspace.id).await? {
        versions.push(processes::at_version(store, workspace, revision.version).await?);
    }
    let mut projection = Projection::new(&versions);
    let mut events = store.event_log_for_analytics(workspace.id);
    while let Some(event) = events.try_next().await? {
        projection.apply(&event).map_err(|e| StoreError::Corrupt {
            table: "opportunity_events",
            key: format!("{}#{}", e.opportunity_id, e.seq),
            detail: e.problem,
        })?;
    }
    let mut touches = store.deal_touches(workspace.id);
    while let Some(touch) = touches.try_next().await? {
        // An activity on an opportunity with no events cannot say anything of a deal.
        projection.touch(&touch);
    }
    Ok(projection)
}

/// What reports read besides the projection, as stored now.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// The process version in force.
    pub processes: ProcessSet,
    pub context: SliceContext,
    pub targets: Vec<Target>,
    /// Rates into the corporate currency.
    pub rates: ExchangeRates,
}

impl ReportSettings {
    /// What reports and forecasts of `workspace` read: `projection` with these settings.
    pub fn inputs<'a>(
        &'a self,
        projection: &'a Projection,
        workspace: &Workspace,
        benchmarks: &'a FunnelBenchmarks,
    ) -> ReportInputs<'a> {
        ReportInputs {
            projection,
            processes: &self.processes,
            context: &self.context,
            targets: &self.targets,
            calendar: workspace.fiscal_calendar,
            currency: workspace.corporate_currency,
            rates: &self.rates,
            benchmarks,
        }
    }
}

/// Reads the report settings of a workspace; accounts' regions (one pass over the accounts)
/// only when `regions`.
pub async fn report_settings(
    store: &dyn Store,
    workspace: &Workspace,
    regions: bool,
) -> Result<ReportSettings, StoreError> {
    Ok(ReportSettings {
        processes: processes::current(store, workspace).await?,
        context: slice_context(store, workspace, regions).await?,
        targets: store.targets(workspace.id).await?,
        rates: ExchangeRates::with(
            workspace.corporate_currency,
            &store.exchange_rates(workspace.id).await?,
        ),
    })
}

/// Names of people, their teams and managers, and (when `regions`) accounts' regions, for
/// breaking reports down.
pub async fn slice_context(
    store: &dyn Store,
    workspace: &Workspace,
    regions: bool,
) -> Result<SliceContext, StoreError> {
    let users = store.users(workspace.id).await?;
    let mut context = SliceContext::default();
    for team in store.teams(workspace.id).await? {
        context.team_names.insert(team.id, team.name.to_string());
    }
    for user in users {
        context.user_names.insert(user.id, user.name.to_string());
        if let Some(team) = user.team_id.and_then(|t| context.team_names.get(&t)) {
            context.teams.insert(user.id, team.clone());
        }
        if let Some(manager) = user.manager_id {
            context.managers.insert(user.id, manager);
        }
    }
    if regions {
        let mut accounts = store.all_accounts(workspace.id);
        while let Some(account) = accounts.try_next().await? {
            if let Some(region) = account.region {
                context.regions.insert(account.id, region.to_string());
            }
        }
    }
    Ok(context)
}
