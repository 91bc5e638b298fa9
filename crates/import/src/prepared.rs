//! What a reader produces: records with the source's ids, ready to be written in batches,
//! and what it knows of earlier imports.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use pipewise_core::crm::{Account, Activity, Contact, Lead};
use pipewise_core::external::{ExternalKey, ExternalKind, ExternalSystem};
use pipewise_core::ids::WorkspaceId;
use pipewise_core::money::Currency;
use pipewise_core::opportunity::Recorded;
use pipewise_core::org::User;
use pipewise_core::process::{Process, ProcessSet, ProcessVersion};
use pipewise_core::text::Email;
use pipewise_store::Batch;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Issue;
use crate::handover::HandOver;
use crate::mapping::Mapping;
use crate::table::{FileError, Row, Table};
use crate::values::DateStyle;

/// What the workspace already holds from earlier imports of the same system.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Per kind, source id → record id.
    keys: HashMap<ExternalKind, HashMap<String, Uuid>>,
    users_by_email: HashMap<Email, Uuid>,
}

impl Known {
    pub fn new(keys: Vec<ExternalKey>, users: &[User]) -> Self {
        let mut by_kind: HashMap<ExternalKind, HashMap<String, Uuid>> = HashMap::new();
        for key in keys {
            by_kind
                .entry(key.kind)
                .or_default()
                .insert(key.external_id, key.record_id);
        }
        Self {
            keys: by_kind,
            users_by_email: users
                .iter()
                .map(|u| (u.email.clone(), u.id.as_uuid()))
                .collect(),
        }
    }

    pub fn record(&self, kind: ExternalKind, external_id: &str) -> Option<Uuid> {
        self.keys.get(&kind)?.get(external_id).copied()
    }

    pub fn user_by_email(&self, email: &Email) -> Option<Uuid> {
        self.users_by_email.get(email).copied()
    }
}

/// Everything a reader needs besides the files.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub workspace: WorkspaceId,
    /// The currency of amounts the export gives no currency for.
    pub currency: Currency,
    /// The process deals rebuilt from snapshots follow.
    pub process: &'a Process,
    /// Every process in force, which a pipewise event log is checked against.
    pub processes: &'a ProcessSet,
    pub version: ProcessVersion,
    pub mapping: &'a Mapping,
    pub dates: DateStyle,
    pub known: &'a Known,
    /// Where finished records go: to the writer, or kept here.
    pub(crate) hand_over: &'a HandOver,
    /// When the import runs: the recorded time of every event it writes.
    pub now: DateTime<Utc>,
}

/// A record and the id its source gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<T> {
    pub external_id: String,
    pub record: T,
}

/// Rows of one kind: read, new, imported before, and not imported because of an issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub read: u64,
    pub new: u64,
    pub known: u64,
    pub skipped: u64,
}

/// Records read from an export and not yet written.
#[derive(Debug, Default)]
pub struct Prepared {
    pub users: Vec<Keyed<User>>,
    /// Users of the export who already were users of the workspace, matched by e-mail: only
    /// their source ids are new.
    pub matched_users: Vec<Keyed<Uuid>>,
    pub accounts: Vec<Keyed<Account>>,
    pub contacts: Vec<Keyed<Contact>>,
    pub leads: Vec<Keyed<Lead>>,
    pub opportunities: Vec<Keyed<Recorded>>,
    pub activities: Vec<Keyed<Activity>>,
    pub issues: Vec<Issue>,
    /// What applies to a whole file: an encoding read as Latin-1, an optional file absent.
    pub notices: Vec<String>,
    pub tallies: BTreeMap<ExternalKind, Tally>,
    /// Events in the new deals' logs.
    pub events: u64,
}

impl Prepared {
    /// The new records, the count an import's progress is measured in.
    pub fn new_records(&self) -> u64 {
        [
            self.users.len(),
            self.accounts.len(),
            self.contacts.len(),
            self.leads.len(),
            self.opportunities.len(),
            self.activities.len(),
        ]
        .iter()
        .sum::<usize>() as u64
    }

    /// Takes the records, leaving the counts, issues and notices.
    pub(crate) fn take_records(&mut self) -> Prepared {
        Prepared {
            users: std::mem::take(&mut self.users),
            matched_users: std::mem::take(&mut self.matched_users),
            accounts: std::mem::take(&mut self.accounts),
            contacts: std::mem::take(&mut self.contacts),
            leads: std::mem::take(&mut self.leads),
            opportunities: std::mem::take(&mut self.opportunities),
            activities: std::mem::take(&mut self.activities),
            ..Prepared::default()
        }
    }

    /// Records to write in this order, with every record's key in the batch that writes it,
    /// at most `size` records per batch. Each batch is one transaction, so an import stopped
    /// between two of them resumes from the keys already stored. Batches are made as they
    /// are asked for, so a record is not held twice for longer than its batch is written.
    pub fn into_batches(self, system: ExternalSystem, size: usize) -> Batches {
        let mut users = Batch::default();
        for user in self.users {
            users.external_keys.push(ExternalKey {
                system,
                kind: ExternalKind::User,
                external_id: user.external_id,
                record_id: user.record.id.as_uuid(),
            });
            users.users.push(user.record);
        }
        for user in self.matched_users {
            users.external_keys.push(ExternalKey {
                system,
                kind: ExternalKind::User,
                external_id: user.external_id,
                record_id: user.record,
            });
        }
        Batches {
            system,
            size: size.max(1),
            users: Some(users).filter(|b| !b.is_empty()),
            accounts: self.accounts.into_iter(),
            contacts: self.contacts.into_iter(),
            leads: self.leads.into_iter(),
            opportunities: self.opportunities.into_iter(),
            activities: self.activities.into_iter(),
        }
    }
}

/// The batches of an import, users first, then accounts, contacts, leads, deals and
/// activities: each record after those it refers to.
#[derive(Debug)]
pub struct Batches {
    system: ExternalSystem,
    size: usize,
    users: Option<Batch>,
    accounts: std::vec::IntoIter<Keyed<Account>>,
    contacts: std::vec::IntoIter<Keyed<Contact>>,
    leads: std::vec::IntoIter<Keyed<Lead>>,
    opportunities: std::vec::IntoIter<Keyed<Recorded>>,
    activities: std::vec::IntoIter<Keyed<Activity>>,
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let chunk = Chunk {
            system: self.system,
            size: self.size,
        };
        self.users
            .take()
            .or_else(|| {
                chunk.next(
                    &mut self.accounts,
                    ExternalKind::Account,
                    |b| &mut b.accounts,
                    |a| a.id.as_uuid(),
                )
            })
            .or_else(|| {
                chunk.next(
                    &mut self.contacts,
                    ExternalKind::Contact,
                    |b| &mut b.contacts,
                    |c| c.id.as_uuid(),
                )
            })
            .or_else(|| {
                chunk.next(
                    &mut self.leads,
                    ExternalKind::Lead,
                    |b| &mut b.leads,
                    |l| l.id.as_uuid(),
                )
            })
            .or_else(|| {
                chunk.next(
                    &mut self.opportunities,
                    ExternalKind::Opportunity,
                    |b| &mut b.opportunities,
                    |r| r.state.id.as_uuid(),
                )
            })
            .or_else(|| {
                chunk.next(
                    &mut self.activities,
                    ExternalKind::Activity,
                    |b| &mut b.activities,
                    |a| a.id.as_uuid(),
                )
            })
    }
}

#[derive(Clone, Copy)]
struct Chunk {
    system: ExternalSystem,
    size: usize,
}

impl Chunk {
    /// A batch of the next records of one kind, `None` when there are none left.
    fn next<T>(
        self,
        records: &mut std::vec::IntoIter<Keyed<T>>,
        kind: ExternalKind,
        field: fn(&mut Batch) -> &mut Vec<T>,
        id: fn(&T) -> Uuid,
    ) -> Option<Batch> {
        if records.len() == 0 {
            return None;
        }
        let mut batch = Batch::default();
        for keyed in records.by_ref().take(self.size) {
            batch.external_keys.push(ExternalKey {
                system: self.system,
                kind,
                record_id: id(&keyed.record),
                external_id: keyed.external_id,
            });
            field(&mut batch).push(keyed.record);
        }
        Some(batch)
    }
}

/// What a reader made of one row.
pub(crate) enum Read<T> {
    /// A record to write.
    New(Keyed<T>),
    /// Imported before, or already in the workspace: left as it is.
    Known,
    /// Not something pipewise keeps (an open task is a plan, not activity): not counted.
    Left,
}

/// Reads every row of `table` with `read`, counting each in `kind`'s tally; a row `read`
/// refuses is skipped and its issue reported. Returns the new records.
pub(crate) fn each_row<T>(
    table: &Table,
    kind: ExternalKind,
    out: &mut Prepared,
    mut read: impl FnMut(&Row<'_>, &mut Vec<Issue>) -> Result<Read<T>, Issue>,
) -> Result<Vec<Keyed<T>>, FileError> {
    let mut records = Vec::new();
    let tally = out.tallies.entry(kind).or_default();
    table.rows(&mut out.issues, |row, issues| {
        let result = read(row, issues);
        if !matches!(result, Ok(Read::Left)) {
            tally.read += 1;
        }
        match result {
            Ok(Read::New(record)) => {
                tally.new += 1;
                records.push(record);
            }
            Ok(Read::Known) => tally.known += 1,
            Ok(Read::Left) => {}
            Err(issue) => {
                tally.skipped += 1;
                issues.push(issue);
            }
        }
    })?;
    Ok(records)
}

/// The ids of one kind of record in this import: those imported before, and new ones made
/// from the record's creation time (so ids still sort by creation, as UUIDv7 promise) and
/// a digest of its source id (so a dry run and the real run agree).
#[derive(Debug)]
pub(crate) struct Ids {
    ids: HashMap<String, Id>,
    /// How the source writes its ids: checks one and gives its canonical form.
    format: fn(&str) -> Result<String, String>,
    /// Whether a source id that is a UUID stays the record's id (a pipewise export, whose
    /// event log names records by them).
    keep_uuids: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Id {
    pub uuid: Uuid,
    /// Imported before: not written again.
    pub known: bool,
    /// Line of the row that named it first, for duplicate-id messages.
    pub line: u64,
}

impl Ids {
    pub fn new(format: fn(&str) -> Result<String, String>, keep_uuids: bool) -> Self {
        Self {
            ids: HashMap::new(),
            format,
            keep_uuids,
        }
    }

    pub fn format(&self) -> fn(&str) -> Result<String, String> {
        self.format
    }

    /// Registers the record `external_id` first seen at `line`; `None` if it was already
    /// registered (a duplicate row), with the line of the first.
    pub fn register(
        &mut self,
        context: &Context<'_>,
        kind: ExternalKind,
        external_id: &str,
        created_at: DateTime<Utc>,
        line: u64,
    ) -> Result<Id, u64> {
        if let Some(first) = self.ids.get(external_id) {
            return Err(first.line);
        }
        let id = match context.known.record(kind, external_id) {
            Some(uuid) => Id {
                uuid,
                known: true,
                line,
            },
            None => Id {
                uuid: Uuid::parse_str(external_id)
                    .ok()
                    .filter(|_| self.keep_uuids)
                    .unwrap_or_else(|| new_id(context.workspace, kind, external_id, created_at)),
                known: false,
                line,
            },
        };
        self.ids.insert(external_id.to_owned(), id);
        Ok(id)
    }

    /// Makes `external_id` stand for the existing record `uuid`.
    pub fn replace(&mut self, external_id: &str, uuid: Uuid) {
        if let Some(id) = self.ids.get_mut(external_id) {
            id.uuid = uuid;
            id.known = true;
        }
    }

    pub fn get(&self, external_id: &str) -> Option<Id> {
        self.ids.get(external_id).copied()
    }

    /// Forgets a registered record whose row turned out unusable, so references to it are
    /// reported rather than left dangling.
    pub fn forget(&mut self, external_id: &str) {
        self.ids.remove(external_id);
    }
}

fn new_id(
    workspace: WorkspaceId,
    kind: ExternalKind,
    external_id: &str,
    created_at: DateTime<Utc>,
) -> Uuid {
    let digest = Sha256::new()
        .chain_update(workspace.as_uuid().as_bytes())
        .chain_update(kind.as_str())
        .chain_update([0])
        .chain_update(external_id)
        .finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(created_at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}
