//! A Salesforce data export (Setup → Data Export): one CSV per object, named by its API name
//! (`Opportunity.csv`), with a header of field API names (`StageName`).
//!
//! Deals' event logs are rebuilt from OpportunityHistory (one row each time the stage,
//! amount, close date or forecast category changed) and the owner changes in
//! OpportunityFieldHistory; see [`crate::history`] for what is inferred where they are
//! silent.

use std::collections::HashMap;
use std::path::Path;

use pipewise_core::crm::{Activity, ActivityKind, BuyingRole, Lead, LeadStatus};
use pipewise_core::external::ExternalKind;
use pipewise_core::ids::{AccountId, ActivityId, ContactId, LeadId, OpportunityId, UserId};
use pipewise_core::leads::scoring::LeadEvidence;
use pipewise_core::process::{ForecastCategory, Process};
use pipewise_core::text::{Email, Phone, WebDomain};

use crate::fields::{
    clipped_name, expected, fixed_name, label, linked, optional, optional_user, person_name,
    reference, register,
};
use crate::history::OwnerMove;
use crate::mapping::{self, Seen, Unmapped};
use crate::prepared::{Read, each_row};
use crate::records::{
    AccountFields, ContactFields, DealFields, HistoryFields, Reading, UserFields,
};
use crate::table::{Column, FileError, Folder, Table};
use crate::values::{flag, salesforce_id};
use crate::{Context, ImportError, Keyed, Prepared};

const USER: &str = "User.csv";
const ACCOUNT: &str = "Account.csv";
const CONTACT: &str = "Contact.csv";
const LEAD: &str = "Lead.csv";
const OPPORTUNITY: &str = "Opportunity.csv";
const OPPORTUNITY_HISTORY: &str = "OpportunityHistory.csv";
const FIELD_HISTORY: &str = "OpportunityFieldHistory.csv";
const CONTACT_ROLE: &str = "OpportunityContactRole.csv";
const TASK: &str = "Task.csv";
const EVENT: &str = "Event.csv";

const USER_FIELDS: UserFields = UserFields {
    id: "Id",
    email: "Email",
    created: Some("CreatedDate"),
    name: Some("Name"),
    first_name: "FirstName",
    last_name: "LastName",
    manager: Some("ManagerId"),
};

const ACCOUNT_FIELDS: AccountFields = AccountFields {
    id: "Id",
    name: "Name",
    created: "CreatedDate",
    website: "Website",
    industry: "Industry",
    employees: "NumberOfEmployees",
    region: "BillingCountry",
    segment: None,
    owner: "OwnerId",
};

const CONTACT_FIELDS: ContactFields = ContactFields {
    id: "Id",
    account: "AccountId",
    created: "CreatedDate",
    name: Some("Name"),
    first_name: "FirstName",
    last_name: "LastName",
    email: "Email",
    title: "Title",
    buying_role: None,
};

const HISTORY_FIELDS: HistoryFields = HistoryFields {
    deal: "OpportunityId",
    at: "CreatedDate",
    stage: "StageName",
    amount: "Amount",
    close: "CloseDate",
    category: "ForecastCategory",
    by: "CreatedById",
};

const DEAL_FIELDS: DealFields = DealFields {
    id: "Id",
    name: "Name",
    account: "AccountId",
    owner: "OwnerId",
    stage: "StageName",
    close: "CloseDate",
    created: "CreatedDate",
    amount: "Amount",
    currency: "CurrencyIsoCode",
    modified: "LastModifiedDate",
    created_by: Some("CreatedById"),
    source: "LeadSource",
    category: "ForecastCategoryName",
    segment: None,
    competitor: None,
    loss: None,
    category_of: forecast_category,
    override_reason: "Forecast category set in Salesforce",
    reopen_reason: "Reopened in Salesforce",
};

/// A draft mapping file for the stages and lead statuses the export uses.
pub fn suggest(folder: &Path, process: &Process) -> Result<String, ImportError> {
    let (stages, statuses) = source_values(&Files::open(folder)?)?;
    Ok(mapping::suggest(process, &stages, &statuses))
}

/// Reads the export in `folder`. Stops before reading any record if a required file or
/// column is missing, or if a stage or lead status is not in the mapping.
pub fn read(folder: &Path, context: &Context<'_>) -> Result<Prepared, ImportError> {
    let files = Files::open(folder)?;
    let (stages, statuses) = source_values(&files)?;
    let unmapped = Unmapped {
        stages: stages.missing(|s| context.mapping.stage(s).is_some()),
        lead_statuses: statuses.missing(|s| context.mapping.lead_status(s).is_some()),
    };
    if !unmapped.is_empty() {
        return Err(ImportError::Unmapped(unmapped));
    }
    let mut reader = Reading::new(context, salesforce_id, false);
    reader.out.notices = files.notices.clone();
    reader.users(&files.user, &USER_FIELDS)?;
    reader.accounts(&files.account, &ACCOUNT_FIELDS)?;
    let roles = match &files.contact_role {
        Some(table) => reader.contact_roles(table)?,
        None => HashMap::new(),
    };
    if let Some(table) = &files.contact {
        reader.contacts(table, &CONTACT_FIELDS, &roles)?;
    }
    let mut snapshots = match &files.history {
        Some(table) => {
            reader.snapshots(table, &HISTORY_FIELDS, &files.opportunity, &DEAL_FIELDS)?
        }
        None => HashMap::new(),
    };
    let mut owner_moves = match &files.field_history {
        Some(table) => reader.owner_moves(table)?,
        None => HashMap::new(),
    };
    reader.deals(&files.opportunity, &DEAL_FIELDS, |deal, _, _| {
        (
            snapshots.remove(deal).unwrap_or_default(),
            owner_moves.remove(deal).unwrap_or_default(),
        )
    })?;
    if let Some(table) = &files.lead {
        reader.leads(table)?;
    }
    if let Some(table) = &files.task {
        reader.activities(table, Kind::Task)?;
    }
    if let Some(table) = &files.event {
        reader.activities(table, Kind::Event)?;
    }
    Ok(reader.out)
}

/// The export's files; the optional ones may be absent.
struct Files {
    user: Table,
    account: Table,
    opportunity: Table,
    contact: Option<Table>,
    lead: Option<Table>,
    history: Option<Table>,
    field_history: Option<Table>,
    contact_role: Option<Table>,
    task: Option<Table>,
    event: Option<Table>,
    notices: Vec<String>,
}

impl Files {
    fn open(path: &Path) -> Result<Self, ImportError> {
        let mut folder = Folder::new(path);
        Ok(Self {
            user: folder.required(USER, "deals, accounts and activities need their owners")?,
            account: folder.required(ACCOUNT, "every deal belongs to an account")?,
            opportunity: folder.required(OPPORTUNITY, "it holds the deals")?,
            contact: folder.optional(CONTACT, "no contacts imported")?,
            lead: folder.optional(LEAD, "no leads imported")?,
            history: folder.optional(
                OPPORTUNITY_HISTORY,
                "deals have no stage history; each starts in its current stage",
            )?,
            field_history: folder.optional(FIELD_HISTORY, "owner changes are not imported")?,
            contact_role: folder.optional(CONTACT_ROLE, "contacts get no buying role")?,
            task: folder.optional(TASK, "no calls, e-mails or tasks imported")?,
            event: folder.optional(EVENT, "no meetings imported")?,
            notices: folder.notices,
        })
    }
}

/// The stage names of deals and their history, and the lead statuses.
fn source_values(files: &Files) -> Result<(Seen, Seen), FileError> {
    let mut stages = Seen::default();
    let mut statuses = Seen::default();
    for table in std::iter::once(&files.opportunity).chain(&files.history) {
        stages.add_column(table, "StageName")?;
    }
    if let Some(table) = &files.lead {
        statuses.add_column(table, "Status")?;
    }
    Ok((stages, statuses))
}

enum Kind {
    Task,
    Event,
}

impl Reading<'_> {
    /// Each contact's most telling buying role across the deals it is on.
    fn contact_roles(&mut self, table: &Table) -> Result<HashMap<String, BuyingRole>, FileError> {
        let [contact, role] = table.require(["ContactId", "Role"])?;
        let mut roles: HashMap<String, BuyingRole> = HashMap::new();
        table.rows(&mut self.out.issues, |row, _| {
            let (Some(Ok(contact)), Some(role)) = (
                row.text(contact).map(salesforce_id),
                row.text(role).and_then(buying_role),
            ) else {
                return;
            };
            let best = roles.entry(contact).or_insert(role);
            if rank(role) < rank(*best) {
                *best = role;
            }
        })?;
        Ok(roles)
    }

    /// Owner changes from the field history; Salesforce writes each twice, once with user
    /// ids and once with names, and only the first can be followed.
    fn owner_moves(&mut self, table: &Table) -> Result<HashMap<String, Vec<OwnerMove>>, FileError> {
        let [deal, field, new, created] =
            table.require(["OpportunityId", "Field", "NewValue", "CreatedDate"])?;
        let (old, by) = (table.column("OldValue"), table.column("CreatedById"));
        let context = self.context;
        let users = &self.users;
        let mut moves: HashMap<String, Vec<OwnerMove>> = HashMap::new();
        table.rows(&mut self.out.issues, |row, issues| {
            if row.text(field) != Some("Owner") {
                return;
            }
            let user = |text: Option<&str>| {
                text.and_then(|t| salesforce_id(t).ok())
                    .and_then(|id| users.get(&id))
                    .map(|id| UserId::from_uuid(id.uuid))
            };
            let Some(to) = user(row.text(new)) else {
                return;
            };
            let parsed = (|| {
                let deal_id = row.parse_required(deal, salesforce_id)?;
                let at = row.parse_required(created, |t| context.dates.time(t))?;
                Ok((deal_id, at))
            })();
            match parsed {
                Ok((deal_id, at)) => moves.entry(deal_id).or_default().push(OwnerMove {
                    at,
                    by: user(row.get(by)).unwrap_or(to),
                    from: user(row.get(old)),
                    to,
                }),
                Err(issue) => issues.push(issue),
            }
        })?;
        Ok(moves)
    }

    fn leads(&mut self, table: &Table) -> Result<(), FileError> {
        let [id, status, created] = table.require(["Id", "Status", "CreatedDate"])?;
        let (name, first, last) = (
            table.column("Name"),
            table.column("FirstName"),
            table.column("LastName"),
        );
        let columns = LeadColumns {
            email: table.column("Email"),
            company: table.column("Company"),
            title: table.column("Title"),
            phone: table.column("Phone"),
            website: table.column("Website"),
            source: table.column("LeadSource"),
            owner: table.column("OwnerId"),
            converted: table.column("IsConverted"),
            account: table.column("ConvertedAccountId"),
            opportunity: table.column("ConvertedOpportunityId"),
            region: self
                .custom(table, self.context.mapping.fields.region.as_deref())
                .or(table.column("Country")),
        };
        let context = self.context;
        let leads = each_row(table, ExternalKind::Lead, &mut self.out, |row, issues| {
            let created_at = row.parse_required(created, |t| context.dates.time(t))?;
            let person = person_name(row, name, first, last)?;
            let converted = row.parse(columns.converted, flag)?.unwrap_or(false);
            let lead_status = if converted {
                LeadStatus::Sal
            } else {
                row.parse_required(status, |t| {
                    context
                        .mapping
                        .lead_status(t)
                        .ok_or_else(|| "a lead status of the mapping file".to_owned())
                })?
            };
            let Some((external, uuid)) = register(
                &mut self.leads,
                context,
                ExternalKind::Lead,
                row,
                id,
                created_at,
            )?
            else {
                return Ok(Read::Known);
            };
            let lead = Lead {
                id: LeadId::from_uuid(uuid),
                version: 1,
                name: person,
                email: optional(row, columns.email, issues, |t| expected(Email::parse(t))),
                company: optional(row, columns.company, issues, clipped_name),
                source: optional(row, columns.source, issues, label),
                status: lead_status,
                // Leads waiting in a queue (ids starting 00G) have no owner yet.
                owner_id: row
                    .get(columns.owner)
                    .filter(|o| !o.starts_with("00G"))
                    .and_then(|_| optional_user(row, columns.owner, &self.users, issues)),
                account_id: linked(row, columns.account, &self.accounts, issues)
                    .map(AccountId::from_uuid),
                opportunity_id: linked(row, columns.opportunity, &self.opportunities, issues)
                    .map(OpportunityId::from_uuid),
                created_at,
                title: optional(row, columns.title, issues, label),
                phone: optional(row, columns.phone, issues, |t| expected(Phone::parse(t))),
                website: optional(row, columns.website, issues, |t| {
                    expected(WebDomain::parse(t))
                }),
                region: optional(row, columns.region, issues, label),
                segment: None,
                product_line: None,
                nurture: None,
                disposition: None,
                queued_at: None,
                evidence: LeadEvidence::default(),
                routing_issue: None,
            };
            Ok(Read::New(Keyed {
                external_id: external,
                record: lead,
            }))
        })?;
        self.out.leads = leads;
        Ok(())
    }

    fn activities(&mut self, table: &Table, kind: Kind) -> Result<(), FileError> {
        let [id, owner, created] = table.require(["Id", "OwnerId", "CreatedDate"])?;
        let (who, what, subject) = (
            table.column("WhoId"),
            table.column("WhatId"),
            table.column("Subject"),
        );
        let (subtype, task_type, outcome_column) = (
            table.column("TaskSubtype"),
            table.column("Type"),
            table.column("CallDisposition"),
        );
        let (closed, status) = (table.column("IsClosed"), table.column("Status"));
        let when = match kind {
            Kind::Task => [
                table.column("CompletedDateTime"),
                table.column("ActivityDate"),
            ],
            Kind::Event => [
                table.column("StartDateTime"),
                table.column("ActivityDateTime"),
            ],
        };
        let context = self.context;
        let mut not_done = 0u64;
        let activities = each_row(
            table,
            ExternalKind::Activity,
            &mut self.out,
            |row, issues| {
                // Open tasks are plans and future events have not happened: neither is activity.
                let done = match kind {
                    Kind::Task => match row.parse(closed, flag) {
                        Ok(Some(closed)) => closed,
                        _ => row.get(status) == Some("Completed"),
                    },
                    Kind::Event => true,
                };

                let created_at = row.parse_required(created, |t| context.dates.time(t))?;
                let mut occurred_at = created_at;
                for column in when.into_iter().flatten() {
                    if let Some(at) = row.parse(Some(column), |t| context.dates.time(t))? {
                        occurred_at = at;
                        break;
                    }
                }
                let user_id = reference(
                    row,
                    owner,
                    &self.users,
                    "no imported user has this id; the row is skipped",
                )?;
                if !done || occurred_at > context.now {
                    not_done += 1;
                    return Ok(Read::Left);
                }
                let Some((external, uuid)) = register(
                    &mut self.activities,
                    context,
                    ExternalKind::Activity,
                    row,
                    id,
                    occurred_at,
                )?
                else {
                    return Ok(Read::Known);
                };
                let activity_kind = match kind {
                    Kind::Event => ActivityKind::Meeting,
                    Kind::Task => task_kind(row.get(subtype).or(row.get(task_type))),
                };
                let who_id = row.get(who).and_then(|w| salesforce_id(w).ok());
                let what_id = row.get(what).and_then(|w| salesforce_id(w).ok());
                let contact_id = who_id
                    .as_deref()
                    .and_then(|w| self.contacts.get(w))
                    .map(|i| ContactId::from_uuid(i.uuid));
                let lead_id = who_id
                    .as_deref()
                    .and_then(|w| self.leads.get(w))
                    .map(|i| LeadId::from_uuid(i.uuid));
                let opportunity_id = what_id
                    .as_deref()
                    .and_then(|w| self.opportunities.get(w))
                    .map(|i| OpportunityId::from_uuid(i.uuid));
                let account_id = what_id
                    .as_deref()
                    .and_then(|w| self.accounts.get(w))
                    .map(|i| AccountId::from_uuid(i.uuid));
                for (column, value, found, prefixes) in [
                    (
                        who,
                        who_id.as_deref(),
                        contact_id.is_some() || lead_id.is_some(),
                        ["003", "00Q"],
                    ),
                    (
                        what,
                        what_id.as_deref(),
                        opportunity_id.is_some() || account_id.is_some(),
                        ["006", "001"],
                    ),
                ] {
                    // Links to objects pipewise does not import (cases, campaigns) are dropped
                    // quietly; a contact, lead, deal or account that is missing is reported.
                    if let (Some(column), Some(value), false) = (column, value, found) {
                        if prefixes.iter().any(|p| value.starts_with(p)) {
                            issues.push(row.issue(
                                column,
                                value,
                                "no imported record has this id; imported without the link",
                            ));
                        }
                    }
                }
                let default_subject = match activity_kind {
                    ActivityKind::Call => "Call",
                    ActivityKind::Email => "E-mail",
                    ActivityKind::Meeting => "Meeting",
                    ActivityKind::Note => "Task",
                };
                let subject = row
                    .get(subject)
                    .and_then(|s| clipped_name(s).ok())
                    .unwrap_or_else(|| fixed_name(default_subject));
                Ok(Read::New(Keyed {
                    record: Activity {
                        id: ActivityId::from_uuid(uuid),
                        version: 1,
                        kind: activity_kind,
                        occurred_at,
                        user_id: UserId::from_uuid(user_id),
                        account_id,
                        contact_id,
                        lead_id,
                        opportunity_id,
                        subject,
                        outcome: optional(row, outcome_column, issues, label),
                    },
                    external_id: external,
                }))
            },
        )?;
        if not_done > 0 {
            self.out.notices.push(format!(
                "{}: {not_done} {} not imported",
                table.name(),
                match kind {
                    Kind::Task => "open tasks (plans, not activity) were",
                    Kind::Event => "events in the future were",
                }
            ));
        }
        self.out.activities.extend(activities);
        Ok(())
    }
}

struct LeadColumns {
    email: Option<Column>,
    company: Option<Column>,
    title: Option<Column>,
    phone: Option<Column>,
    website: Option<Column>,
    source: Option<Column>,
    owner: Option<Column>,
    converted: Option<Column>,
    account: Option<Column>,
    opportunity: Option<Column>,
    region: Option<Column>,
}

fn forecast_category(text: &str) -> Result<ForecastCategory, String> {
    match text.trim() {
        "Pipeline" => Ok(ForecastCategory::Pipeline),
        "BestCase" | "Best Case" => Ok(ForecastCategory::BestCase),
        "Commit" => Ok(ForecastCategory::Commit),
        "Closed" => Ok(ForecastCategory::Closed),
        "Omitted" => Ok(ForecastCategory::Omitted),
        _ => Err("Pipeline, BestCase, Commit, Closed or Omitted".into()),
    }
}

/// Salesforce's standard contact roles as buying roles; roles with no counterpart give none.
fn buying_role(role: &str) -> Option<BuyingRole> {
    match role.trim() {
        "Economic Buyer" | "Economic Decision Maker" => Some(BuyingRole::EconomicBuyer),
        "Decision Maker" => Some(BuyingRole::DecisionMaker),
        "Executive Sponsor" => Some(BuyingRole::Champion),
        "Influencer" | "Technical Buyer" | "Evaluator" => Some(BuyingRole::Influencer),
        _ => None,
    }
}

/// Which role wins when a contact plays several: the one that says most about the deal.
fn rank(role: BuyingRole) -> u8 {
    match role {
        BuyingRole::EconomicBuyer => 0,
        BuyingRole::DecisionMaker => 1,
        BuyingRole::Champion => 2,
        _ => 3,
    }
}

fn task_kind(kind: Option<&str>) -> ActivityKind {
    match kind.map(str::trim) {
        Some("Call") => ActivityKind::Call,
        Some("Email" | "ListEmail") => ActivityKind::Email,
        Some("Meeting") => ActivityKind::Meeting,
        _ => ActivityKind::Note,
    }
}
