//! The records every source has, read the same way whatever the columns are called:
//! accounts, contacts and deals with their rebuilt histories.

use std::collections::HashMap;

use pipewise_core::crm::{Account, BuyingRole, Contact, EmployeeBand};
use pipewise_core::external::ExternalKind;
use pipewise_core::ids::{AccountId, ContactId, OpportunityId, UserId};
use pipewise_core::money::Currency;
use pipewise_core::org::{Role, User};
use pipewise_core::process::ForecastCategory;
use pipewise_core::text::{Email, Note, WebDomain};

use crate::fields::{
    clipped_name, expected, fixed_note, label, optional, optional_user, person_name, reference,
    register,
};
use crate::history::{self, DealPast, OwnerMove, Rebuild, Snapshot};
use crate::prepared::{Ids, Read, each_row};
use crate::table::{Column, FileError, Row, Table};
use crate::values::count;
use crate::{Context, Issue, Keyed, Prepared};

/// An export being read: the records so far and the ids each source id became.
pub(crate) struct Reading<'a> {
    pub context: &'a Context<'a>,
    pub out: Prepared,
    pub users: Ids,
    pub accounts: Ids,
    pub contacts: Ids,
    pub leads: Ids,
    pub opportunities: Ids,
    pub activities: Ids,
}

impl<'a> Reading<'a> {
    /// A reading of an export whose ids are written as `format` checks; with `keep_uuids`,
    /// records whose source id is a UUID keep it as their id.
    pub fn new(
        context: &'a Context<'a>,
        format: fn(&str) -> Result<String, String>,
        keep_uuids: bool,
    ) -> Self {
        let ids = || Ids::new(format, keep_uuids);
        Self {
            context,
            out: Prepared::default(),
            users: ids(),
            accounts: ids(),
            contacts: ids(),
            leads: ids(),
            opportunities: ids(),
            activities: ids(),
        }
    }

    /// Reads the people, who become sellers, or managers if anyone reports to them (never
    /// admins); one who is already a user here, by e-mail, is that user.
    pub fn users(&mut self, table: &Table, f: &UserFields<'_>) -> Result<(), FileError> {
        let ([id, email_column], created) = f.required(table)?;
        let (name, first, last) = (
            f.name.and_then(|n| table.column(n)),
            table.column(f.first_name),
            table.column(f.last_name),
        );
        let manager = f.manager.and_then(|m| table.column(m));
        let format = self.users.format();
        // Anyone named as a manager manages; everyone else sells.
        let mut managers = std::collections::HashSet::new();
        let mut ignored = Vec::new();
        table.rows(&mut ignored, |row, _| {
            if let Some(Ok(m)) = row.get(manager).map(format) {
                managers.insert(m);
            }
        })?;
        let context = self.context;
        let mut seen_emails: HashMap<Email, u64> = HashMap::new();
        let mut matched = Vec::new();
        // Each new person with the source id of their manager.
        let read = each_row(table, ExternalKind::User, &mut self.out, |row, _| {
            let created_at = match created {
                Some(created) => row.parse_required(created, |t| context.dates.time(t))?,
                None => context.now,
            };
            let email = row.parse_required(email_column, |t| expected(Email::parse(t)))?;
            let person = person_name(row, name, first, last)?;
            let Some((external, uuid)) = register(
                &mut self.users,
                context,
                ExternalKind::User,
                row,
                id,
                created_at,
            )?
            else {
                return Ok(Read::Known);
            };
            if let Some(existing) = context.known.user_by_email(&email) {
                // Already a user here: the same person, now also known by this id.
                self.users.replace(&external, existing);
                matched.push(Keyed {
                    external_id: external,
                    record: existing,
                });
                return Ok(Read::Known);
            }
            if let Some(first) = seen_emails.insert(email.clone(), row.line()) {
                self.users.forget(&external);
                return Err(row.issue(
                    email_column,
                    email.as_str(),
                    format!("the e-mail is used again (first at line {first}); the row is skipped"),
                ));
            }
            let role = if managers.contains(&external) {
                Role::Manager
            } else {
                Role::Rep
            };
            let manager_id = row.get(manager).and_then(|m| format(m).ok());
            let user = User {
                id: UserId::from_uuid(uuid),
                name: person,
                email,
                role,
                manager_id: None,
                team_id: None,
                created_at,
            };
            Ok(Read::New(Keyed {
                external_id: external,
                record: (user, manager_id),
            }))
        })?;
        self.out.matched_users.extend(matched);
        let rows: Vec<(String, Keyed<User>, Option<String>)> = read
            .into_iter()
            .map(|keyed| {
                let (user, manager) = keyed.record;
                let external = keyed.external_id;
                (
                    external.clone(),
                    Keyed {
                        external_id: external,
                        record: user,
                    },
                    manager,
                )
            })
            .collect();
        // Managers before the people who report to them, as the hierarchy is written in order.
        let parents: HashMap<String, Option<String>> = rows
            .iter()
            .map(|(e, _, m)| (e.clone(), m.clone()))
            .collect();
        let mut ordered = Vec::with_capacity(rows.len());
        for (external, mut keyed, manager_external) in rows.iter().cloned() {
            let depth = depth_of(&parents, &external);
            match (&manager_external, depth) {
                (Some(m), Some(_)) => match self.users.get(m) {
                    Some(manager) => {
                        keyed.record.manager_id = Some(UserId::from_uuid(manager.uuid))
                    }
                    None => self.out.issues.push(Issue {
                        file: table.name().to_owned(),
                        line: self.users.get(&external).map_or(0, |i| i.line),
                        column: f.manager.unwrap_or_default().to_owned(),
                        value: m.clone(),
                        reason: "no user has this id; imported without a manager".into(),
                    }),
                },
                (Some(m), None) => self.out.issues.push(Issue {
                    file: table.name().to_owned(),
                    line: self.users.get(&external).map_or(0, |i| i.line),
                    column: f.manager.unwrap_or_default().to_owned(),
                    value: m.clone(),
                    reason: "managers form a loop; imported without a manager".into(),
                }),
                (None, _) => {}
            }
            ordered.push((depth.unwrap_or(0), keyed));
        }
        ordered.sort_by_key(|(depth, _)| *depth);
        self.out.users = ordered.into_iter().map(|(_, keyed)| keyed).collect();
        Ok(())
    }

    pub fn accounts(&mut self, table: &Table, f: &AccountFields<'_>) -> Result<(), FileError> {
        let [id, name, created] = f.required(table)?;
        let website = table.column(f.website);
        let industry = table.column(f.industry);
        let employees = table.column(f.employees);
        let region = self
            .custom(table, self.context.mapping.fields.region.as_deref())
            .or(table.column(f.region));
        let segment = self
            .custom(table, self.context.mapping.fields.segment.as_deref())
            .or(f.segment.and_then(|s| table.column(s)));
        let owner = table.column(f.owner);
        let context = self.context;
        let accounts = each_row(
            table,
            ExternalKind::Account,
            &mut self.out,
            |row, issues| {
                let created_at = row.parse_required(created, |t| context.dates.time(t))?;
                let account_name = row.parse_required(name, clipped_name)?;
                let Some((external, uuid)) = register(
                    &mut self.accounts,
                    context,
                    ExternalKind::Account,
                    row,
                    id,
                    created_at,
                )?
                else {
                    return Ok(Read::Known);
                };
                let account = Account {
                    id: AccountId::from_uuid(uuid),
                    version: 1,
                    name: account_name,
                    domain: optional(row, website, issues, |t| expected(WebDomain::parse(t))),
                    industry: optional(row, industry, issues, label),
                    employee_band: optional(row, employees, issues, employee_band),
                    region: optional(row, region, issues, label),
                    segment: optional(row, segment, issues, label),
                    tier: None,
                    owner_id: optional_user(row, owner, &self.users, issues),
                    created_at,
                };
                Ok(Read::New(Keyed {
                    external_id: external,
                    record: account,
                }))
            },
        )?;
        self.out.accounts = accounts;
        Ok(())
    }

    pub fn contacts(
        &mut self,
        table: &Table,
        f: &ContactFields<'_>,
        roles: &HashMap<String, BuyingRole>,
    ) -> Result<(), FileError> {
        let [id, account, created] = f.required(table)?;
        let (name, first, last) = (
            f.name.and_then(|n| table.column(n)),
            table.column(f.first_name),
            table.column(f.last_name),
        );
        let (email, title) = (table.column(f.email), table.column(f.title));
        let role = f.buying_role.and_then(|r| table.column(r));
        let context = self.context;
        let contacts = each_row(
            table,
            ExternalKind::Contact,
            &mut self.out,
            |row, issues| {
                let created_at = row.parse_required(created, |t| context.dates.time(t))?;
                let person = person_name(row, name, first, last)?;
                let account_id = reference(
                    row,
                    account,
                    &self.accounts,
                    "no imported account has this id; a contact belongs to an account, so the row is skipped",
                )?;
                let Some((external, uuid)) = register(
                    &mut self.contacts,
                    context,
                    ExternalKind::Contact,
                    row,
                    id,
                    created_at,
                )?
                else {
                    return Ok(Read::Known);
                };
                let contact = Contact {
                    id: ContactId::from_uuid(uuid),
                    version: 1,
                    account_id: AccountId::from_uuid(account_id),
                    name: person,
                    email: optional(row, email, issues, |t| expected(Email::parse(t))),
                    title: optional(row, title, issues, label),
                    buying_role: optional(row, role, issues, |t| expected(t.parse::<BuyingRole>()))
                        .or_else(|| roles.get(&external).copied()),
                    created_at,
                };
                Ok(Read::New(Keyed {
                    external_id: external,
                    record: contact,
                }))
            },
        )?;
        self.out.contacts = contacts;
        Ok(())
    }

    /// Reads the deals, each with the history `past` gives for it (its snapshots and owner
    /// moves, by its source id and row), and rebuilds their event logs.
    pub fn deals(
        &mut self,
        table: &Table,
        f: &DealFields<'_>,
        mut past: impl FnMut(&str, &Row<'_>, &mut Vec<Issue>) -> (Vec<Snapshot>, Vec<OwnerMove>),
    ) -> Result<(), FileError> {
        let [id, name, account, owner, stage, close, created] = table.require([
            f.id, f.name, f.account, f.owner, f.stage, f.close, f.created,
        ])?;
        let amount = table.column(f.amount);
        let currency = table.column(f.currency);
        let modified = table.column(f.modified);
        let created_by = f.created_by.and_then(|c| table.column(c));
        let source = table.column(f.source);
        let category = table.column(f.category);
        let fields = &self.context.mapping.fields;
        let segment = self
            .custom(table, fields.segment.as_deref())
            .or(f.segment.and_then(|s| table.column(s)));
        let competitor = self
            .custom(table, fields.competitor.as_deref())
            .or(f.competitor.and_then(|c| table.column(c)));
        let loss = self
            .custom(table, self.context.mapping.losses.field.as_deref())
            .or(f.loss.and_then(|l| table.column(l)));
        let context = self.context;
        let override_reason = fixed_note(f.override_reason);
        let reopen_reason = fixed_note(f.reopen_reason);
        let with = Rebuild {
            process: context.process,
            version: context.version,
            recorded_at: context.now,
            override_reason: &override_reason,
            reopen_reason: &reopen_reason,
        };
        let mut events = 0u64;
        let deals = each_row(
            table,
            ExternalKind::Opportunity,
            &mut self.out,
            |row, issues| {
                let created_at = row.parse_required(created, |t| context.dates.time(t))?;
                let deal_name = row.parse_required(name, clipped_name)?;
                let account_id = reference(
                    row,
                    account,
                    &self.accounts,
                    "no imported account has this id; a deal belongs to an account, so the row is skipped",
                )?;
                let owner_id = UserId::from_uuid(reference(
                    row,
                    owner,
                    &self.users,
                    "no imported user has this id; the row is skipped",
                )?);
                let target = row.parse_required(stage, |t| {
                    context
                        .mapping
                        .stage(t)
                        .cloned()
                        .ok_or_else(|| "a stage of the mapping file".to_owned())
                })?;
                let close_date = row.parse_required(close, |t| context.dates.date(t))?;
                let deal_currency = row
                    .parse(currency, |t| expected(t.parse::<Currency>()))?
                    .unwrap_or(context.currency);
                let Some((external, uuid)) = register(
                    &mut self.opportunities,
                    context,
                    ExternalKind::Opportunity,
                    row,
                    id,
                    created_at,
                )?
                else {
                    return Ok(Read::Known);
                };
                let (mut deal_snapshots, owner_moves) = past(&external, row, issues);
                for snapshot in &mut deal_snapshots {
                    if snapshot.by.as_uuid().is_nil() {
                        snapshot.by = owner_id;
                    }
                }
                let loss_reason = row.get(loss);
                let past = DealPast {
                    id: OpportunityId::from_uuid(uuid),
                    name: deal_name,
                    account_id: AccountId::from_uuid(account_id),
                    created_at,
                    created_by: optional_user(row, created_by, &self.users, issues)
                        .unwrap_or(owner_id),
                    last_modified: optional(row, modified, issues, |t| context.dates.time(t))
                        .unwrap_or(created_at),
                    owner_id,
                    stage: target,
                    amount: optional(row, amount, issues, |t| {
                        crate::values::amount(t, deal_currency)
                    }),
                    close_date,
                    category: optional(row, category, issues, f.category_of),
                    source: optional(row, source, issues, label),
                    segment: optional(row, segment, issues, label),
                    competitor: optional(row, competitor, issues, label),
                    loss_type: context.mapping.losses.of(loss_reason),
                    loss_reason: loss_reason.and_then(|r| Note::parse(r).ok()),
                    snapshots: deal_snapshots,
                    owner_moves,
                };
                match history::rebuild(&past, with) {
                    Ok(rebuilt) => {
                        for inference in rebuilt.inferred {
                            issues.push(row.row_issue(format!("imported; {inference}")));
                        }
                        events += rebuilt.recorded.events.len() as u64;
                        Ok(Read::New(Keyed {
                            external_id: external,
                            record: rebuilt.recorded,
                        }))
                    }
                    Err(problem) => {
                        self.opportunities.forget(&external);
                        Err(row.row_issue(format!(
                            "its history cannot be replayed ({problem}); the row is skipped"
                        )))
                    }
                }
            },
        )?;
        self.out.events += events;
        self.out.opportunities = deals;
        Ok(())
    }

    /// Reads history rows (`f`) as each deal's snapshots, by the deal's source id; the
    /// deals' file (`deals`, `d`) gives their currencies.
    pub fn snapshots(
        &mut self,
        table: &Table,
        f: &HistoryFields<'_>,
        deals: &Table,
        d: &DealFields<'_>,
    ) -> Result<HashMap<String, Vec<Snapshot>>, FileError> {
        let format = self.opportunities.format();
        // Each deal's currency, which its history rows do not repeat.
        let currencies: HashMap<String, Currency> = {
            let [id] = deals.require([d.id])?;
            let currency = deals.column(d.currency);
            let mut currencies = HashMap::new();
            let mut ignored = Vec::new();
            deals.rows(&mut ignored, |row, _| {
                if let Some(Ok(id)) = row.text(id).map(format) {
                    let deal_currency = row.get(currency).and_then(|c| c.parse().ok());
                    currencies.insert(id, deal_currency.unwrap_or(self.context.currency));
                }
            })?;
            currencies
        };
        let [deal, stage, created] = table.require([f.deal, f.stage, f.at])?;
        let (amount, close, category, by) = (
            table.column(f.amount),
            table.column(f.close),
            table.column(f.category),
            table.column(f.by),
        );
        let deals_file = deals.name().to_owned();
        let context = self.context;
        let users = &self.users;
        let mut snapshots: HashMap<String, Vec<Snapshot>> = HashMap::new();
        table.rows(&mut self.out.issues, |row, issues| {
            let parsed = (|| {
                let deal_id = row.parse_required(deal, format)?;
                let Some(&currency) = currencies.get(&deal_id) else {
                    return Err(row.issue(
                        deal,
                        &deal_id,
                        format!("no deal in {deals_file} has this id; the row is skipped"),
                    ));
                };
                let at = row.parse_required(created, |t| context.dates.time(t))?;
                let target = row.parse_required(stage, |t| {
                    context
                        .mapping
                        .stage(t)
                        .cloned()
                        .ok_or_else(|| "a stage of the mapping file".to_owned())
                })?;
                Ok((deal_id, currency, at, target))
            })();
            let (deal_id, currency, at, target) = match parsed {
                Ok(parsed) => parsed,
                Err(issue) => {
                    issues.push(issue);
                    return;
                }
            };
            // An empty amount was cleared; one that does not read says nothing.
            let amount = match row.parse(amount, |t| crate::values::amount(t, currency)) {
                Ok(amount) => Some(amount),
                Err(issue) => {
                    issues.push(issue);
                    None
                }
            };
            snapshots.entry(deal_id).or_default().push(Snapshot {
                at,
                by: optional_user(row, by, users, issues)
                    .unwrap_or(UserId::from_uuid(uuid::Uuid::nil())),
                stage: target,
                amount,
                close_date: optional(row, close, issues, |t| context.dates.date(t)),
                category: optional(row, category, issues, d.category_of),
            });
        })?;
        Ok(snapshots)
    }

    /// The column holding a custom field the mapping names, if the file has it.
    pub fn custom(&self, table: &Table, field: Option<&str>) -> Option<Column> {
        table.column(field?)
    }
}

/// How many managers are above `user` among the new users; `None` when the links loop.
fn depth_of(parents: &HashMap<String, Option<String>>, user: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = parents.get(user).cloned().flatten();
    while let Some(parent) = at {
        depth += 1;
        if depth > parents.len() {
            return None;
        }
        at = parents.get(&parent).cloned().flatten();
    }
    Some(depth)
}

/// A head-count band as pipewise writes it (`51-200`), or a head count.
fn employee_band(text: &str) -> Result<EmployeeBand, String> {
    text.parse::<EmployeeBand>()
        .or_else(|_| count(text).map(EmployeeBand::of_count))
        .map_err(|_| "a head count such as 250, or a band such as 201-500".to_owned())
}

/// The columns holding a person's fields; without a creation time the import's is used.
pub(crate) struct UserFields<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub created: Option<&'a str>,
    pub name: Option<&'a str>,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub manager: Option<&'a str>,
}

impl UserFields<'_> {
    /// The columns `table` must have: id and e-mail, and the creation time if named.
    pub fn required(&self, table: &Table) -> Result<([Column; 2], Option<Column>), FileError> {
        let required = table.require([self.id, self.email])?;
        let created = match self.created {
            Some(created) => Some(table.require([created])?[0]),
            None => None,
        };
        Ok((required, created))
    }
}

/// The columns holding an account's fields; the region column is used unless the mapping
/// names a custom field for it.
pub(crate) struct AccountFields<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub created: &'a str,
    pub website: &'a str,
    pub industry: &'a str,
    pub employees: &'a str,
    pub region: &'a str,
    /// Where the source has a segment column of its own.
    pub segment: Option<&'a str>,
    pub owner: &'a str,
}

impl AccountFields<'_> {
    /// The columns `table` must have: id, name and creation time.
    pub fn required(&self, table: &Table) -> Result<[Column; 3], FileError> {
        table.require([self.id, self.name, self.created])
    }
}

/// The columns holding a contact's fields: its full name, or first and last name.
pub(crate) struct ContactFields<'a> {
    pub id: &'a str,
    pub account: &'a str,
    pub created: &'a str,
    /// The full name, where the source has one.
    pub name: Option<&'a str>,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub title: &'a str,
    /// Where the source has a buying-role column of its own.
    pub buying_role: Option<&'a str>,
}

impl ContactFields<'_> {
    /// The columns `table` must have: id, account and creation time.
    pub fn required(&self, table: &Table) -> Result<[Column; 3], FileError> {
        table.require([self.id, self.account, self.created])
    }
}

/// The columns of a history row: a deal's fields at one moment.
pub(crate) struct HistoryFields<'a> {
    pub deal: &'a str,
    pub at: &'a str,
    pub stage: &'a str,
    pub amount: &'a str,
    pub close: &'a str,
    pub category: &'a str,
    pub by: &'a str,
}

/// The columns holding a deal's current fields, how the source writes forecast
/// categories, and what to say on events the source makes.
pub(crate) struct DealFields<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub account: &'a str,
    pub owner: &'a str,
    pub stage: &'a str,
    pub close: &'a str,
    pub created: &'a str,
    pub amount: &'a str,
    pub currency: &'a str,
    pub modified: &'a str,
    pub created_by: Option<&'a str>,
    pub source: &'a str,
    pub category: &'a str,
    /// Where the source has segment and competitor columns of its own.
    pub segment: Option<&'a str>,
    pub competitor: Option<&'a str>,
    /// Where the source has a loss-reason column of its own.
    pub loss: Option<&'a str>,
    pub category_of: fn(&str) -> Result<ForecastCategory, String>,
    pub override_reason: &'a str,
    pub reopen_reason: &'a str,
}
