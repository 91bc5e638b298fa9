//! CSV files in pipewise's own layout, as `pipewise export --format csv` writes them, or
//! from any other system with their columns renamed in the mapping file's `[columns]`:
//! `users.csv`, `accounts.csv`, `contacts.csv` and `opportunities.csv`, with the deals'
//! history in one of two forms:
//! - `events.csv`, a pipewise event log: each deal's log is taken as it is, so an export
//!   imported into another workspace reproduces every deal and every number made from them.
//!   Records keep their ids, which the log refers to.
//! - `history.csv`, one row per moment a deal's fields were seen (deal_id, at, stage,
//!   amount, close_date, category, by), rebuilt like Salesforce's history.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ScopedJoinHandle;

use pipewise_core::external::ExternalKind;
use pipewise_core::ids::{OpportunityId, UserId};
use pipewise_core::opportunity::{Change, EventKind, OpportunityEvent, Recorded, replay};
use pipewise_core::process::{ForecastCategory, Process, ProcessSet, StageKey};
use uuid::Uuid;

use crate::fields::register;
use crate::handover::BATCH_RECORDS;
use crate::mapping::{self, Mapping, Seen, Unmapped};
use crate::prepared::{Ids, Read, each_row};
use crate::records::{
    AccountFields, ContactFields, DealFields, HistoryFields, Reading, UserFields,
};
use crate::table::{Column, FileError, Folder, Row, Table};
use crate::{Context, ImportError, Issue, Keyed, Prepared};

const USERS: &str = "users.csv";
const ACCOUNTS: &str = "accounts.csv";
const CONTACTS: &str = "contacts.csv";
const OPPORTUNITIES: &str = "opportunities.csv";
const EVENTS: &str = "events.csv";
const HISTORY: &str = "history.csv";

/// A draft mapping file for the stages the deals and their history use.
pub fn suggest(folder: &Path, process: &Process) -> Result<String, ImportError> {
    let files = Files::open(folder)?;
    Ok(mapping::suggest(
        process,
        &stages(&files, None)?,
        &Seen::default(),
    ))
}

/// Reads the export in `folder`. With `events.csv`, stages are pipewise's own and need no
/// mapping; otherwise every stage must be in the mapping.
pub fn read(folder: &Path, context: &Context<'_>) -> Result<Prepared, ImportError> {
    let files = Files::open(folder)?;
    let mapping = context.mapping;
    if files.events.is_none() {
        let unmapped = Unmapped {
            stages: stages(&files, Some(mapping))?.missing(|s| mapping.stage(s).is_some()),
            lead_statuses: Vec::new(),
        };
        if !unmapped.is_empty() {
            return Err(ImportError::Unmapped(unmapped));
        }
    }
    // Every header is checked before any record is handed to the writer.
    let log = match &files.events {
        Some(events) => {
            files.opportunities.require([
                mapping.column("opportunities", "id"),
                mapping.column("opportunities", "created_at"),
            ])?;
            Some((events, EventColumns::of(events)?))
        }
        None => None,
    };
    let abandoned = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Whether each deal's events stand together in the log is found by a pass of its
        // own, begun first so as to be known early. Only a writer waiting for deals needs it.
        let grouping = log
            .filter(|_| context.hand_over.streams())
            .and_then(|(events, columns)| {
                let abandoned = &abandoned;
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || events.grouped_by(columns.deal, abandoned))
                    .ok()
            });
        let read = read_files(&files, context, grouping);
        // A pass still going is of no use any more.
        abandoned.store(true, Ordering::Relaxed);
        read
    })
}

/// Reads the records of `files`; `grouping` says whether the event log keeps each deal's
/// events together, once it knows.
fn read_files(
    files: &Files,
    context: &Context<'_>,
    grouping: Option<ScopedJoinHandle<'_, bool>>,
) -> Result<Prepared, ImportError> {
    let mapping = context.mapping;
    let mut reader = Reading::new(context, any_id, true);
    reader.out.notices.clone_from(&files.notices);
    let column = |file: &str, name: &'static str| mapping.column(file, name);
    let deals = DealFields {
        id: column("opportunities", "id"),
        name: column("opportunities", "name"),
        account: column("opportunities", "account_id"),
        owner: column("opportunities", "owner_id"),
        stage: column("opportunities", "stage"),
        close: column("opportunities", "close_date"),
        created: column("opportunities", "created_at"),
        amount: column("opportunities", "amount"),
        currency: column("opportunities", "currency"),
        modified: column("opportunities", "updated_at"),
        created_by: None,
        source: column("opportunities", "source"),
        category: column("opportunities", "category"),
        segment: Some(column("opportunities", "segment")),
        competitor: Some(column("opportunities", "competitor")),
        loss: Some(column("opportunities", "loss_type")),
        category_of: forecast_category,
        override_reason: "Forecast category set in the source",
        reopen_reason: "Reopened in the source",
    };
    let users = &files.users;
    let user_fields = UserFields {
        id: column("users", "id"),
        email: column("users", "email"),
        created: users
            .column(column("users", "created_at"))
            .map(|_| column("users", "created_at")),
        name: Some(column("users", "name")),
        first_name: column("users", "first_name"),
        last_name: column("users", "last_name"),
        manager: Some(column("users", "manager_id")),
    };
    let account_fields = AccountFields {
        id: column("accounts", "id"),
        name: column("accounts", "name"),
        created: column("accounts", "created_at"),
        website: column("accounts", "domain"),
        industry: column("accounts", "industry"),
        employees: column("accounts", "employee_band"),
        region: column("accounts", "region"),
        segment: Some(column("accounts", "segment")),
        owner: column("accounts", "owner_id"),
    };
    let contact_fields = ContactFields {
        id: column("contacts", "id"),
        account: column("contacts", "account_id"),
        created: column("contacts", "created_at"),
        name: Some(column("contacts", "name")),
        first_name: column("contacts", "first_name"),
        last_name: column("contacts", "last_name"),
        email: column("contacts", "email"),
        title: column("contacts", "title"),
        buying_role: Some(column("contacts", "buying_role")),
    };
    // Records may be written before the last file is read: every header is checked first.
    user_fields.required(users)?;
    account_fields.required(&files.accounts)?;
    if let Some(table) = &files.contacts {
        contact_fields.required(table)?;
    }
    // With a pipewise event log, the deals file is read first: the writer learns how many
    // deals come, and each kind of record is handed to it as soon as it is read.
    let mut waiting = match &files.events {
        Some(_) => Some(reader.waiting_deals(&files.opportunities, &deals)?),
        None => None,
    };
    let hand_over = |reader: &mut Reading<'_>| {
        if files.events.is_some() {
            context.hand_over.send(&mut reader.out);
        }
    };
    reader.users(users, &user_fields)?;
    hand_over(&mut reader);
    reader.accounts(&files.accounts, &account_fields)?;
    hand_over(&mut reader);
    if let Some(table) = &files.contacts {
        reader.contacts(table, &contact_fields, &HashMap::new())?;
        hand_over(&mut reader);
    }
    match (&files.events, waiting.take(), &files.history) {
        (Some(events), Some(waiting), _) => {
            reader.logged_deals(&files.opportunities, events, waiting, grouping)?;
        }
        (_, _, history) => {
            let mut snapshots = match history {
                Some(table) => {
                    let fields = HistoryFields {
                        deal: column("history", "deal_id"),
                        at: column("history", "at"),
                        stage: column("history", "stage"),
                        amount: column("history", "amount"),
                        close: column("history", "close_date"),
                        category: column("history", "category"),
                        by: column("history", "by"),
                    };
                    reader.snapshots(table, &fields, &files.opportunities, &deals)?
                }
                None => HashMap::new(),
            };
            reader.deals(&files.opportunities, &deals, |deal, _, _| {
                (snapshots.remove(deal).unwrap_or_default(), Vec::new())
            })?;
        }
    }
    Ok(reader.out)
}

struct Files {
    users: Table,
    accounts: Table,
    opportunities: Table,
    contacts: Option<Table>,
    events: Option<Table>,
    history: Option<Table>,
    notices: Vec<String>,
}

impl Files {
    fn open(path: &Path) -> Result<Self, ImportError> {
        let mut folder = Folder::new(path);
        let users = folder.required(USERS, "deals and accounts name their owners")?;
        let accounts = folder.required(ACCOUNTS, "every deal belongs to an account")?;
        let opportunities = folder.required(OPPORTUNITIES, "it holds the deals")?;
        let contacts = folder.optional(CONTACTS, "no contacts imported")?;
        let events = folder.optional(EVENTS, "deals are rebuilt from history.csv")?;
        let history = match events {
            Some(_) => None,
            None => folder.optional(
                HISTORY,
                "deals have no stage history; each starts in its current stage",
            )?,
        };
        Ok(Self {
            users,
            accounts,
            opportunities,
            contacts,
            events,
            history,
            notices: folder.notices,
        })
    }
}

/// The stages deals are in or were in, by the source's names.
fn stages(files: &Files, mapping: Option<&Mapping>) -> Result<Seen, FileError> {
    let column = |file: &str, name: &'static str| mapping.map_or(name, |m| m.column(file, name));
    let mut seen = Seen::default();
    seen.add_column(&files.opportunities, column("opportunities", "stage"))?;
    if let Some(history) = &files.history {
        seen.add_column(history, column("history", "stage"))?;
    }
    Ok(seen)
}

/// One deal's log as read, or the first problem that makes it unusable.
type Log = Result<Vec<OpportunityEvent>, Issue>;

/// The columns of a pipewise event log.
#[derive(Clone, Copy)]
struct EventColumns {
    deal: Column,
    seq: Column,
    kind: Column,
    actor: Column,
    effective: Column,
    recorded: Column,
    data: Column,
}

impl EventColumns {
    fn of(table: &Table) -> Result<Self, FileError> {
        let [deal, seq, kind, actor, effective, recorded, data] = table.require([
            "opportunity_id",
            "seq",
            "kind",
            "actor_id",
            "effective_at",
            "recorded_at",
            "data",
        ])?;
        Ok(Self {
            deal,
            seq,
            kind,
            actor,
            effective,
            recorded,
            data,
        })
    }

    /// The deal id of `row` and its event, or why the event does not read.
    fn parse(
        self,
        context: &Context<'_>,
        row: &Row<'_>,
    ) -> Result<(String, Result<OpportunityEvent, Issue>), Issue> {
        let deal_id = row
            .text(self.deal)
            .ok_or_else(|| row.issue(self.deal, "", "a value is required; the row is skipped"))?;
        let event = (|| {
            let uuid = |column: Column| {
                row.parse_required(column, |t| {
                    Uuid::parse_str(t).map_err(|_| "a UUID".to_owned())
                })
            };
            let kind = row.parse_required(self.kind, |t| {
                t.parse::<EventKind>().map_err(|e| e.expected().to_owned())
            })?;
            // The change as the log serialises it: its kind beside its data. The data is
            // checked to be one JSON value first, so it cannot smuggle in other keys.
            let change = row.parse_required(self.data, |text| {
                let data: &serde_json::value::RawValue =
                    serde_json::from_str(text).map_err(|e| format!("JSON ({e})"))?;
                let tagged = format!(r#"{{"kind":"{}","data":{}}}"#, kind.as_str(), data.get());
                serde_json::from_str::<Change>(&tagged)
                    .map_err(|e| format!("the data of a `{}` event ({e})", kind.as_str()))
            })?;
            let dates = context.dates;
            Ok(OpportunityEvent {
                opportunity_id: OpportunityId::from_uuid(uuid(self.deal)?),
                seq: row.parse_required(self.seq, |t| {
                    t.parse().map_err(|_| "a whole number from 1".to_owned())
                })?,
                actor_id: UserId::from_uuid(uuid(self.actor)?),
                effective_at: row.parse_required(self.effective, |t| dates.time(t))?,
                recorded_at: row.parse_required(self.recorded, |t| dates.time(t))?,
                // Under this workspace's process, whose stages it is checked against.
                process_version: context.version,
                change,
            })
        })();
        Ok((deal_id.to_owned(), event))
    }
}

/// A new deal of the deals file, waiting for its log.
struct Waiting {
    uuid: Uuid,
    line: u64,
}

/// The deals file, read before the event log.
struct WaitingDeals {
    deals: HashMap<String, Waiting>,
    /// Its rows' issues.
    issues: Vec<Issue>,
}

impl Reading<'_> {
    /// The deals of `table`, each with its log from the event log `events`, checked to
    /// replay and to use only the workspace's processes, stages, people and accounts. A
    /// deal with an event that does not read keeps the first such problem and is not
    /// imported.
    ///
    /// When a writer takes records as they are finished, the records read before are handed
    /// over first; then, if the log holds each deal's events together (as pipewise writes
    /// it), each deal as soon as its events end, and otherwise every deal once the whole
    /// log is read.
    fn logged_deals(
        &mut self,
        table: &Table,
        events: &Table,
        waiting: WaitingDeals,
        mut grouping: Option<ScopedJoinHandle<'_, bool>>,
    ) -> Result<(), FileError> {
        let columns = EventColumns::of(events)?;
        let context = self.context;
        if context.hand_over.stopped() {
            return Ok(()); // The writer failed; its error is the one reported.
        }

        let issues_before = self.out.issues.len();
        let mut row_issues = Vec::new();
        // The deals file's own issues, in its order among the others.
        let mut deal_row_issues = waiting.issues;
        let mut finishing = Finishing {
            context,
            deals_file: table.name(),
            waiting: waiting.deals,
            accounts: &self.accounts,
            users: &self.users,
            deals: &mut self.opportunities,
            out: &mut self.out,
            issues: Vec::new(),
        };
        let mut logs: HashMap<String, Log> = HashMap::new();
        // A log is the largest file of an export: each row's change and times are parsed on
        // a second core while this one reads on, and put in their deal's log in file order.
        let parse = |row: &Row<'_>| columns.parse(context, row);
        // Until it is known whether each deal's events stand together, every log is kept.
        let mut grouped = false;
        let mut current = String::new();
        events.rows_in_parallel(&mut row_issues, parse, |parsed, issues| {
            let (deal_id, event) = match parsed {
                Ok(parsed) => parsed,
                Err(issue) => return issues.push(issue),
            };
            if let Some(found) = grouping.take_if(|pass| pass.is_finished()) {
                grouped = found.join().unwrap_or(false);
                if grouped {
                    // Every log but the one being read is whole.
                    let whole: Vec<String> =
                        logs.keys().filter(|d| **d != current).cloned().collect();
                    for deal_id in whole {
                        if let Some(log) = logs.remove(&deal_id) {
                            finishing.finish(&deal_id, log);
                        }
                    }
                }
            }
            if deal_id != current {
                if grouped {
                    if let Some(log) = logs.remove(&current) {
                        finishing.finish(&current, log);
                    }
                }
                current.clone_from(&deal_id);
            }
            match (logs.entry(deal_id).or_insert_with(|| Ok(Vec::new())), event) {
                (Ok(events), Ok(event)) => events.push(event),
                (log @ Ok(_), Err(issue)) => *log = Err(issue),
                (Err(_), _) => {}
            }
        })?;
        // The logs not yet finished, in the deals file's order: all of them when the log was
        // not grouped by deal, the last one when it was.
        let mut left: Vec<(String, Waiting)> = finishing.waiting.drain().collect();
        left.sort_by_key(|(_, waiting)| waiting.line);
        for (deal_id, waiting) in left {
            match logs.remove(&deal_id) {
                Some(log) => finishing.finish_waiting(&deal_id, waiting, log),
                None => {
                    let issue = finishing.refusal(
                        &waiting,
                        format!("{EVENTS} has no events for this deal; the row is skipped"),
                    );
                    finishing.refuse(&deal_id, issue);
                }
            }
        }
        let mut deal_issues = finishing.issues;
        let out = &mut self.out;
        out.issues.append(&mut row_issues);
        out.issues.append(&mut deal_row_issues);
        out.issues.append(&mut deal_issues);
        // Deals were finished in the log's order: their issues are put in file order.
        out.issues[issues_before..].sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Ok(())
    }

    /// The new deals of `table` by source id, of which the writer is told; rows that do not
    /// read, or that are known from an earlier import, are counted here and their issues
    /// kept aside.
    fn waiting_deals(
        &mut self,
        table: &Table,
        f: &DealFields<'_>,
    ) -> Result<WaitingDeals, FileError> {
        let [id, created] = table.require([f.id, f.created])?;
        let issues_before = self.out.issues.len();
        let context = self.context;
        let opportunities = &mut self.opportunities;
        let deals = each_row(table, ExternalKind::Opportunity, &mut self.out, |row, _| {
            let at = row.parse_required(created, |t| context.dates.time(t))?;
            Ok(
                match register(
                    opportunities,
                    context,
                    ExternalKind::Opportunity,
                    row,
                    id,
                    at,
                )? {
                    Some((external_id, uuid)) => Read::New(Keyed {
                        external_id,
                        record: Waiting {
                            uuid,
                            line: row.line(),
                        },
                    }),
                    None => Read::Known,
                },
            )
        })?;
        context.hand_over.start(deals.len() as u64);
        Ok(WaitingDeals {
            deals: deals
                .into_iter()
                .map(|keyed| (keyed.external_id, keyed.record))
                .collect(),
            issues: self.out.issues.split_off(issues_before),
        })
    }
}

/// Deals whose logs are complete, checked and handed over one by one.
struct Finishing<'r, 'c> {
    context: &'c Context<'c>,
    deals_file: &'r str,
    waiting: HashMap<String, Waiting>,
    accounts: &'r Ids,
    users: &'r Ids,
    deals: &'r mut Ids,
    out: &'r mut Prepared,
    issues: Vec<Issue>,
}

impl Finishing<'_, '_> {
    /// Finishes the deal `deal_id` with its whole `log`, if it is a new deal of the deals file.
    fn finish(&mut self, deal_id: &str, log: Log) {
        if let Some(waiting) = self.waiting.remove(deal_id) {
            self.finish_waiting(deal_id, waiting, log);
        }
    }

    fn finish_waiting(&mut self, deal_id: &str, waiting: Waiting, log: Log) {
        let checked = log.and_then(|mut events| {
            events.sort_by_key(|e| e.seq);
            check_log(
                self.context,
                self.accounts,
                self.users,
                events,
                waiting.uuid,
                |problem| self.refusal(&waiting, format!("{problem}; the deal is skipped")),
            )
        });
        match checked {
            Ok(recorded) => {
                self.out.events += recorded.events.len() as u64;
                self.out.opportunities.push(Keyed {
                    external_id: deal_id.to_owned(),
                    record: recorded,
                });
                if self.out.opportunities.len() >= BATCH_RECORDS {
                    self.context.hand_over.send(self.out);
                }
            }
            Err(issue) => self.refuse(deal_id, issue),
        }
    }

    /// Reports the deal `deal_id` as skipped, so references to it are reported too.
    fn refuse(&mut self, deal_id: &str, issue: Issue) {
        self.deals.forget(deal_id);
        let tally = self
            .out
            .tallies
            .entry(ExternalKind::Opportunity)
            .or_default();
        tally.new -= 1;
        tally.skipped += 1;
        self.issues.push(issue);
    }

    /// An issue with the whole row of the deal `waiting`.
    fn refusal(&self, waiting: &Waiting, reason: String) -> Issue {
        Issue {
            file: self.deals_file.to_owned(),
            line: waiting.line,
            column: String::new(),
            value: String::new(),
            reason,
        }
    }
}

/// `events` as the log of the deal `id`, if it replays and names only the workspace's
/// processes and stages and the imported `accounts` and `users`.
fn check_log(
    context: &Context<'_>,
    accounts: &Ids,
    users: &Ids,
    events: Vec<OpportunityEvent>,
    id: Uuid,
    refuse: impl Fn(String) -> Issue,
) -> Result<Recorded, Issue> {
    if events.iter().any(|e| e.opportunity_id.as_uuid() != id) {
        return Err(refuse("its events belong to another deal id".into()));
    }
    for event in &events {
        unknown_stage(context.processes, &event.change).map_or(Ok(()), |problem| {
            Err(refuse(format!("event {}: {problem}", event.seq)))
        })?;
    }
    let state = match replay(&events) {
        Ok(Some(state)) => state,
        Ok(None) => return Err(refuse("it has no events".into())),
        Err(e) => return Err(refuse(format!("its log does not replay: {e}"))),
    };
    let known = |ids: &Ids, uuid: Uuid| ids.get(&uuid.to_string()).is_some();
    if !known(accounts, state.account_id.as_uuid()) {
        return Err(refuse(format!(
            "its account {} is not among the imported accounts",
            state.account_id
        )));
    }
    if !known(users, state.owner_id.as_uuid()) {
        return Err(refuse(format!(
            "its owner {} is not among the imported users",
            state.owner_id
        )));
    }
    Ok(Recorded { state, events })
}

/// A process or stage `change` names that the workspace does not have.
fn unknown_stage(processes: &ProcessSet, change: &Change) -> Option<String> {
    let stage_of = |key: &StageKey| {
        processes
            .processes()
            .iter()
            .any(|p| p.stage(key).is_some())
            .then_some(())
            .ok_or_else(|| format!("no process of this workspace has stage `{key}`"))
    };
    let result = match change {
        Change::Created(created) => match processes.get(&created.process) {
            None => Err(format!(
                "this workspace has no process `{}`",
                created.process
            )),
            Some(process) => process.stage(&created.stage).map(|_| ()).ok_or_else(|| {
                format!(
                    "process `{}` has no stage `{}`",
                    created.process, created.stage
                )
            }),
        },
        Change::StageChanged(changed) => stage_of(&changed.to),
        Change::Reopened(reopened) => stage_of(&reopened.stage),
        _ => Ok(()),
    };
    result.err()
}

/// Any non-empty id, trimmed.
fn any_id(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 255 {
        Err("an id of 1 to 255 characters".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

/// A forecast category by pipewise's name (`best_case`) or its label (`Best Case`).
fn forecast_category(text: &str) -> Result<ForecastCategory, String> {
    let word = text.trim().to_ascii_lowercase().replace(' ', "_");
    word.parse()
        .map_err(|_| "pipeline, best_case, commit, closed or omitted".to_owned())
}
