//! The SQL shared by both backends. sqlx cannot abstract over databases without a page of
//! trait bounds on every function, so [`impl_store!`] stamps out the [`Store`] implementation
//! for each concrete backend from this one body. SQL that differs lives in the migrations, not
//! here: both backends accept `$n` placeholders, row values and `ON CONFLICT`.
//!
//! [`Store`]: crate::Store

/// Most bind parameters in one statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
pub(crate) const MAX_BIND_PARAMS: usize = 30_000;

// Column lists as macros so queries can be assembled with `concat!` into `&'static str`s.

macro_rules! opportunity_columns {
    () => {
        "id, version, name, account_id, owner_id, process, stage, status, amount_minor, \
         currency, close_date, category_override, category_override_reason, source, segment, \
         competitor, next_step, next_step_owner_id, next_step_due, loss_type, loss_reason, \
         evidence, created_at, updated_at"
    };
}

/// A deal's columns that no index holds. A change limited to them (a stage move, an edit,
/// evidence) rewrites the deal's row alone, not its entries in the four indexes, which under a
/// stream of moves was most of the pages written.
macro_rules! unindexed_opportunity_columns {
    () => {
        "version, name, account_id, process, stage, amount_minor, currency, category_override, \
         category_override_reason, source, segment, competitor, next_step, next_step_owner_id, \
         next_step_due, loss_type, loss_reason, evidence, created_at, updated_at"
    };
}

/// The columns a change to a deal can alter, in the order `bind_changeable_opportunity` binds
/// them: the indexed ones, then the rest.
macro_rules! changeable_opportunity_columns {
    () => {
        concat!(
            "owner_id, status, close_date, ",
            unindexed_opportunity_columns!()
        )
    };
}

/// The columns a deal is written with, in the order `bind_opportunity` binds them: its key, then
/// the columns a change can alter.
macro_rules! written_opportunity_columns {
    () => {
        concat!("workspace_id, id, ", changeable_opportunity_columns!())
    };
}

/// What a board card shows of a deal ([`crate::DealCard`]).
macro_rules! deal_card_columns {
    () => {
        "id, version, name, owner_id, process, stage, status, amount_minor, currency, \
         close_date, category_override, segment"
    };
}

macro_rules! event_columns {
    () => {
        "opportunity_id, seq, kind, actor_id, effective_at, recorded_at, process_version, data"
    };
}

macro_rules! user_columns {
    () => {
        "id, name, email, role, manager_id, team_id, created_at"
    };
}

macro_rules! contact_columns {
    () => {
        "id, version, account_id, name, email, title, buying_role, created_at"
    };
}

macro_rules! lead_columns {
    () => {
        "id, version, name, email, company, source, status, owner_id, account_id, \
         opportunity_id, created_at, title, phone, website, region, segment, product_line, \
         nurture, disposition, queued_at, evidence, email_key, routing_issue"
    };
}

/// A lead that may wait for a sales attempt, as the `leads_waiting` index has it; the lead
/// settings decide the rest (`LeadSettings::waiting_response`).
macro_rules! queued_lead {
    () => {
        "queued_at IS NOT NULL AND nurture IS NULL AND status NOT IN ('sal', 'disqualified')"
    };
}

macro_rules! activity_columns {
    () => {
        "id, version, kind, occurred_at, user_id, account_id, contact_id, lead_id, \
         opportunity_id, subject, outcome"
    };
}

macro_rules! target_columns {
    () => {
        "id, version, owner_kind, user_id, team_id, period, amount_minor, currency"
    };
}

macro_rules! record_change_columns {
    () => {
        "record_id, version, record_kind, action, actor_id, recorded_at, before, after"
    };
}

macro_rules! api_token_columns {
    () => {
        "id, user_id, name, scope, secret_hash, created_at, last_used_at, revoked_at"
    };
}

macro_rules! webhook_columns {
    () => {
        "id, url, events, secret, created_by, created_at, failed_deliveries, disabled_at"
    };
}

/// The columns of a delivery of either kind, as `Delivery` reads them: deal events'
/// deliveries name their deal and event kind, record changes' their record, version and type.
macro_rules! delivery_columns {
    (deal) => {
        concat!(
            "webhook_id, opportunity_id AS record_id, seq, 'opportunity.' || event_kind AS event_type, ",
            delivery_columns!(status)
        )
    };
    (record) => {
        concat!("webhook_id, record_id, version AS seq, event_type, ", delivery_columns!(status))
    };
    (status) => {
        "status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at"
    };
}

/// The pending deliveries in one table due by `$2` to an enabled webhook, each the earliest
/// pending one of its webhook and deal or record, so each one's events arrive in order.
macro_rules! due_deliveries {
    ($kind:tt, $table:literal, $record:literal, $seq:literal) => {
        concat!(
            "SELECT ", delivery_columns!($kind), " FROM ", $table, " d ",
            "WHERE workspace_id = $1 AND status = 'pending' AND next_attempt_at <= $2 ",
            "AND webhook_id IN (SELECT id FROM webhooks WHERE workspace_id = $1 AND disabled_at IS NULL) ",
            "AND NOT EXISTS (SELECT 1 FROM ", $table, " e WHERE e.workspace_id = d.workspace_id ",
            "AND e.webhook_id = d.webhook_id AND e.", $record, " = d.", $record, " ",
            "AND e.status = 'pending' AND e.", $seq, " < d.", $seq, ")"
        )
    };
}

macro_rules! account_columns {
    () => {
        "id, version, name, domain, industry, employee_band, region, segment, tier, owner_id, \
         created_at"
    };
}

/// Tables of a workspace, children before parents, for deletion.
pub(crate) const WORKSPACE_TABLES: [&str; 23] = [
    "external_keys",
    "lead_settings",
    "record_change_deliveries",
    "record_changes",
    "webhook_deliveries",
    "webhooks",
    "sessions",
    "api_tokens",
    "credentials",
    "forecast_snapshots",
    "forecast_submissions",
    "exchange_rates",
    "process_files",
    "process_versions",
    "activities",
    "leads",
    "opportunity_events",
    "opportunities",
    "targets",
    "contacts",
    "accounts",
    "users",
    "teams",
];

macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        use async_trait::async_trait;
        use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
        use chrono::{DateTime, Utc};
        use pipewise_core::access::RepVisibility;
        use pipewise_core::credentials::{ApiToken, Session};
        use pipewise_core::crm::{Account, Activity, Contact, DealTouch, LastActivity, Lead, Target, TargetOwner};
        use pipewise_core::crm::changes::{CrmRecord, RecordAction, RecordChange, CrmKind};
        use pipewise_core::ids::{AccountId, ActivityId, ContactId, LeadId, OpportunityId, SessionId, TargetId, TokenId, UserId, WebhookId, WorkspaceId};
        use pipewise_core::webhooks::{Delivery, EventFilter, EventType, Webhook};
        use pipewise_core::opportunity::{Opportunity, OpportunityEvent, Recorded};
        use pipewise_core::org::{Team, User, Workspace};
        use pipewise_core::process::{
            ProcessFile, ProcessKey, ProcessRevision, ProcessSet, ProcessVersion, StageKey,
        };
        use pipewise_core::text::{Email, Slug};
        use sqlx::query_builder::Separated;
        use sqlx::types::Json;
        use sqlx::{QueryBuilder, Transaction};
        use std::future::Future;
        use std::task::Poll;
        use uuid::Uuid;

        use crate::db_time::DbTime;
        use pipewise_core::calendar::Period;
        use pipewise_core::exchange::ExchangeRate;
        use pipewise_core::external::{ExternalKey, ExternalSystem};
        use pipewise_core::forecast::{Submission, SubmissionKind};
        use pipewise_analytics::forecast::{Headline, MethodNumber, Snapshot};
        use pipewise_core::ids::SnapshotId;
        use crate::event_codec::EventData;
        use crate::retry::retrying;
        use pipewise_core::leads::intake::person_key;
        use crate::rows::{
            AccountRow, ActivityRow, ApiTokenRow, ContactRow, DeliveryRow, LeadRow, RecordChangeRow, EventRow, WebhookRow, ExchangeRateRow, ExternalKeyRow, OpportunityRow, DealCardRow, ProcessVersionRow,
            SessionRow, SubmissionRow, TargetRow, TeamRow, TouchRow, UserRow, WorkspaceRow,
        };
        use crate::sql_store::{
            MAX_BIND_PARAMS, WORKSPACE_TABLES, account_columns, activity_columns, api_token_columns,
            contact_columns, deal_card_columns, delivery_columns, due_deliveries, event_columns, lead_columns, queued_lead, record_change_columns,
            target_columns, webhook_columns, opportunity_columns, changeable_opportunity_columns, unindexed_opportunity_columns, user_columns, written_opportunity_columns,
        };
        use crate::{
            AccountFilter, ActivityFilter, AppliedLeadSettings, Batch, ContactFilter, Counts, DealCard, DealFilter, DealOrder, LeadFilter, Page,
            PageRequest, Result, Store, StoreError,
        };

        type Tx = Transaction<'static, $db>;

        /// Inserts `items` with as few statements as the bind-parameter limit allows. Each
        /// statement is made while the database runs the one before: making one (encoding
        /// every value) took a fifth of a bulk load's writing time, with the database idle.
        /// On SQLite the statement is handed to the connection's own thread at its first
        /// poll; on PostgreSQL a statement not yet prepared first waits for its preparation.
        async fn insert_all<'a, T>(
            tx: &mut Tx,
            head: &str,
            columns: usize,
            items: &'a [T],
            mut bind: impl FnMut(&mut Separated<'_, 'a, $db, &'static str>, &'a T),
        ) -> Result<()> {
            let mut chunks = items.chunks(MAX_BIND_PARAMS / columns);
            let mut make = |chunk| {
                let mut query = QueryBuilder::<$db>::new(head);
                query.push_values(chunk, |mut row, item| bind(&mut row, item));
                query
            };
            let mut next = chunks.next().map(&mut make);
            while let Some(mut query) = next {
                let mut run = std::pin::pin!(query.build().execute(&mut **tx));
                let first = std::future::poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx))).await;
                next = chunks.next().map(&mut make);
                match first {
                    Poll::Ready(done) => done?,
                    Poll::Pending => run.await?,
                };
            }
            Ok(())
        }

        /// Binds a deal in the order of `written_opportunity_columns!`.
        fn bind_opportunity<'a>(
            row: &mut Separated<'_, 'a, $db, &'static str>,
            workspace: Uuid,
            opp: &'a Opportunity,
        ) {
            row.push_bind(workspace).push_bind(opp.id.as_uuid());
            bind_changeable_opportunity(row, opp);
        }

        /// Binds a deal's columns in the order of `changeable_opportunity_columns!`.
        fn bind_changeable_opportunity<'a>(row: &mut Separated<'_, 'a, $db, &'static str>, opp: &'a Opportunity) {
            row.push_bind(opp.owner_id.as_uuid())
                .push_bind(opp.status.as_str())
                .push_bind(opp.close_date);
            bind_unindexed_opportunity(row, opp);
        }

        /// Binds a deal's columns in the order of `unindexed_opportunity_columns!`.
        fn bind_unindexed_opportunity<'a>(row: &mut Separated<'_, 'a, $db, &'static str>, opp: &'a Opportunity) {
            let next = opp.next_step.as_ref();
            let override_ = opp.category_override.as_ref();
            let loss = opp.loss.as_ref();
            row.push_bind(i64::from(opp.version))
                .push_bind(opp.name.as_str())
                .push_bind(opp.account_id.as_uuid())
                .push_bind(opp.process.as_str())
                .push_bind(opp.stage.as_str())
                .push_bind(opp.amount.map(|m| m.minor))
                .push_bind(opp.amount.map(|m| m.currency.code().to_owned()))
                .push_bind(override_.map(|o| o.category.as_str()))
                .push_bind(override_.map(|o| o.reason.as_str()))
                .push_bind(opp.source.as_ref().map(|v| v.as_str()))
                .push_bind(opp.segment.as_ref().map(|v| v.as_str()))
                .push_bind(opp.competitor.as_ref().map(|v| v.as_str()))
                .push_bind(next.map(|n| n.text.as_str()))
                .push_bind(next.map(|n| n.owner_id.as_uuid()))
                .push_bind(next.map(|n| n.due))
                .push_bind(loss.map(|l| l.loss_type.as_str()))
                .push_bind(loss.and_then(|l| l.reason.as_ref()).map(|r| r.as_str()))
                .push_bind(Json(&opp.evidence))
                .push_bind(DbTime(opp.created_at))
                .push_bind(DbTime(opp.updated_at));
        }

        async fn insert_events(tx: &mut Tx, workspace: Uuid, events: &[&OpportunityEvent]) -> Result<()> {
            const HEAD: &str = concat!("INSERT INTO opportunity_events (workspace_id, ", event_columns!(), ") ");
            insert_all(tx, HEAD, 9, events, |row, event| {
                row.push_bind(workspace)
                    .push_bind(event.opportunity_id.as_uuid())
                    .push_bind(i64::from(event.seq))
                    .push_bind(event.change.kind().as_str())
                    .push_bind(event.actor_id.as_uuid())
                    .push_bind(DbTime(event.effective_at))
                    .push_bind(DbTime(event.recorded_at))
                    .push_bind(i64::from(event.process_version.0))
                    .push_bind(Json(EventData(&event.change)));
            })
            .await
        }

        /// Rows of a table in primary-key order: inserting in key order keeps each B-tree's
        /// working set small (ids are UUIDv7, so this is also roughly time order).
        fn by_id<T, K: Ord>(rows: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
            let mut sorted: Vec<&T> = rows.iter().collect();
            sorted.sort_by_key(|row| key(row));
            sorted
        }

        async fn insert_batch(tx: &mut Tx, workspace: Uuid, batch: &Batch) -> Result<()> {
            insert_all(tx, "INSERT INTO teams (workspace_id, id, name, created_at) ", 4, &batch.teams, |row, team: &Team| {
                row.push_bind(workspace)
                    .push_bind(team.id.as_uuid())
                    .push_bind(team.name.as_str())
                    .push_bind(DbTime(team.created_at));
            })
            .await?;
            const USERS: &str = concat!("INSERT INTO users (workspace_id, ", user_columns!(), ") ");
            insert_all(tx, USERS, 8, &batch.users, |row, user: &User| {
                row.push_bind(workspace)
                    .push_bind(user.id.as_uuid())
                    .push_bind(user.name.as_str())
                    .push_bind(user.email.as_str())
                    .push_bind(user.role.as_str())
                    .push_bind(user.manager_id.map(|id| id.as_uuid()))
                    .push_bind(user.team_id.map(|id| id.as_uuid()))
                    .push_bind(DbTime(user.created_at));
            })
            .await?;
            insert_all(tx, ACCOUNTS, 12, &by_id(&batch.accounts, |a| a.id), |row, account: &&Account| {
                bind_account(row, workspace, account)
            })
            .await?;
            insert_all(tx, CONTACTS, 9, &by_id(&batch.contacts, |c| c.id), |row, contact: &&Contact| {
                bind_contact(row, workspace, contact)
            })
            .await?;
            const OPPORTUNITIES: &str = concat!("INSERT INTO opportunities (", written_opportunity_columns!(), ") ");
            insert_all(tx, OPPORTUNITIES, 25, &batch.opportunities, |row, recorded: &Recorded| {
                bind_opportunity(row, workspace, &recorded.state)
            })
            .await?;
            let events: Vec<&OpportunityEvent> =
                batch.opportunities.iter().flat_map(|r| &r.events).collect();
            insert_events(tx, workspace, &events).await?;
            insert_all(tx, LEADS, 24, &by_id(&batch.leads, |l| l.id), |row, lead: &&Lead| {
                bind_lead(row, workspace, lead)
            })
            .await?;
            insert_all(tx, ACTIVITIES, 12, &by_id(&batch.activities, |a| a.id), |row, activity: &&Activity| {
                bind_activity(row, workspace, activity)
            })
            .await?;
            insert_all(tx, TARGETS, 9, &batch.targets, |row, target: &Target| {
                bind_target(row, workspace, target)
            })
            .await?;
            insert_all(
                tx,
                "INSERT INTO external_keys (workspace_id, system, kind, external_id, record_id) ",
                5,
                &batch.external_keys,
                |row, key: &ExternalKey| {
                    row.push_bind(workspace)
                        .push_bind(key.system.as_str())
                        .push_bind(key.kind.as_str())
                        .push_bind(key.external_id.as_str())
                        .push_bind(key.record_id);
                },
            )
            .await
        }

        const ACCOUNTS: &str = concat!("INSERT INTO accounts (workspace_id, ", account_columns!(), ") ");
        const CONTACTS: &str = concat!("INSERT INTO contacts (workspace_id, ", contact_columns!(), ") ");
        const LEADS: &str = concat!("INSERT INTO leads (workspace_id, ", lead_columns!(), ") ");
        const ACTIVITIES: &str = concat!("INSERT INTO activities (workspace_id, ", activity_columns!(), ") ");
        const TARGETS: &str = concat!("INSERT INTO targets (workspace_id, ", target_columns!(), ") ");

        fn bind_account<'a>(row: &mut Separated<'_, 'a, $db, &'static str>, workspace: Uuid, account: &'a Account) {
            row.push_bind(workspace)
                .push_bind(account.id.as_uuid())
                .push_bind(i64::from(account.version))
                .push_bind(account.name.as_str())
                .push_bind(account.domain.as_ref().map(|v| v.as_str()))
                .push_bind(account.industry.as_ref().map(|v| v.as_str()))
                .push_bind(account.employee_band.map(|v| v.as_str()))
                .push_bind(account.region.as_ref().map(|v| v.as_str()))
                .push_bind(account.segment.as_ref().map(|v| v.as_str()))
                .push_bind(account.tier.map(|v| v.as_str()))
                .push_bind(account.owner_id.map(|id| id.as_uuid()))
                .push_bind(DbTime(account.created_at));
        }

        fn bind_contact<'a>(row: &mut Separated<'_, 'a, $db, &'static str>, workspace: Uuid, contact: &'a Contact) {
            row.push_bind(workspace)
                .push_bind(contact.id.as_uuid())
                .push_bind(i64::from(contact.version))
                .push_bind(contact.account_id.as_uuid())
                .push_bind(contact.name.as_str())
                .push_bind(contact.email.as_ref().map(|v| v.as_str()))
                .push_bind(contact.title.as_ref().map(|v| v.as_str()))
                .push_bind(contact.buying_role.map(|v| v.as_str()))
                .push_bind(DbTime(contact.created_at));
        }

        fn bind_lead<'a>(row: &mut Separated<'_, 'a, $db, &'static str>, workspace: Uuid, lead: &'a Lead) {
            row.push_bind(workspace)
                .push_bind(lead.id.as_uuid())
                .push_bind(i64::from(lead.version))
                .push_bind(lead.name.as_str())
                .push_bind(lead.email.as_ref().map(|v| v.as_str()))
                .push_bind(lead.company.as_ref().map(|v| v.as_str()))
                .push_bind(lead.source.as_ref().map(|v| v.as_str()))
                .push_bind(lead.status.as_str())
                .push_bind(lead.owner_id.map(|id| id.as_uuid()))
                .push_bind(lead.account_id.map(|id| id.as_uuid()))
                .push_bind(lead.opportunity_id.map(|id| id.as_uuid()))
                .push_bind(DbTime(lead.created_at))
                .push_bind(lead.title.as_ref().map(|v| v.as_str()))
                .push_bind(lead.phone.as_ref().map(|v| v.as_str()))
                .push_bind(lead.website.as_ref().map(|v| v.as_str()))
                .push_bind(lead.region.as_ref().map(|v| v.as_str()))
                .push_bind(lead.segment.as_ref().map(|v| v.as_str()))
                .push_bind(lead.product_line.as_ref().map(|v| v.as_str()))
                .push_bind(lead.nurture.map(|v| v.as_str()))
                .push_bind(lead.disposition.map(|v| v.as_str()))
                .push_bind(lead.queued_at.map(DbTime))
                .push_bind(Json(&lead.evidence))
                .push_bind(lead.email.as_ref().map(person_key))
                .push_bind(lead.routing_issue.as_ref().map(Json));
        }

        fn bind_activity<'a>(row: &mut Separated<'_, 'a, $db, &'static str>, workspace: Uuid, activity: &'a Activity) {
            row.push_bind(workspace)
                .push_bind(activity.id.as_uuid())
                .push_bind(i64::from(activity.version))
                .push_bind(activity.kind.as_str())
                .push_bind(DbTime(activity.occurred_at))
                .push_bind(activity.user_id.as_uuid())
                .push_bind(activity.account_id.map(|id| id.as_uuid()))
                .push_bind(activity.contact_id.map(|id| id.as_uuid()))
                .push_bind(activity.lead_id.map(|id| id.as_uuid()))
                .push_bind(activity.opportunity_id.map(|id| id.as_uuid()))
                .push_bind(activity.subject.as_str())
                .push_bind(activity.outcome.as_ref().map(|v| v.as_str()));
        }

        fn bind_target<'a>(row: &mut Separated<'_, 'a, $db, &'static str>, workspace: Uuid, target: &'a Target) {
            let (kind, user, team) = match target.owner {
                TargetOwner::User(id) => ("user", Some(id.as_uuid()), None),
                TargetOwner::Team(id) => ("team", None, Some(id.as_uuid())),
                TargetOwner::Workspace => ("workspace", None, None),
            };
            row.push_bind(workspace)
                .push_bind(target.id.as_uuid())
                .push_bind(i64::from(target.version))
                .push_bind(kind)
                .push_bind(user)
                .push_bind(team)
                .push_bind(target.period.to_string())
                .push_bind(target.amount.minor)
                .push_bind(target.amount.currency.code().to_owned());
        }

        /// Inserts one CRM record; with `replace`, overwrites the stored row of the same id
        /// (every column but the id and creation time).
        async fn insert_record(tx: &mut Tx, workspace: Uuid, record: &CrmRecord, replace: bool) -> Result<()> {
            let (head, columns) = match record {
                CrmRecord::Account(_) => (ACCOUNTS, account_columns!()),
                CrmRecord::Contact(_) => (CONTACTS, contact_columns!()),
                CrmRecord::Lead(_) => (LEADS, lead_columns!()),
                CrmRecord::Activity(_) => (ACTIVITIES, activity_columns!()),
                CrmRecord::Target(_) => (TARGETS, target_columns!()),
            };
            let mut query = QueryBuilder::<$db>::new(head);
            query.push_values(std::iter::once(record), |mut row, record| match record {
                CrmRecord::Account(r) => bind_account(&mut row, workspace, r),
                CrmRecord::Contact(r) => bind_contact(&mut row, workspace, r),
                CrmRecord::Lead(r) => bind_lead(&mut row, workspace, r),
                CrmRecord::Activity(r) => bind_activity(&mut row, workspace, r),
                CrmRecord::Target(r) => bind_target(&mut row, workspace, r),
            });
            if replace {
                let assignments: Vec<String> = columns
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !matches!(*c, "id" | "created_at"))
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                query.push(" ON CONFLICT (workspace_id, id) DO UPDATE SET ");
                query.push(assignments.join(", "));
            }
            query.build().execute(&mut **tx).await?;
            Ok(())
        }

        /// Why a write found no row of `table` at the version it was made on: the record is
        /// gone, or at another version.
        async fn missed(tx: &mut Tx, table: &'static str, kind: CrmKind, workspace: Uuid, id: Uuid) -> StoreError {
            let sql = format!("SELECT version FROM {table} WHERE workspace_id = $1 AND id = $2");
            let current = sqlx::query_scalar::<_, i64>(&sql)
                .bind(workspace)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await;
            match current {
                Ok(Some(version)) => StoreError::VersionConflict {
                    current: u32::try_from(version).unwrap_or(u32::MAX),
                },
                Ok(None) => StoreError::not_found(kind.as_str(), id),
                Err(error) => error.into(),
            }
        }

        /// Writes one CRM record as `change` says, and `change` to the audit trail, in `tx`.
        async fn write_record_in(tx: &mut Tx, workspace: Uuid, record: &CrmRecord, change: &RecordChange) -> Result<()> {
            let table = match record.kind() {
                CrmKind::Account => "accounts",
                CrmKind::Contact => "contacts",
                CrmKind::Lead => "leads",
                CrmKind::Activity => "activities",
                CrmKind::Target => "targets",
            };
            let id = record.id();
            match change.action {
                RecordAction::Created => insert_record(tx, workspace, record, false).await?,
                RecordAction::Changed => {
                    // Taking the next version first both checks the one the change was made
                    // on and holds the row until the transaction ends.
                    let sql = format!(
                        "UPDATE {table} SET version = $3 WHERE workspace_id = $1 AND id = $2 AND version = $4"
                    );
                    let next = i64::from(record.version());
                    let taken = sqlx::query(&sql)
                        .bind(workspace)
                        .bind(id)
                        .bind(next)
                        .bind(next - 1)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                    if taken == 0 {
                        return Err(missed(tx, table, record.kind(), workspace, id).await);
                    }
                    insert_record(tx, workspace, record, true).await?;
                }
                RecordAction::Deleted => {
                    let sql = format!("DELETE FROM {table} WHERE workspace_id = $1 AND id = $2 AND version = $3");
                    let deleted = sqlx::query(&sql)
                        .bind(workspace)
                        .bind(id)
                        .bind(i64::from(record.version()))
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                    if deleted == 0 {
                        return Err(missed(tx, table, record.kind(), workspace, id).await);
                    }
                }
            }
            sqlx::query(concat!(
                "INSERT INTO record_changes (workspace_id, ", record_change_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(workspace)
            .bind(change.record_id)
            .bind(i64::from(change.version))
            .bind(change.record_kind.as_str())
            .bind(change.action.as_str())
            .bind(change.actor_id.as_uuid())
            .bind(DbTime(change.recorded_at))
            .bind(Json(&change.before))
            .bind(Json(&change.after))
            .execute(&mut **tx)
            .await?;
            let queued = [(EventType::of_change(change), change.record_id, change.version, change.recorded_at)];
            queue_deliveries(tx, workspace, &queued).await
        }

        /// Runs the one statement `build` makes in a write transaction of its own, retried
        /// like every write; returns how many rows it changed.
        /// A stored lead settings version as the number it is.
        fn settings_version(version: i64) -> Result<u32> {
            u32::try_from(version).map_err(|_| StoreError::Corrupt {
                table: "lead_settings",
                key: version.to_string(),
                detail: "version out of range".to_owned(),
            })
        }

        async fn write_one<'q, F>(store: &$store, build: F) -> Result<u64>
        where
            F: Fn() -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
        {
            retrying(|| async {
                let mut tx = store.begin_write().await?;
                let changed = build().execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                Ok(changed)
            })
            .await
        }

        /// Runs `sql`, an update of one API token (`$1` workspace, `$2` id) to time `$3`.
        async fn stamp_api_token(
            store: &$store,
            workspace: WorkspaceId,
            id: TokenId,
            at: DateTime<Utc>,
            sql: &'static str,
        ) -> Result<()> {
            let updated = write_one(store, || {
                sqlx::query(sql)
                    .bind(workspace.as_uuid())
                    .bind(id.as_uuid())
                    .bind(DbTime(at))
            })
            .await?;
            if updated == 0 {
                return Err(StoreError::not_found("API token", id));
            }
            Ok(())
        }

        /// Writes one command's outcome. A new opportunity is inserted; an existing one is
        /// updated only if its stored version is still the one the command was decided on.
        /// A [`StoreError::VersionConflict`] or [`StoreError::NotFound`] is found before
        /// anything is written: the transaction may go on with other writes.
        async fn record_in(tx: &mut Tx, workspace: Uuid, recorded: &Recorded) -> Result<()> {
            let state = &recorded.state;
            let applied = u32::try_from(recorded.events.len()).unwrap_or(u32::MAX);
            let expected = state.version.checked_sub(applied).ok_or_else(|| StoreError::Corrupt {
                table: "opportunities",
                key: state.id.to_string(),
                detail: format!("version {} is lower than its {applied} new events", state.version),
            })?;
            let id = state.id.as_uuid();
            let expected = i64::from(expected);
            // The deal as the command found it: a write to any other version is none.
            let as_found = |query: &mut QueryBuilder<'_, $db>| {
                query.push(" WHERE workspace_id = ").push_bind(workspace);
                query.push(" AND id = ").push_bind(id);
                query.push(" AND version = ").push_bind(expected);
            };
            let updated = if expected == 0 {
                let mut query = QueryBuilder::<$db>::new(concat!("INSERT INTO opportunities (", written_opportunity_columns!(), ") VALUES ("));
                bind_opportunity(&mut query.separated(", "), workspace, state);
                // An id already taken is reported below as a version conflict, like an update
                // that lost a race.
                query.push(") ON CONFLICT (workspace_id, id) DO NOTHING");
                query.build().execute(&mut **tx).await?.rows_affected()
            } else {
                // Tried first as a change of the unindexed columns alone, which most are.
                let mut query = QueryBuilder::<$db>::new(concat!("UPDATE opportunities SET (", unindexed_opportunity_columns!(), ") = ("));
                bind_unindexed_opportunity(&mut query.separated(", "), state);
                query.push(")");
                as_found(&mut query);
                query.push(" AND owner_id = ").push_bind(state.owner_id.as_uuid());
                query.push(" AND status = ").push_bind(state.status.as_str());
                query.push(" AND close_date = ").push_bind(state.close_date);
                match query.build().execute(&mut **tx).await?.rows_affected() {
                    0 => {
                        let mut query = QueryBuilder::<$db>::new(concat!("UPDATE opportunities SET (", changeable_opportunity_columns!(), ") = ("));
                        bind_changeable_opportunity(&mut query.separated(", "), state);
                        query.push(")");
                        as_found(&mut query);
                        query.build().execute(&mut **tx).await?.rows_affected()
                    }
                    updated => updated,
                }
            };
            if updated == 0 {
                let current: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM opportunities WHERE workspace_id = $1 AND id = $2",
                )
                .bind(workspace)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
                return Err(match current {
                    Some(current) => StoreError::VersionConflict {
                        current: u32::try_from(current).unwrap_or(u32::MAX),
                    },
                    None => StoreError::not_found("opportunity", state.id),
                });
            }
            let events: Vec<&OpportunityEvent> = recorded.events.iter().collect();
            insert_events(tx, workspace, &events).await?;
            let queued: Vec<_> = events
                .iter()
                .map(|e| (EventType::Deal(e.change.kind()), e.opportunity_id.as_uuid(), e.seq, e.recorded_at))
                .collect();
            queue_deliveries(tx, workspace, &queued).await
        }

        /// Adds a delivery of each event (its type, the deal or record it is about, its seq or
        /// version, when it was recorded) to every enabled webhook that wants its type, in the
        /// transaction that writes the events: an outbox, so none is lost or sent twice.
        async fn queue_deliveries(
            tx: &mut Tx,
            workspace: Uuid,
            events: &[(EventType, Uuid, u32, DateTime<Utc>)],
        ) -> Result<()> {
            let hooks: Vec<(Uuid, String)> = sqlx::query_as(
                "SELECT id, events FROM webhooks WHERE workspace_id = $1 AND disabled_at IS NULL",
            )
            .bind(workspace)
            .fetch_all(&mut **tx)
            .await?;
            for (hook, events_wanted) in hooks {
                let wanted = EventFilter::from_stored(&events_wanted).map_err(|e| StoreError::Corrupt {
                    table: "webhooks",
                    key: hook.to_string(),
                    detail: format!("events: {e}"),
                })?;
                for (event_type, record_id, seq, at) in events {
                    if !wanted.wants(*event_type) {
                        continue;
                    }
                    let (sql, kind) = match event_type {
                        EventType::Deal(kind) => (
                            "INSERT INTO webhook_deliveries (workspace_id, webhook_id, opportunity_id, seq, \
                             event_kind, status, attempts, next_attempt_at, created_at) \
                             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
                            kind.to_string(),
                        ),
                        EventType::Record(..) => (
                            "INSERT INTO record_change_deliveries (workspace_id, webhook_id, record_id, version, \
                             event_type, status, attempts, next_attempt_at, created_at) \
                             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
                            event_type.to_string(),
                        ),
                    };
                    sqlx::query(sql)
                        .bind(workspace)
                        .bind(hook)
                        .bind(*record_id)
                        .bind(i64::from(*seq))
                        .bind(kind)
                        .bind(DbTime(*at))
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }

        /// The row a query finds by workspace (`$1`) and id (`$2`), if any.
        async fn fetch_by_id<R>(
            pool: &sqlx::Pool<$db>,
            sql: &'static str,
            workspace: WorkspaceId,
            id: Uuid,
        ) -> Result<Option<R>>
        where
            R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
        {
            Ok(sqlx::query_as::<_, R>(sql)
                .bind(workspace.as_uuid())
                .bind(id)
                .fetch_optional(pool)
                .await?)
        }

        /// `select` (a `SELECT … FROM table`) limited to the workspace and to ids after `after`;
        /// filters are added with ` AND …`, then [`fetch_page`] orders and limits.
        fn page_query(select: &'static str, workspace: WorkspaceId, after: Option<Uuid>) -> QueryBuilder<'static, $db> {
            let mut query = QueryBuilder::<$db>::new(select);
            query.push(" WHERE workspace_id = ").push_bind(workspace.as_uuid());
            query.push(" AND id > ").push_bind(after.unwrap_or(Uuid::nil()));
            query
        }

        /// One page of `query`'s rows in id order, and where the next starts.
        async fn fetch_page<R, T, I>(
            pool: &sqlx::Pool<$db>,
            mut query: QueryBuilder<'static, $db>,
            limit: u32,
            id: fn(&T) -> I,
        ) -> Result<Page<T, I>>
        where
            R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = StoreError>,
        {
            let limit = limit.max(1);
            query.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit) + 1);
            fetch_limited(pool, query, limit, id).await
        }

        /// The rows of `query`, which ends in a `LIMIT` of `limit + 1`: at most `limit` of
        /// them, and where the next page starts if there was one more.
        async fn fetch_limited<R, T, I>(
            pool: &sqlx::Pool<$db>,
            mut query: QueryBuilder<'static, $db>,
            limit: u32,
            id: fn(&T) -> I,
        ) -> Result<Page<T, I>>
        where
            R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = StoreError>,
        {
            let mut items = query
                .build_query_as::<R>()
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(T::try_from)
                .collect::<Result<Vec<_>>>()?;
            let more = items.len() > limit as usize;
            items.truncate(limit as usize);
            let next_after = if more { items.last().map(id) } else { None };
            Ok(Page { items, next_after })
        }

        /// One page of the deals `filter` keeps, in its order, with `columns` of each.
        async fn deal_page<R, T>(
            pool: &sqlx::Pool<$db>,
            columns: &'static str,
            workspace: WorkspaceId,
            page: PageRequest,
            filter: &DealFilter,
            id: fn(&T) -> OpportunityId,
        ) -> Result<Page<T>>
        where
            R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = StoreError>,
        {
            let limit = page.limit.max(1);
            let mut query = QueryBuilder::<'static, $db>::new("SELECT ");
            query.push(columns).push(" FROM opportunities WHERE workspace_id = ");
            query.push_bind(workspace.as_uuid());
            let (key, descending) = match filter.order {
                DealOrder::Created => ("id", false),
                DealOrder::CreatedDescending => ("id", true),
                DealOrder::CloseDate => ("close_date, id", false),
                DealOrder::CloseDateDescending => ("close_date, id", true),
            };
            let (after, direction) = if descending { ("<", " DESC") } else { (">", "") };
            if let Some(last) = page.after {
                // Keyset paging: after the last deal's place in the order, read afresh.
                query.push(format!(" AND ({key}) {after} (SELECT {key} FROM opportunities WHERE workspace_id = "));
                query.push_bind(workspace.as_uuid());
                query.push(" AND id = ").push_bind(last.as_uuid()).push(")");
            }
            if let Some(owners) = &filter.owners {
                if owners.is_empty() {
                    return Ok(Page { items: Vec::new(), next_after: None });
                }
                query.push(" AND owner_id IN (");
                let mut list = query.separated(", ");
                for owner in owners {
                    list.push_bind(owner.as_uuid());
                }
                query.push(")");
            }
            if let Some(stage) = &filter.stage {
                query.push(" AND stage = ").push_bind(stage.as_str().to_owned());
            }
            if let Some(status) = filter.status {
                query.push(" AND status = ").push_bind(status.as_str());
            }
            if let Some(closing) = filter.closing {
                query.push(" AND close_date >= ").push_bind(closing.start);
                query.push(" AND close_date < ").push_bind(closing.end);
            }
            let order: Vec<String> = key.split(", ").map(|column| format!("{column}{direction}")).collect();
            query.push(format!(" ORDER BY {} LIMIT ", order.join(", "))).push_bind(i64::from(limit) + 1);
            fetch_limited(pool, query, limit, id).await
        }

        /// Streams the rows of a query whose only parameter (`$1`) is the workspace, each
        /// converted to its domain type.
        fn stream_rows<'a, R, T>(
            pool: &'a sqlx::Pool<$db>,
            sql: &'static str,
            workspace: WorkspaceId,
        ) -> BoxStream<'a, Result<T>>
        where
            R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin + 'a,
            T: TryFrom<R, Error = StoreError> + Send + 'a,
        {
            sqlx::query_as::<_, R>(sql)
                .bind(workspace.as_uuid())
                .fetch(pool)
                .map_err(StoreError::from)
                .and_then(|row| async move { T::try_from(row) })
                .boxed()
        }

        async fn insert_process_version(
            tx: &mut Tx,
            workspace: Uuid,
            revision: &ProcessRevision,
            files: &[ProcessFile],
        ) -> Result<()> {
            let version = i64::from(revision.version.0);
            let inserted = sqlx::query(
                "INSERT INTO process_versions (workspace_id, version, changed_by, changed_at, changes) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, version) DO NOTHING",
            )
            .bind(workspace)
            .bind(version)
            .bind(revision.changed_by.map(|u| u.as_uuid()))
            .bind(DbTime(revision.changed_at))
            .bind(Json(&revision.changes))
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                let current: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(version) FROM process_versions WHERE workspace_id = $1",
                )
                .bind(workspace)
                .fetch_one(&mut **tx)
                .await?;
                return Err(StoreError::VersionConflict {
                    current: u32::try_from(current.unwrap_or(0)).unwrap_or(u32::MAX),
                });
            }
            for (position, file) in files.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO process_files (workspace_id, version, position, name, definition) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(workspace)
                .bind(version)
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .bind(file.name.as_str())
                .bind(file.text.as_str())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        #[async_trait]
        impl Store for $store {
            fn describe(&self) -> String {
                self.description.clone()
            }

            fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::Written> {
                self.written.subscribe()
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_workspace(&self, workspace: &Workspace) -> Result<()> {
                // A workspace starts with the shipped processes as version 1.
                let shipped = ProcessSet::shipped();
                let first = ProcessRevision {
                    version: shipped.version(),
                    changed_by: None,
                    changed_at: workspace.created_at,
                    changes: vec!["shipped processes installed".to_owned()],
                };
                retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO workspaces (id, slug, name, corporate_currency, \
                         fiscal_year_start_month, created_at, rep_visibility) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(workspace.id.as_uuid())
                    .bind(workspace.slug.as_str())
                    .bind(workspace.name.as_str())
                    .bind(workspace.corporate_currency.code())
                    .bind(i64::from(workspace.fiscal_calendar.start_month()))
                    .bind(DbTime(workspace.created_at))
                    .bind(workspace.rep_visibility.as_str())
                    .execute(&mut *tx)
                    .await?;
                    insert_process_version(&mut tx, workspace.id.as_uuid(), &first, shipped.files()).await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await
            }

            async fn workspace(&self, slug: &Slug) -> Result<Workspace> {
                sqlx::query_as::<_, WorkspaceRow>("SELECT * FROM workspaces WHERE slug = $1")
                    .bind(slug.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::not_found("workspace", slug))?
                    .try_into()
            }

            async fn workspaces(&self) -> Result<Vec<Workspace>> {
                sqlx::query_as::<_, WorkspaceRow>("SELECT * FROM workspaces ORDER BY slug")
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn delete_workspace(&self, workspace: WorkspaceId) -> Result<()> {
                let id = workspace.as_uuid();
                retrying(|| async move {
                    let mut tx = self.begin_write().await?;
                    for table in WORKSPACE_TABLES {
                        sqlx::query(&format!("DELETE FROM {table} WHERE workspace_id = $1"))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query("DELETE FROM workspaces WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await?;
                // Nobody listening is no error.
                let _ = self.written.send(crate::Written::Replaced { workspace });
                Ok(())
            }

            async fn create_webhook(&self, workspace: WorkspaceId, hook: &Webhook, secret: &str) -> Result<()> {
                write_one(self, || {
                    sqlx::query(concat!("INSERT INTO webhooks (workspace_id, ", webhook_columns!(), ") \
                                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                        .bind(workspace.as_uuid())
                        .bind(hook.id.as_uuid())
                        .bind(hook.url.as_str())
                        .bind(hook.events.to_stored())
                        .bind(secret)
                        .bind(hook.created_by.as_uuid())
                        .bind(DbTime(hook.created_at))
                        .bind(i64::from(hook.failed_deliveries))
                        .bind(hook.disabled_at.map(DbTime))
                })
                .await
                .map(drop)
            }

            async fn webhooks(&self, workspace: WorkspaceId) -> Result<Vec<Webhook>> {
                sqlx::query_as::<_, WebhookRow>(concat!(
                    "SELECT ", webhook_columns!(), " FROM webhooks WHERE workspace_id = $1 ORDER BY id"
                ))
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| <(Webhook, String)>::try_from(row).map(|(hook, _)| hook))
                .collect()
            }

            async fn webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<(Webhook, String)> {
                let row = fetch_by_id::<WebhookRow>(
                    &self.pool,
                    concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE workspace_id = $1 AND id = $2"),
                    workspace,
                    id.as_uuid(),
                )
                .await?;
                row.ok_or_else(|| StoreError::not_found("webhook", id))?.try_into()
            }

            async fn enable_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<()> {
                let updated = write_one(self, || {
                    sqlx::query(
                        "UPDATE webhooks SET disabled_at = NULL, failed_deliveries = 0 \
                         WHERE workspace_id = $1 AND id = $2",
                    )
                    .bind(workspace.as_uuid())
                    .bind(id.as_uuid())
                })
                .await?;
                if updated == 0 {
                    return Err(StoreError::not_found("webhook", id));
                }
                Ok(())
            }

            async fn delete_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<()> {
                let deleted = retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND webhook_id = $2")
                        .bind(workspace.as_uuid())
                        .bind(id.as_uuid())
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM record_change_deliveries WHERE workspace_id = $1 AND webhook_id = $2")
                        .bind(workspace.as_uuid())
                        .bind(id.as_uuid())
                        .execute(&mut *tx)
                        .await?;
                    let deleted = sqlx::query("DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2")
                        .bind(workspace.as_uuid())
                        .bind(id.as_uuid())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok(deleted)
                })
                .await?;
                if deleted == 0 {
                    return Err(StoreError::not_found("webhook", id));
                }
                Ok(())
            }

            async fn due_deliveries(&self, workspace: WorkspaceId, now: DateTime<Utc>, limit: u32) -> Result<Vec<Delivery>> {
                sqlx::query_as::<_, DeliveryRow>(concat!(
                    "SELECT * FROM (",
                    due_deliveries!(deal, "webhook_deliveries", "opportunity_id", "seq"),
                    " UNION ALL ",
                    due_deliveries!(record, "record_change_deliveries", "record_id", "version"),
                    ") due ORDER BY next_attempt_at, record_id, seq LIMIT $3"
                ))
                .bind(workspace.as_uuid())
                .bind(DbTime(now))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn record_delivery(&self, workspace: WorkspaceId, delivery: &Delivery, hook: &Webhook) -> Result<()> {
                retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    let sql = match delivery.event_type {
                        EventType::Deal(_) => "UPDATE webhook_deliveries SET status = $5, attempts = $6, \
                             next_attempt_at = $7, last_attempt_at = $8, last_status = $9, last_error = $10 \
                             WHERE workspace_id = $1 AND webhook_id = $2 AND opportunity_id = $3 AND seq = $4",
                        EventType::Record(..) => "UPDATE record_change_deliveries SET status = $5, attempts = $6, \
                             next_attempt_at = $7, last_attempt_at = $8, last_status = $9, last_error = $10 \
                             WHERE workspace_id = $1 AND webhook_id = $2 AND record_id = $3 AND version = $4",
                    };
                    sqlx::query(sql)
                    .bind(workspace.as_uuid())
                    .bind(delivery.webhook_id.as_uuid())
                    .bind(delivery.record_id)
                    .bind(i64::from(delivery.seq))
                    .bind(delivery.status.as_str())
                    .bind(i64::from(delivery.attempts))
                    .bind(DbTime(delivery.next_attempt_at))
                    .bind(delivery.last_attempt_at.map(DbTime))
                    .bind(delivery.last_status.map(i64::from))
                    .bind(delivery.last_error.as_deref())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE webhooks SET failed_deliveries = $3, disabled_at = $4 \
                         WHERE workspace_id = $1 AND id = $2",
                    )
                    .bind(workspace.as_uuid())
                    .bind(hook.id.as_uuid())
                    .bind(i64::from(hook.failed_deliveries))
                    .bind(hook.disabled_at.map(DbTime))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await
            }

            async fn deliveries(&self, workspace: WorkspaceId, webhook: WebhookId, limit: u32) -> Result<Vec<Delivery>> {
                sqlx::query_as::<_, DeliveryRow>(concat!(
                    "SELECT * FROM (SELECT ", delivery_columns!(deal), " FROM webhook_deliveries ",
                    "WHERE workspace_id = $1 AND webhook_id = $2 UNION ALL ",
                    "SELECT ", delivery_columns!(record), " FROM record_change_deliveries ",
                    "WHERE workspace_id = $1 AND webhook_id = $2) logged ",
                    "ORDER BY created_at DESC, record_id, seq DESC LIMIT $3"
                ))
                .bind(workspace.as_uuid())
                .bind(webhook.as_uuid())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn lead_settings(&self, workspace: WorkspaceId) -> Result<Option<AppliedLeadSettings>> {
                let row = sqlx::query_as::<_, (i64, String, Uuid, DbTime)>(
                    "SELECT version, settings, applied_by, applied_at FROM lead_settings \
                     WHERE workspace_id = $1 ORDER BY version DESC LIMIT 1",
                )
                .bind(workspace.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(version, text, by, at)| {
                    Ok(AppliedLeadSettings {
                        version: settings_version(version)?,
                        text,
                        applied_by: UserId::from_uuid(by),
                        applied_at: at.0,
                    })
                })
                .transpose()
            }

            async fn apply_lead_settings(
                &self,
                workspace: WorkspaceId,
                text: &str,
                by: UserId,
                at: DateTime<Utc>,
            ) -> Result<u32> {
                let id = workspace.as_uuid();
                let version = retrying(|| async move {
                    let mut tx = self.begin_write().await?;
                    let latest: Option<i64> = sqlx::query_scalar(
                        "SELECT MAX(version) FROM lead_settings WHERE workspace_id = $1",
                    )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    let next = latest.unwrap_or(0) + 1;
                    sqlx::query(
                        "INSERT INTO lead_settings (workspace_id, version, settings, applied_by, applied_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(id)
                    .bind(next)
                    .bind(text)
                    .bind(by.as_uuid())
                    .bind(DbTime(at))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(next)
                })
                .await?;
                settings_version(version)
            }

            async fn set_rep_visibility(
                &self,
                workspace: WorkspaceId,
                visibility: RepVisibility,
            ) -> Result<()> {
                write_one(self, || {
                    sqlx::query("UPDATE workspaces SET rep_visibility = $2 WHERE id = $1")
                        .bind(workspace.as_uuid())
                        .bind(visibility.as_str())
                })
                .await
                .map(drop)
            }

            async fn user_by_email(&self, workspace: WorkspaceId, email: &Email) -> Result<User> {
                let row = sqlx::query_as::<_, UserRow>(concat!(
                    "SELECT ", user_columns!(), " FROM users WHERE workspace_id = $1 AND email = $2"
                ))
                .bind(workspace.as_uuid())
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.ok_or_else(|| StoreError::not_found("user", email))?.try_into()
            }

            async fn set_password(
                &self,
                workspace: WorkspaceId,
                user: UserId,
                hash: &str,
                at: DateTime<Utc>,
            ) -> Result<()> {
                retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO credentials (workspace_id, user_id, password_hash, changed_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, user_id) \
                         DO UPDATE SET password_hash = excluded.password_hash, \
                         changed_at = excluded.changed_at",
                    )
                    .bind(workspace.as_uuid())
                    .bind(user.as_uuid())
                    .bind(hash)
                    .bind(DbTime(at))
                    .execute(&mut *tx)
                    .await?;
                    // A new password signs out every browser signed in with the old one.
                    sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND user_id = $2")
                        .bind(workspace.as_uuid())
                        .bind(user.as_uuid())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await
            }

            async fn password_hash(&self, workspace: WorkspaceId, user: UserId) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT password_hash FROM credentials WHERE workspace_id = $1 AND user_id = $2",
                )
                .bind(workspace.as_uuid())
                .bind(user.as_uuid())
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn users_with_password(&self, workspace: WorkspaceId) -> Result<Vec<UserId>> {
                let ids: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT user_id FROM credentials WHERE workspace_id = $1 ORDER BY user_id",
                )
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                Ok(ids.into_iter().map(UserId::from_uuid).collect())
            }

            async fn create_session(
                &self,
                workspace: WorkspaceId,
                session: &Session,
                secret_hash: &[u8],
            ) -> Result<()> {
                retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    // Sessions are only looked up by id; expired ones are cleared as new ones come.
                    sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND expires_at < $2")
                        .bind(workspace.as_uuid())
                        .bind(DbTime(session.created_at))
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO sessions (workspace_id, id, user_id, secret_hash, created_at, \
                         expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(workspace.as_uuid())
                    .bind(session.id.as_uuid())
                    .bind(session.user_id.as_uuid())
                    .bind(secret_hash)
                    .bind(DbTime(session.created_at))
                    .bind(DbTime(session.expires_at))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await
            }

            async fn session(&self, workspace: WorkspaceId, id: SessionId) -> Result<(Session, Vec<u8>)> {
                let row = fetch_by_id::<SessionRow>(
                    &self.pool,
                    "SELECT id, user_id, secret_hash, created_at, expires_at FROM sessions \
                     WHERE workspace_id = $1 AND id = $2",
                    workspace,
                    id.as_uuid(),
                )
                .await?;
                Ok(row.ok_or_else(|| StoreError::not_found("session", id))?.into())
            }

            async fn delete_session(&self, workspace: WorkspaceId, id: SessionId) -> Result<()> {
                write_one(self, || {
                    sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND id = $2")
                        .bind(workspace.as_uuid())
                        .bind(id.as_uuid())
                })
                .await
                .map(drop)
            }

            async fn create_api_token(
                &self,
                workspace: WorkspaceId,
                token: &ApiToken,
                secret_hash: &[u8],
            ) -> Result<()> {
                write_one(self, || {
                    sqlx::query(
                        "INSERT INTO api_tokens (workspace_id, id, user_id, name, scope, \
                         secret_hash, created_at, last_used_at, revoked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(workspace.as_uuid())
                    .bind(token.id.as_uuid())
                    .bind(token.user_id.as_uuid())
                    .bind(token.name.as_str())
                    .bind(token.scope.as_str())
                    .bind(secret_hash)
                    .bind(DbTime(token.created_at))
                    .bind(token.last_used_at.map(DbTime))
                    .bind(token.revoked_at.map(DbTime))
                })
                .await
                .map(drop)
            }

            async fn api_tokens(&self, workspace: WorkspaceId) -> Result<Vec<ApiToken>> {
                sqlx::query_as::<_, ApiTokenRow>(concat!(
                    "SELECT ", api_token_columns!(), " FROM api_tokens WHERE workspace_id = $1 ORDER BY id"
                ))
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| <(ApiToken, Vec<u8>)>::try_from(row).map(|(token, _)| token))
                .collect()
            }

            async fn api_token(&self, workspace: WorkspaceId, id: TokenId) -> Result<(ApiToken, Vec<u8>)> {
                let row = fetch_by_id::<ApiTokenRow>(
                    &self.pool,
                    concat!("SELECT ", api_token_columns!(), " FROM api_tokens WHERE workspace_id = $1 AND id = $2"),
                    workspace,
                    id.as_uuid(),
                )
                .await?;
                row.ok_or_else(|| StoreError::not_found("API token", id))?.try_into()
            }

            async fn revoke_api_token(&self, workspace: WorkspaceId, id: TokenId, at: DateTime<Utc>) -> Result<()> {
                // The first revocation's time stands.
                stamp_api_token(self, workspace, id, at, "UPDATE api_tokens \
                    SET revoked_at = COALESCE(revoked_at, $3) WHERE workspace_id = $1 AND id = $2").await
            }

            async fn api_token_used(&self, workspace: WorkspaceId, id: TokenId, at: DateTime<Utc>) -> Result<()> {
                stamp_api_token(self, workspace, id, at, "UPDATE api_tokens \
                    SET last_used_at = $3 WHERE workspace_id = $1 AND id = $2").await
            }

            async fn begin_bulk_load(&self, deals: u64) -> Result<bool> {
                self.defer_indexes(deals).await
            }

            async fn finish_bulk_load(&self) -> Result<()> {
                self.build_indexes().await
            }

            async fn write_batch(&self, workspace: WorkspaceId, batch: &Batch) -> Result<()> {
                let id = workspace.as_uuid();
                retrying(|| async move {
                    let mut tx = self.begin_write().await?;
                    insert_batch(&mut tx, id, batch).await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await?;
                // Nobody listening is no error.
                let _ = self.written.send(crate::Written::Replaced { workspace });
                Ok(())
            }

            async fn users(&self, workspace: WorkspaceId) -> Result<Vec<User>> {
                sqlx::query_as::<_, UserRow>(concat!(
                    "SELECT ", user_columns!(), " FROM users WHERE workspace_id = $1 ORDER BY id"
                ))
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn user(&self, workspace: WorkspaceId, id: UserId) -> Result<User> {
                let row = fetch_by_id::<UserRow>(&self.pool, concat!("SELECT ", user_columns!(), " FROM users WHERE workspace_id = $1 AND id = $2"), workspace, id.as_uuid()).await?;
                row.ok_or_else(|| StoreError::not_found("user", id))?.try_into()
            }

            async fn account(&self, workspace: WorkspaceId, id: AccountId) -> Result<Account> {
                let row = fetch_by_id::<AccountRow>(&self.pool, concat!("SELECT ", account_columns!(), " FROM accounts WHERE workspace_id = $1 AND id = $2"), workspace, id.as_uuid()).await?;
                row.ok_or_else(|| StoreError::not_found("account", id))?.try_into()
            }

            async fn contact(&self, workspace: WorkspaceId, id: ContactId) -> Result<Contact> {
                let row = fetch_by_id::<ContactRow>(&self.pool, concat!("SELECT ", contact_columns!(), " FROM contacts WHERE workspace_id = $1 AND id = $2"), workspace, id.as_uuid()).await?;
                row.ok_or_else(|| StoreError::not_found("contact", id))?.try_into()
            }

            async fn lead(&self, workspace: WorkspaceId, id: LeadId) -> Result<Lead> {
                let row = fetch_by_id::<LeadRow>(&self.pool, concat!("SELECT ", lead_columns!(), " FROM leads WHERE workspace_id = $1 AND id = $2"), workspace, id.as_uuid()).await?;
                row.ok_or_else(|| StoreError::not_found("lead", id))?.try_into()
            }

            async fn lead_by_email(&self, workspace: WorkspaceId, email: &Email) -> Result<Option<Lead>> {
                sqlx::query_as::<_, LeadRow>(concat!(
                    "SELECT ", lead_columns!(),
                    " FROM leads WHERE workspace_id = $1 AND email_key = $2 ORDER BY id LIMIT 1"
                ))
                .bind(workspace.as_uuid())
                .bind(person_key(email))
                .fetch_optional(&self.pool)
                .await?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn activity(&self, workspace: WorkspaceId, id: ActivityId) -> Result<Activity> {
                let row = fetch_by_id::<ActivityRow>(&self.pool, concat!("SELECT ", activity_columns!(), " FROM activities WHERE workspace_id = $1 AND id = $2"), workspace, id.as_uuid()).await?;
                row.ok_or_else(|| StoreError::not_found("activity", id))?.try_into()
            }

            async fn target(&self, workspace: WorkspaceId, id: TargetId) -> Result<Target> {
                let row = fetch_by_id::<TargetRow>(&self.pool, concat!("SELECT ", target_columns!(), " FROM targets WHERE workspace_id = $1 AND id = $2"), workspace, id.as_uuid()).await?;
                row.ok_or_else(|| StoreError::not_found("target", id))?.try_into()
            }

            async fn accounts(&self, workspace: WorkspaceId, page: PageRequest<AccountId>, filter: &AccountFilter) -> Result<Page<Account, AccountId>> {
                let mut query = page_query(concat!("SELECT ", account_columns!(), " FROM accounts"), workspace, page.after.map(|id| id.as_uuid()));
                if let Some(owner) = filter.owner {
                    query.push(" AND owner_id = ").push_bind(owner.as_uuid());
                }
                if let Some(segment) = &filter.segment {
                    query.push(" AND segment = ").push_bind(segment.as_str().to_owned());
                }
                if let Some(region) = &filter.region {
                    query.push(" AND region = ").push_bind(region.as_str().to_owned());
                }
                if let Some(domain) = &filter.domain {
                    query.push(" AND domain = ").push_bind(domain.as_str().to_owned());
                }
                fetch_page::<AccountRow, Account, AccountId>(&self.pool, query, page.limit, |a| a.id).await
            }

            async fn contacts(&self, workspace: WorkspaceId, page: PageRequest<ContactId>, filter: &ContactFilter) -> Result<Page<Contact, ContactId>> {
                let mut query = page_query(concat!("SELECT ", contact_columns!(), " FROM contacts"), workspace, page.after.map(|id| id.as_uuid()));
                if let Some(account) = filter.account {
                    query.push(" AND account_id = ").push_bind(account.as_uuid());
                }
                if let Some(email) = &filter.email {
                    query.push(" AND email = ").push_bind(email.as_str().to_owned());
                }
                fetch_page::<ContactRow, Contact, ContactId>(&self.pool, query, page.limit, |c| c.id).await
            }

            async fn leads(&self, workspace: WorkspaceId, page: PageRequest<LeadId>, filter: &LeadFilter) -> Result<Page<Lead, LeadId>> {
                let mut query = page_query(concat!("SELECT ", lead_columns!(), " FROM leads"), workspace, page.after.map(|id| id.as_uuid()));
                if let Some(owners) = &filter.owners {
                    query.push(" AND (");
                    query.push(if filter.unowned { "owner_id IS NULL" } else { "FALSE" });
                    for owner in owners {
                        query.push(" OR owner_id = ").push_bind(owner.as_uuid());
                    }
                    query.push(")");
                }
                if let Some(status) = filter.status {
                    query.push(" AND status = ").push_bind(status.as_str());
                }
                if filter.routing_issue {
                    query.push(" AND routing_issue IS NOT NULL");
                }
                fetch_page::<LeadRow, Lead, LeadId>(&self.pool, query, page.limit, |l| l.id).await
            }

            async fn activities(&self, workspace: WorkspaceId, page: PageRequest<ActivityId>, filter: &ActivityFilter) -> Result<Page<Activity, ActivityId>> {
                let mut query = page_query(concat!("SELECT ", activity_columns!(), " FROM activities"), workspace, page.after.map(|id| id.as_uuid()));
                if let Some(users) = &filter.users {
                    query.push(" AND (FALSE");
                    for user in users {
                        query.push(" OR user_id = ").push_bind(user.as_uuid());
                    }
                    query.push(")");
                }
                if let Some(kind) = filter.kind {
                    query.push(" AND kind = ").push_bind(kind.as_str());
                }
                let links = [
                    ("opportunity_id", filter.opportunity.map(|id| id.as_uuid())),
                    ("account_id", filter.account.map(|id| id.as_uuid())),
                    ("contact_id", filter.contact.map(|id| id.as_uuid())),
                    ("lead_id", filter.lead.map(|id| id.as_uuid())),
                ];
                for (column, id) in links {
                    if let Some(id) = id {
                        query.push(format!(" AND {column} = ")).push_bind(id);
                    }
                }
                fetch_page::<ActivityRow, Activity, ActivityId>(&self.pool, query, page.limit, |a| a.id).await
            }

            async fn write_record(&self, workspace: WorkspaceId, record: &CrmRecord, change: &RecordChange) -> Result<()> {
                let id = workspace.as_uuid();
                retrying(|| async move {
                    let mut tx = self.begin_write().await?;
                    write_record_in(&mut tx, id, record, change).await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await?;
                let touch = match record {
                    CrmRecord::Activity(activity) => activity.deal_touch(),
                    _ => None,
                };
                let leads = record.leads_concerned(change);
                let written = match (touch, change.action) {
                    (Some(touch), RecordAction::Created) => crate::Written::Touch { workspace, touch, lead: leads.first().copied() },
                    (Some(_), RecordAction::Changed | RecordAction::Deleted) => crate::Written::Replaced { workspace },
                    (None, _) => crate::Written::Record { workspace, leads },
                };
                let _ = self.written.send(written);
                Ok(())
            }

            async fn record_history(&self, workspace: WorkspaceId, id: Uuid) -> Result<Vec<RecordChange>> {
                sqlx::query_as::<_, RecordChangeRow>(concat!(
                    "SELECT ", record_change_columns!(),
                    " FROM record_changes WHERE workspace_id = $1 AND record_id = $2 ORDER BY version"
                ))
                .bind(workspace.as_uuid())
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn teams(&self, workspace: WorkspaceId) -> Result<Vec<Team>> {
                sqlx::query_as::<_, TeamRow>(
                    "SELECT id, name, created_at FROM teams WHERE workspace_id = $1 ORDER BY name",
                )
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn targets(&self, workspace: WorkspaceId) -> Result<Vec<Target>> {
                sqlx::query_as::<_, TargetRow>(
                    concat!("SELECT ", target_columns!(), " FROM targets WHERE workspace_id = $1 ORDER BY id"),
                )
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn record_submission(
                &self,
                workspace: WorkspaceId,
                submission: &Submission,
            ) -> Result<()> {
                let kind = match submission.kind {
                    SubmissionKind::Call { .. } => "call",
                    SubmissionKind::Adjustment { .. } => "adjustment",
                };
                write_one(self, || {
                    sqlx::query(
                        "INSERT INTO forecast_submissions \
                         (workspace_id, id, period, subject_id, kind, body, submitted_by, submitted_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(workspace.as_uuid())
                    .bind(submission.id.as_uuid())
                    .bind(submission.period.to_string())
                    .bind(submission.subject_id.as_uuid())
                    .bind(kind)
                    .bind(Json(&submission.kind))
                    .bind(submission.submitted_by.as_uuid())
                    .bind(DbTime(submission.submitted_at))
                })
                .await
                .map(drop)
            }

            async fn submissions(&self, workspace: WorkspaceId, period: Period) -> Result<Vec<Submission>> {
                sqlx::query_as::<_, SubmissionRow>(
                    "SELECT id, period, subject_id, body, submitted_by, submitted_at \
                     FROM forecast_submissions WHERE workspace_id = $1 AND period = $2 \
                     ORDER BY submitted_at, id",
                )
                .bind(workspace.as_uuid())
                .bind(period.to_string())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn record_snapshot(
                &self,
                workspace: WorkspaceId,
                id: SnapshotId,
                snapshot: &Snapshot,
            ) -> Result<()> {
                write_one(self, || {
                    sqlx::query(
                        "INSERT INTO forecast_snapshots (workspace_id, id, period, taken_at, body) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(workspace.as_uuid())
                    .bind(id.as_uuid())
                    .bind(&snapshot.period)
                    .bind(DbTime(snapshot.taken_at))
                    .bind(Json(snapshot))
                })
                .await
                .map(drop)
            }

            async fn snapshots(
                &self,
                workspace: WorkspaceId,
                period: Period,
            ) -> Result<Vec<(SnapshotId, Snapshot)>> {
                let rows: Vec<(Uuid, Json<Snapshot>)> = sqlx::query_as(
                    "SELECT id, body FROM forecast_snapshots \
                     WHERE workspace_id = $1 AND period = $2 ORDER BY taken_at, id",
                )
                .bind(workspace.as_uuid())
                .bind(period.to_string())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(id, body)| (SnapshotId::from_uuid(id), body.0)).collect())
            }

            async fn snapshot_headlines(
                &self,
                workspace: WorkspaceId,
                period: Period,
            ) -> Result<Vec<Headline>> {
                // `->` reads a member as JSON in both SQLite (3.38+) and PostgreSQL, so the
                // deals, most of a snapshot, are never decoded.
                let rows: Vec<(Uuid, Json<DateTime<Utc>>, Json<i64>, Json<Vec<MethodNumber>>)> =
                    sqlx::query_as(
                        "SELECT id, body -> 'taken_at', body -> 'won', body -> 'methods' \
                         FROM forecast_snapshots \
                         WHERE workspace_id = $1 AND period = $2 ORDER BY taken_at, id",
                    )
                    .bind(workspace.as_uuid())
                    .bind(period.to_string())
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, taken_at, won, methods)| Headline {
                        id: SnapshotId::from_uuid(id),
                        taken_at: taken_at.0,
                        won: won.0,
                        methods: methods.0,
                    })
                    .collect())
            }

            async fn snapshot(&self, workspace: WorkspaceId, id: SnapshotId) -> Result<Snapshot> {
                let row: Option<Json<Snapshot>> = sqlx::query_scalar(
                    "SELECT body FROM forecast_snapshots WHERE workspace_id = $1 AND id = $2",
                )
                .bind(workspace.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|body| body.0).ok_or_else(|| StoreError::not_found("forecast snapshot", id))
            }

            async fn external_keys(&self, workspace: WorkspaceId, system: ExternalSystem) -> Result<Vec<ExternalKey>> {
                sqlx::query_as::<_, ExternalKeyRow>(
                    "SELECT system, kind, external_id, record_id FROM external_keys \
                     WHERE workspace_id = $1 AND system = $2",
                )
                .bind(workspace.as_uuid())
                .bind(system.as_str())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn exchange_rates(&self, workspace: WorkspaceId) -> Result<Vec<ExchangeRate>> {
                sqlx::query_as::<_, ExchangeRateRow>(
                    "SELECT currency, valid_from, rate FROM exchange_rates \
                     WHERE workspace_id = $1 ORDER BY currency, valid_from",
                )
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn set_exchange_rates(
                &self,
                workspace: WorkspaceId,
                rates: &[ExchangeRate],
            ) -> Result<()> {
                retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    for r in rates {
                        sqlx::query(
                            "INSERT INTO exchange_rates (workspace_id, currency, valid_from, rate) \
                             VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (workspace_id, currency, valid_from) DO UPDATE SET rate = excluded.rate",
                        )
                        .bind(workspace.as_uuid())
                        .bind(r.currency.code())
                        .bind(r.valid_from)
                        .bind(r.rate.to_string())
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
                .await
            }

            fn all_accounts(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Account>> {
                stream_rows::<AccountRow, Account>(&self.pool, concat!("SELECT ", account_columns!(), " FROM accounts WHERE workspace_id = $1 ORDER BY id"), workspace)
            }

            fn all_contacts(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Contact>> {
                stream_rows::<ContactRow, Contact>(&self.pool, concat!("SELECT ", contact_columns!(), " FROM contacts WHERE workspace_id = $1 ORDER BY id"), workspace)
            }

            fn all_leads(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Lead>> {
                stream_rows::<LeadRow, Lead>(&self.pool, concat!("SELECT ", lead_columns!(), " FROM leads WHERE workspace_id = $1 ORDER BY id"), workspace)
            }

            fn lead_changes(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<RecordChange>> {
                stream_rows::<RecordChangeRow, RecordChange>(
                    &self.pool,
                    concat!("SELECT ", record_change_columns!(),
                            " FROM record_changes WHERE workspace_id = $1 AND record_kind = 'lead' ORDER BY record_id, version"),
                    workspace,
                )
            }

            fn all_activities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Activity>> {
                stream_rows::<ActivityRow, Activity>(&self.pool, concat!("SELECT ", activity_columns!(), " FROM activities WHERE workspace_id = $1 ORDER BY id"), workspace)
            }

            fn lead_activities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Activity>> {
                stream_rows::<ActivityRow, Activity>(
                    &self.pool,
                    concat!("SELECT ", activity_columns!(),
                            " FROM activities WHERE workspace_id = $1 AND lead_id IS NOT NULL AND kind <> 'note'"),
                    workspace,
                )
            }

            fn queued_leads(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Lead>> {
                stream_rows::<LeadRow, Lead>(
                    &self.pool,
                    concat!("SELECT ", lead_columns!(), " FROM leads WHERE workspace_id = $1 AND ", queued_lead!(), " ORDER BY id"),
                    workspace,
                )
            }

            fn queued_lead_activities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Activity>> {
                stream_rows::<ActivityRow, Activity>(
                    &self.pool,
                    concat!("SELECT ", activity_columns!(),
                            " FROM activities WHERE workspace_id = $1 AND kind <> 'note' AND lead_id IN \
                             (SELECT id FROM leads WHERE workspace_id = $1 AND ", queued_lead!(), ")"),
                    workspace,
                )
            }

            fn deal_touches(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<DealTouch>> {
                stream_rows::<TouchRow, DealTouch>(
                    &self.pool,
                    "SELECT opportunity_id, occurred_at, contact_id FROM activities \
                     WHERE workspace_id = $1 AND opportunity_id IS NOT NULL AND kind <> 'note'",
                    workspace,
                )
            }

            async fn last_activity(&self, workspace: WorkspaceId) -> Result<LastActivity> {
                // One query per kind of record; the column name is fixed, never user input.
                let latest = |column: &'static str| async move {
                    let sql = format!(
                        "SELECT {column}, MAX(occurred_at) FROM activities \
                         WHERE workspace_id = $1 AND {column} IS NOT NULL AND kind <> 'note' \
                         GROUP BY {column}"
                    );
                    let rows: Vec<(Uuid, DbTime)> = sqlx::query_as(&sql)
                        .bind(workspace.as_uuid())
                        .fetch_all(&self.pool)
                        .await?;
                    Ok::<_, StoreError>(rows.into_iter().map(|(id, at)| (id, at.0)))
                };
                Ok(LastActivity {
                    opportunities: latest("opportunity_id").await?.map(|(id, at)| (OpportunityId::from_uuid(id), at)).collect(),
                    accounts: latest("account_id").await?.map(|(id, at)| (AccountId::from_uuid(id), at)).collect(),
                    contacts: latest("contact_id").await?.map(|(id, at)| (ContactId::from_uuid(id), at)).collect(),
                })
            }

            async fn opportunity(&self, workspace: WorkspaceId, id: OpportunityId) -> Result<Opportunity> {
                let sql = concat!("SELECT ", opportunity_columns!(), " FROM opportunities WHERE workspace_id = $1 AND id = $2");
                let row = fetch_by_id::<OpportunityRow>(&self.pool, sql, workspace, id.as_uuid()).await?;
                row.ok_or_else(|| StoreError::not_found("opportunity", id))?.try_into()
            }

            async fn opportunities(
                &self,
                workspace: WorkspaceId,
                page: PageRequest,
                filter: &DealFilter,
            ) -> Result<Page<Opportunity>> {
                deal_page::<OpportunityRow, _>(&self.pool, opportunity_columns!(), workspace, page, filter, |o: &Opportunity| o.id).await
            }

            async fn deal_cards(
                &self,
                workspace: WorkspaceId,
                page: PageRequest,
                filter: &DealFilter,
            ) -> Result<Page<DealCard>> {
                deal_page::<DealCardRow, _>(&self.pool, deal_card_columns!(), workspace, page, filter, |c: &DealCard| c.id).await
            }

            async fn opportunity_events(&self, workspace: WorkspaceId, id: OpportunityId) -> Result<Vec<OpportunityEvent>> {
                sqlx::query_as::<_, EventRow>(concat!(
                    "SELECT ", event_columns!(), " FROM opportunity_events \
                     WHERE workspace_id = $1 AND opportunity_id = $2 ORDER BY seq"
                ))
                .bind(workspace.as_uuid())
                .bind(id.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn record(&self, workspace: WorkspaceId, recorded: &Recorded) -> Result<()> {
                if recorded.events.is_empty() {
                    return Ok(());
                }
                self.record_and_announce(workspace, recorded).await
            }

            async fn record_process_version(
                &self,
                workspace: WorkspaceId,
                revision: &ProcessRevision,
                files: &[ProcessFile],
            ) -> Result<()> {
                retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    insert_process_version(&mut tx, workspace.as_uuid(), revision, files).await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await?;
                // Nobody listening is no error.
                let _ = self.written.send(crate::Written::Replaced { workspace });
                Ok(())
            }

            async fn process_history(&self, workspace: WorkspaceId) -> Result<Vec<ProcessRevision>> {
                sqlx::query_as::<_, ProcessVersionRow>(
                    "SELECT version, changed_by, changed_at, changes FROM process_versions \
                     WHERE workspace_id = $1 ORDER BY version",
                )
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn process_files(
                &self,
                workspace: WorkspaceId,
                version: Option<ProcessVersion>,
            ) -> Result<(ProcessVersion, Vec<ProcessFile>)> {
                let id = workspace.as_uuid();
                let version: i64 = match version {
                    Some(v) => i64::from(v.0),
                    None => sqlx::query_scalar::<_, Option<i64>>(
                        "SELECT MAX(version) FROM process_versions WHERE workspace_id = $1",
                    )
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::not_found("process version of workspace", workspace))?,
                };
                let files: Vec<(String, String)> = sqlx::query_as(
                    "SELECT name, definition FROM process_files \
                     WHERE workspace_id = $1 AND version = $2 ORDER BY position",
                )
                .bind(id)
                .bind(version)
                .fetch_all(&self.pool)
                .await?;
                if files.is_empty() {
                    return Err(StoreError::not_found("process version", version));
                }
                let version = ProcessVersion(u32::try_from(version).unwrap_or(u32::MAX));
                let files = files.into_iter().map(|(name, text)| ProcessFile { name, text }).collect();
                Ok((version, files))
            }

            async fn open_deals_by_stage(
                &self,
                workspace: WorkspaceId,
            ) -> Result<Vec<(ProcessKey, StageKey, u64)>> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT process, stage, COUNT(*) FROM opportunities \
                     WHERE workspace_id = $1 AND status = 'open' GROUP BY process, stage",
                )
                .bind(workspace.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(process, stage, count)| {
                        let corrupt = |detail: String| StoreError::Corrupt {
                            table: "opportunities",
                            key: format!("{process}/{stage}"),
                            detail,
                        };
                        Ok((
                            process.parse().map_err(|e| corrupt(format!("process: {e}")))?,
                            stage.parse().map_err(|e| corrupt(format!("stage: {e}")))?,
                            u64::try_from(count).unwrap_or(0),
                        ))
                    })
                    .collect()
            }

            fn all_opportunities(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<Opportunity>> {
                stream_rows::<OpportunityRow, Opportunity>(&self.pool, concat!("SELECT ", opportunity_columns!(), " FROM opportunities WHERE workspace_id = $1 ORDER BY id"), workspace)
            }

            fn event_log(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<OpportunityEvent>> {
                stream_rows::<EventRow, OpportunityEvent>(&self.pool, concat!("SELECT ", event_columns!(), " FROM opportunity_events WHERE workspace_id = $1 ORDER BY opportunity_id, seq"), workspace)
            }

            fn event_log_without_evidence(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<OpportunityEvent>> {
                let sql = concat!(
                    "SELECT ", event_columns!(), " FROM opportunity_events \
                     WHERE workspace_id = $1 AND kind <> 'evidence_recorded' ORDER BY opportunity_id, seq"
                );
                stream_rows::<EventRow, OpportunityEvent>(&self.pool, sql, workspace)
            }

            fn event_log_for_analytics(&self, workspace: WorkspaceId) -> BoxStream<'_, Result<OpportunityEvent>> {
                // `->>` reads a JSON member as text in both SQLite (3.38+) and PostgreSQL.
                let sql = concat!(
                    "SELECT ", event_columns!(), " FROM opportunity_events \
                     WHERE workspace_id = $1 AND (kind <> 'evidence_recorded' \
                     OR data ->> 'evidence' IN ('gate_decided', 'stakeholder_set', 'stakeholder_removed')) \
                     ORDER BY opportunity_id, seq"
                );
                stream_rows::<EventRow, OpportunityEvent>(&self.pool, sql, workspace)
            }

            async fn counts(&self, workspace: WorkspaceId) -> Result<Counts> {
                let count = |table: &'static str| async move {
                    let n: i64 = sqlx::query_scalar(&format!(
                        "SELECT COUNT(*) FROM {table} WHERE workspace_id = $1"
                    ))
                    .bind(workspace.as_uuid())
                    .fetch_one(&self.pool)
                    .await?;
                    Ok::<u64, StoreError>(u64::try_from(n).unwrap_or_default())
                };
                Ok(Counts {
                    teams: count("teams").await?,
                    users: count("users").await?,
                    accounts: count("accounts").await?,
                    contacts: count("contacts").await?,
                    opportunities: count("opportunities").await?,
                    opportunity_events: count("opportunity_events").await?,
                    leads: count("leads").await?,
                    activities: count("activities").await?,
                    targets: count("targets").await?,
                })
            }
        }
    };
}

pub(crate) use {
    account_columns, activity_columns, api_token_columns, changeable_opportunity_columns,
    contact_columns, deal_card_columns, delivery_columns, due_deliveries, event_columns,
    impl_store, lead_columns, opportunity_columns, queued_lead, record_change_columns,
    target_columns, unindexed_opportunity_columns, user_columns, webhook_columns,
    written_opportunity_columns,
};
