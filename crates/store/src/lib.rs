//! pipewise's persistence. One [`Store`] trait taking and returning domain types, with two
//! implementations sharing one body of SQL: SQLite (embedded, the default) and PostgreSQL.
//!
//! Writes of an opportunity's state and its events happen in one transaction, so the event log
//! and the current state can never disagree. Every method takes the workspace id and every
//! query filters on it.

pub mod analytics;
pub mod bulk;
pub mod commands;
mod db_time;
mod error;
mod event_codec;
pub mod forecasts;
pub mod hygiene;
pub mod integrity;
pub mod leads;
mod postgres;
pub mod processes;
pub mod records;
mod references;
mod retry;
mod rows;
mod sql_store;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::BoxStream;
use pipewise_analytics::forecast::{Headline, Snapshot};
use pipewise_core::access::RepVisibility;
use pipewise_core::calendar::{DateRange, Period};
use pipewise_core::credentials::{ApiToken, Session};
use pipewise_core::crm::changes::{CrmRecord, RecordChange};
use pipewise_core::crm::{
    Account, Activity, ActivityKind, Contact, DealTouch, LastActivity, Lead, LeadStatus, Target,
};
use pipewise_core::exchange::ExchangeRate;
use pipewise_core::external::{ExternalKey, ExternalSystem};
use pipewise_core::forecast::Submission;
use pipewise_core::ids::{
    AccountId, ActivityId, ContactId, LeadId, OpportunityId, SessionId, SnapshotId, TargetId,
    TokenId, UserId, WebhookId, WorkspaceId,
};
use pipewise_core::money::Money;
use pipewise_core::opportunity::{self, Opportunity, OpportunityEvent, Recorded, Status};
use pipewise_core::org::{Team, User, Workspace};
use pipewise_core::process::{
    ForecastCategory, Process, ProcessFile, ProcessKey, ProcessRevision, ProcessVersion, StageKey,
};
use pipewise_core::text::{Email, Label, Name, Slug, WebDomain};
use pipewise_core::webhooks::{Delivery, Webhook};
use uuid::Uuid;

pub use error::StoreError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// New records written together by [`Store::write_batch`]: all of them, or none.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub teams: Vec<Team>,
    pub users: Vec<User>,
    pub accounts: Vec<Account>,
    pub contacts: Vec<Contact>,
    /// New opportunities with their full event history.
    pub opportunities: Vec<Recorded>,
    pub leads: Vec<Lead>,
    pub activities: Vec<Activity>,
    pub targets: Vec<Target>,
    /// The source-system ids of imported records, written with them.
    pub external_keys: Vec<ExternalKey>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.teams.is_empty()
            && self.users.is_empty()
            && self.accounts.is_empty()
            && self.contacts.is_empty()
            && self.opportunities.is_empty()
            && self.leads.is_empty()
            && self.activities.is_empty()
            && self.targets.is_empty()
            && self.external_keys.is_empty()
    }
}

/// The order of a list of deals; ties (and `Created`) go by id, which is creation order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DealOrder {
    #[default]
    Created,
    CreatedDescending,
    CloseDate,
    CloseDateDescending,
}

/// Which deals a list holds, and in which order; a part left `None` keeps every deal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealFilter {
    /// Only these owners' deals (an empty list: none).
    pub owners: Option<Vec<UserId>>,
    pub stage: Option<StageKey>,
    pub status: Option<Status>,
    /// Only deals closing in this range.
    pub closing: Option<DateRange>,
    pub order: DealOrder,
}

/// What a pipeline board's card shows of a deal: [`Store::deal_cards`] reads no more, so a
/// board of thousands of cards skips each deal's evidence, next step, loss and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealCard {
    pub id: OpportunityId,
    pub version: u32,
    pub name: Name,
    pub owner_id: UserId,
    pub process: ProcessKey,
    pub stage: StageKey,
    pub status: Status,
    pub amount: Option<Money>,
    pub close_date: NaiveDate,
    /// The forecast category set by hand, if any.
    pub category_override: Option<ForecastCategory>,
    pub segment: Option<Label>,
}

impl DealCard {
    pub fn forecast_category(&self, process: &Process) -> ForecastCategory {
        opportunity::forecast_category(self.status, self.category_override, &self.stage, process)
    }
}

/// Which accounts a list holds; a part left `None` keeps every account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub owner: Option<UserId>,
    pub segment: Option<Label>,
    pub region: Option<Label>,
    pub domain: Option<WebDomain>,
}

/// Which contacts a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFilter {
    pub account: Option<AccountId>,
    pub email: Option<Email>,
}

/// Which leads a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFilter {
    /// Only these owners' leads (an empty list: none); unowned leads are kept when
    /// `unowned` is set.
    pub owners: Option<Vec<UserId>>,
    pub unowned: bool,
    pub status: Option<LeadStatus>,
    /// Only leads the assignment rules could not place (the routing-issue log).
    pub routing_issue: bool,
}

/// Which activities a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Only activities by these people (an empty list: none).
    pub users: Option<Vec<UserId>>,
    pub kind: Option<ActivityKind>,
    pub opportunity: Option<OpportunityId>,
    pub account: Option<AccountId>,
    pub contact: Option<ContactId>,
    pub lead: Option<LeadId>,
}

/// One page of a list ordered by id (which is creation order, ids being UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<I = OpportunityId> {
    /// Start after this id; `None` for the first page.
    pub after: Option<I>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, I = OpportunityId> {
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next_after: Option<I>,
}

/// A workspace's lead settings as an admin applied them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedLeadSettings {
    pub version: u32,
    /// The TOML laid over the shipped settings.
    pub text: String,
    pub applied_by: UserId,
    pub applied_at: DateTime<Utc>,
}

/// How many records of each kind a workspace holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub teams: u64,
    pub users: u64,
    pub accounts: u64,
    pub contacts: u64,
    pub opportunities: u64,
    pub opportunity_events: u64,
    pub leads: u64,
    pub activities: u64,
    pub targets: u64,
}

/// A write a store made, announced to those who keep state derived from it (the server's
/// resident analytics) or act on it (webhook deliveries).
#[derive(Debug, Clone)]
pub enum Written {
    /// New events of one opportunity, in order, just committed.
    Events {
        workspace: WorkspaceId,
        events: Arc<[OpportunityEvent]>,
    },
    /// A new call, e-mail or meeting on a deal.
    Touch {
        workspace: WorkspaceId,
        touch: DealTouch,
        /// The lead it is also logged on.
        lead: Option<LeadId>,
    },
    /// An account, contact, lead or target, or an activity on no deal, was created, changed
    /// or deleted: nothing derived from deals depends on it.
    Record {
        workspace: WorkspaceId,
        /// The leads whose place in the sales queue the write may change: the lead written,
        /// or those the activity is and was logged on.
        leads: Vec<LeadId>,
    },
    /// Many records at once, a new process version, a changed or deleted activity on a deal,
    /// or a deleted workspace: what was derived from the workspace is to be rebuilt.
    Replaced { workspace: WorkspaceId },
}

impl Written {
    /// The workspace written to.
    pub fn workspace(&self) -> WorkspaceId {
        match self {
            Self::Events { workspace, .. }
            | Self::Touch { workspace, .. }
            | Self::Record { workspace, .. }
            | Self::Replaced { workspace } => *workspace,
        }
    }
}

/// How many announcements wait for a slow listener before it is told it missed some.
const ANNOUNCEMENTS_KEPT: usize = 4096;

/// The sending side of a store's announcements.
pub(crate) fn announcer() -> tokio::sync::broadcast::Sender<Written> {
    tokio::sync::broadcast::channel(ANNOUNCEMENTS_KEPT).0
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Announcements of every write this store makes from now on, in commit order. Writes
    /// made by other processes on the same database are not announced.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Written>;

    /// The kind of database and where it is, for logs and messages (never the password).
    fn describe(&self) -> String;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;

    async fn create_workspace(&self, workspace: &Workspace) -> Result<()>;
    async fn workspace(&self, slug: &Slug) -> Result<Workspace>;
    async fn workspaces(&self) -> Result<Vec<Workspace>>;
    /// Removes a workspace and everything in it, in one transaction.
    async fn delete_workspace(&self, workspace: WorkspaceId) -> Result<()>;

    /// Stores a new webhook subscription with the secret its deliveries are signed with.
    async fn create_webhook(
        &self,
        workspace: WorkspaceId,
        hook: &Webhook,
        secret: &str,
    ) -> Result<()>;
    /// Every webhook subscription of the workspace, in creation order.
    async fn webhooks(&self, workspace: WorkspaceId) -> Result<Vec<Webhook>>;
    /// A webhook subscription and its signing secret.
    async fn webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<(Webhook, String)>;
    /// Enables a webhook subscription again, with no failures counted; what happened while
    /// it was disabled is not sent.
    async fn enable_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<()>;
    /// Removes a webhook subscription and its deliveries.
    async fn delete_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<()>;
    /// Pending deliveries to enabled webhooks due by `now`, each the earliest pending one of
    /// its webhook and deal (so a deal's events go out in order), soonest due first.
    async fn due_deliveries(
        &self,
        workspace: WorkspaceId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Stores how a delivery went and its webhook's failure count, in one transaction.
    async fn record_delivery(
        &self,
        workspace: WorkspaceId,
        delivery: &Delivery,
        hook: &Webhook,
    ) -> Result<()>;
    /// A webhook's most recent deliveries, newest first: its delivery log.
    async fn deliveries(
        &self,
        workspace: WorkspaceId,
        webhook: WebhookId,
        limit: u32,
    ) -> Result<Vec<Delivery>>;

    /// Sets whether the workspace's reps read their team's deals or only their own.
    /// The lead settings the workspace applied last, if it applied any.
    async fn lead_settings(&self, workspace: WorkspaceId) -> Result<Option<AppliedLeadSettings>>;
    /// Stores `text` as the workspace's next lead settings; returns its version.
    async fn apply_lead_settings(
        &self,
        workspace: WorkspaceId,
        text: &str,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<u32>;
    async fn set_rep_visibility(
        &self,
        workspace: WorkspaceId,
        visibility: RepVisibility,
    ) -> Result<()>;

    /// Writes new records in one transaction: all of them or, on any error, none.
    async fn write_batch(&self, workspace: WorkspaceId, batch: &Batch) -> Result<()>;
    /// Readies the database for `deals` new deals written in many batches. On SQLite, when
    /// they are at least as many as it holds, the migrations' indexes on the tables batches
    /// fill that enforce nothing are dropped, to be built once by
    /// [`Store::finish_bulk_load`] (or, should the load stop before that, when the database
    /// is next opened). Reads stay correct meanwhile, and slower. Says whether it dropped
    /// any, that is whether the end of the load will build them.
    async fn begin_bulk_load(&self, deals: u64) -> Result<bool>;
    /// Ends a bulk load: builds any index [`Store::begin_bulk_load`] dropped.
    async fn finish_bulk_load(&self) -> Result<()>;

    /// Every record imported from `system`, by its id there.
    async fn external_keys(
        &self,
        workspace: WorkspaceId,
        system: ExternalSystem,
    ) -> Result<Vec<ExternalKey>>;

    async fn users(&self, workspace: WorkspaceId) -> Result<Vec<User>>;
    async fn user(&self, workspace: WorkspaceId, id: UserId) -> Result<User>;
    /// The user with this e-mail address.
    async fn user_by_email(&self, workspace: WorkspaceId, email: &Email) -> Result<User>;
    /// Sets a user's password hash (a PHC string), replacing any earlier one and ending the
    /// user's sessions.
    async fn set_password(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        hash: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// A user's password hash, if they have a password.
    async fn password_hash(&self, workspace: WorkspaceId, user: UserId) -> Result<Option<String>>;
    /// The users who have a password, in id order.
    async fn users_with_password(&self, workspace: WorkspaceId) -> Result<Vec<UserId>>;
    /// Stores a new session with the hash of its secret; clears expired ones.
    async fn create_session(
        &self,
        workspace: WorkspaceId,
        session: &Session,
        secret_hash: &[u8],
    ) -> Result<()>;
    /// A session and the hash of its secret.
    async fn session(&self, workspace: WorkspaceId, id: SessionId) -> Result<(Session, Vec<u8>)>;
    /// Ends a session; ending one that is gone is no error.
    async fn delete_session(&self, workspace: WorkspaceId, id: SessionId) -> Result<()>;
    /// Stores a new API token with the hash of its secret.
    async fn create_api_token(
        &self,
        workspace: WorkspaceId,
        token: &ApiToken,
        secret_hash: &[u8],
    ) -> Result<()>;
    /// Every API token of the workspace, revoked ones included, in creation order.
    async fn api_tokens(&self, workspace: WorkspaceId) -> Result<Vec<ApiToken>>;
    /// An API token and the hash of its secret.
    async fn api_token(&self, workspace: WorkspaceId, id: TokenId) -> Result<(ApiToken, Vec<u8>)>;
    /// Revokes an API token; revoking it again keeps the first time.
    async fn revoke_api_token(
        &self,
        workspace: WorkspaceId,
        id: TokenId,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Notes when an API token was last used.
    async fn api_token_used(
        &self,
        workspace: WorkspaceId,
        id: TokenId,
        at: DateTime<Utc>,
    ) -> Result<()>;
    async fn account(&self, workspace: WorkspaceId, id: AccountId) -> Result<Account>;
    async fn contact(&self, workspace: WorkspaceId, id: ContactId) -> Result<Contact>;
    async fn lead(&self, workspace: WorkspaceId, id: LeadId) -> Result<Lead>;
    /// The first lead created for the person `email` names, ignoring case and `+tags`.
    async fn lead_by_email(&self, workspace: WorkspaceId, email: &Email) -> Result<Option<Lead>>;
    async fn activity(&self, workspace: WorkspaceId, id: ActivityId) -> Result<Activity>;
    async fn target(&self, workspace: WorkspaceId, id: TargetId) -> Result<Target>;
    /// A page of the accounts `filter` keeps, in creation order.
    async fn accounts(
        &self,
        workspace: WorkspaceId,
        page: PageRequest<AccountId>,
        filter: &AccountFilter,
    ) -> Result<Page<Account, AccountId>>;
    /// A page of the contacts `filter` keeps, in creation order.
    async fn contacts(
        &self,
        workspace: WorkspaceId,
        page: PageRequest<ContactId>,
        filter: &ContactFilter,
    ) -> Result<Page<Contact, ContactId>>;
    /// A page of the leads `filter` keeps, in creation order.
    async fn leads(
        &self,
        workspace: WorkspaceId,
        page: PageRequest<LeadId>,
        filter: &LeadFilter,
    ) -> Result<Page<Lead, LeadId>>;
    /// A page of the activities `filter` keeps, in creation order.
    async fn activities(
        &self,
        workspace: WorkspaceId,
        page: PageRequest<ActivityId>,
        filter: &ActivityFilter,
    ) -> Result<Page<Activity, ActivityId>>;
    /// Stores one write of a CRM record with its entry in the audit trail, in one
    /// transaction: a creation inserts the record; a change replaces the version before it
    /// by `record`; a deletion removes `record`, which is the stored version. Refused with
    /// [`StoreError::VersionConflict`] if the stored version is another, and
    /// [`StoreError::NotFound`] if the record is gone.
    async fn write_record(
        &self,
        workspace: WorkspaceId,
        record: &CrmRecord,
        change: &RecordChange,
    ) -> Result<()>;
    /// Every change to a CRM record through the API, oldest first.
    async fn record_history(&self, workspace: WorkspaceId, id: Uuid) -> Result<Vec<RecordChange>>;
    async fn teams(&self, workspace: WorkspaceId) -> Result<Vec<Team>>;
    /// Every quota and plan number of the workspace.
    async fn targets(&self, workspace: WorkspaceId) -> Result<Vec<Target>>;
    /// Adds a forecast call or adjustment to the workspace's history of them.
    async fn record_submission(
        &self,
        workspace: WorkspaceId,
        submission: &Submission,
    ) -> Result<()>;
    /// The forecast calls and adjustments of a period, oldest first.
    async fn submissions(&self, workspace: WorkspaceId, period: Period) -> Result<Vec<Submission>>;
    /// Stores a forecast snapshot.
    async fn record_snapshot(
        &self,
        workspace: WorkspaceId,
        id: SnapshotId,
        snapshot: &Snapshot,
    ) -> Result<()>;
    /// The snapshots of a period, oldest first.
    async fn snapshots(
        &self,
        workspace: WorkspaceId,
        period: Period,
    ) -> Result<Vec<(SnapshotId, Snapshot)>>;
    /// The headline numbers of a period's snapshots, oldest first, without reading their
    /// people and deals.
    async fn snapshot_headlines(
        &self,
        workspace: WorkspaceId,
        period: Period,
    ) -> Result<Vec<Headline>>;
    /// One snapshot.
    async fn snapshot(&self, workspace: WorkspaceId, id: SnapshotId) -> Result<Snapshot>;
    /// The workspace's exchange rates, by currency then date.
    async fn exchange_rates(&self, workspace: WorkspaceId) -> Result<Vec<ExchangeRate>>;
    /// Stores rates in one transaction, each replacing the one of the same currency and day.
    async fn set_exchange_rates(
        &self,
        workspace: WorkspaceId,
        rates: &[ExchangeRate],
    ) -> Result<()>;
    /// Every account of a workspace, in id order, streamed.
    fn all_accounts(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Account>>;
    /// Every contact of a workspace, in id order, streamed.
    fn all_contacts(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Contact>>;
    /// Every lead of a workspace, in id order, streamed.
    fn all_leads(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Lead>>;
    /// Every change made to a workspace's leads, by lead and version, streamed.
    fn lead_changes(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<RecordChange>>;
    /// Every activity of a workspace, in id order, streamed.
    fn all_activities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Activity>>;
    /// Every call, e-mail and meeting logged on a lead, streamed.
    fn lead_activities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Activity>>;
    /// The leads that may wait for a sales attempt (queued, open, not in nurture), in id
    /// order, streamed.
    fn queued_leads(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Lead>>;
    /// Every call, e-mail and meeting logged on a lead `queued_leads` gives, streamed.
    fn queued_lead_activities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Activity>>;
    /// Every call, e-mail and meeting logged on an opportunity, in no particular order,
    /// streamed.
    fn deal_touches(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<DealTouch>>;
    /// When each opportunity, account and contact last had a call, e-mail or meeting.
    async fn last_activity(&self, workspace: WorkspaceId) -> Result<LastActivity>;

    async fn opportunity(&self, workspace: WorkspaceId, id: OpportunityId) -> Result<Opportunity>;
    /// A page of the opportunities `filter` keeps, in its order; a page after a deal starts
    /// where that deal is in the order now.
    async fn opportunities(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
        filter: &DealFilter,
    ) -> Result<Page<Opportunity>>;
    /// The same page of deals as [`Store::opportunities`], each with only what a board card
    /// shows.
    async fn deal_cards(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
        filter: &DealFilter,
    ) -> Result<Page<DealCard>>;
    /// An opportunity's events in order.
    async fn opportunity_events(
        &self,
        workspace: WorkspaceId,
        id: OpportunityId,
    ) -> Result<Vec<OpportunityEvent>>;
    /// Stores the outcome of one command: the new state and its events, in one transaction.
    /// Refused with [`StoreError::VersionConflict`] if the opportunity changed since the state
    /// the command was decided on.
    async fn record(&self, workspace: WorkspaceId, recorded: &Recorded) -> Result<()>;

    /// Every opportunity of a workspace, in id order, streamed.
    fn all_opportunities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Opportunity>>;
    /// Every event of a workspace, by opportunity id then sequence, streamed.
    fn event_log(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<OpportunityEvent>>;
    /// The event log without `evidence_recorded` events, in the same order: what stage,
    /// amount, date, owner and outcome histories need, at less than half the rows.
    fn event_log_without_evidence(
        &self,
        workspace: WorkspaceId,
    ) -> BoxStream<'_, Result<OpportunityEvent>>;
    /// The event log with, of the evidence, only gate decisions and stakeholder changes, in
    /// the same order: what the analytics projection reads, at about half the rows.
    fn event_log_for_analytics(
        &self,
        workspace: WorkspaceId,
    ) -> BoxStream<'_, Result<OpportunityEvent>>;

    async fn counts(&self, workspace: WorkspaceId) -> Result<Counts>;

    /// Records a new version of the workspace's process definitions with its files, in one
    /// transaction. Refused with [`StoreError::VersionConflict`] if that version exists.
    async fn record_process_version(
        &self,
        workspace: WorkspaceId,
        revision: &ProcessRevision,
        files: &[ProcessFile],
    ) -> Result<()>;
    /// Every version of the workspace's process definitions, oldest first.
    async fn process_history(&self, workspace: WorkspaceId) -> Result<Vec<ProcessRevision>>;
    /// The process files of `version`, or of the latest version when `None`.
    async fn process_files(
        &self,
        workspace: WorkspaceId,
        version: Option<ProcessVersion>,
    ) -> Result<(ProcessVersion, Vec<ProcessFile>)>;
    /// How many open opportunities sit in each process and stage.
    async fn open_deals_by_stage(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<(ProcessKey, StageKey, u64)>>;
}

/// Opens the database a URL names and brings its schema up to date:
/// `sqlite://path/to/file.db` (created if missing) or `postgres://user@host/db`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl {
            url: redact_password(url),
            detail: "use sqlite://FILE or postgres://USER@HOST/DATABASE",
        })
    }
}

/// A database URL with any password replaced by `***`, safe to print.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_password("postgres://ana:s3cret@db.internal:5432/pipewise"),
            "postgres://ana:***@db.internal:5432/pipewise"
        );
        assert_eq!(
            redact_password("postgres://ana@db/pw"),
            "postgres://ana@db/pw"
        );
        assert_eq!(
            redact_password("sqlite://pipewise.db"),
            "sqlite://pipewise.db"
        );
    }
}
