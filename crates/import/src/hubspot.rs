//! HubSpot CSV exports, with columns named by HubSpot's internal property names
//! (`dealstage`, not "Deal Stage"): `owners.csv` (id, email, firstName, lastName, as the
//! owners API lists them), `companies.csv`, `contacts.csv` and `deals.csv`.
//!
//! A deal's stage history is read from its `hs_date_entered_<stage id>` properties, one per
//! stage of its pipeline. HubSpot keeps the latest entry into each stage and no history of
//! amount or close date, so a rebuilt deal moves through the stages in the order it last
//! entered them, with its current amount and close date throughout.

use std::collections::HashMap;
use std::path::Path;

use pipewise_core::ids::UserId;
use pipewise_core::process::{ForecastCategory, Process};

use crate::history::Snapshot;
use crate::mapping::{self, Seen, Unmapped};
use crate::records::{AccountFields, ContactFields, DealFields, Reading, UserFields};
use crate::table::{Column, FileError, Folder, Table};
use crate::{Context, ImportError, Prepared};

const OWNERS: &str = "owners.csv";
const COMPANIES: &str = "companies.csv";
const CONTACTS: &str = "contacts.csv";
const DEALS: &str = "deals.csv";

/// Columns holding the time a deal last entered each stage, by stage id.
const ENTERED: &str = "hs_date_entered_";

const USER_FIELDS: UserFields = UserFields {
    id: "id",
    email: "email",
    created: None,
    name: None,
    first_name: "firstName",
    last_name: "lastName",
    manager: None,
};

const ACCOUNT_FIELDS: AccountFields = AccountFields {
    id: "hs_object_id",
    name: "name",
    created: "createdate",
    website: "domain",
    industry: "industry",
    employees: "numberofemployees",
    region: "country",
    segment: None,
    owner: "hubspot_owner_id",
};

const CONTACT_FIELDS: ContactFields = ContactFields {
    id: "hs_object_id",
    account: "associatedcompanyid",
    created: "createdate",
    name: None,
    first_name: "firstname",
    last_name: "lastname",
    email: "email",
    title: "jobtitle",
    buying_role: None,
};

const DEAL_FIELDS: DealFields = DealFields {
    id: "hs_object_id",
    name: "dealname",
    account: "associatedcompanyid",
    owner: "hubspot_owner_id",
    stage: "dealstage",
    close: "closedate",
    created: "createdate",
    amount: "amount",
    currency: "deal_currency_code",
    modified: "hs_lastmodifieddate",
    created_by: None,
    source: "hs_analytics_source",
    category: "hs_manual_forecast_category",
    segment: None,
    competitor: None,
    loss: None,
    category_of: forecast_category,
    override_reason: "Forecast category set in HubSpot",
    reopen_reason: "Reopened in HubSpot",
};

/// A draft mapping file for the deal stages the export uses.
pub fn suggest(folder: &Path, process: &Process) -> Result<String, ImportError> {
    let files = Files::open(folder)?;
    Ok(mapping::suggest(
        process,
        &stages(&files.deals)?,
        &Seen::default(),
    ))
}

/// Reads the export in `folder`. Stops before reading any record if a required file or
/// column is missing, or if a stage is not in the mapping.
pub fn read(folder: &Path, context: &Context<'_>) -> Result<Prepared, ImportError> {
    let files = Files::open(folder)?;
    let unmapped = Unmapped {
        stages: stages(&files.deals)?.missing(|s| context.mapping.stage(s).is_some()),
        lead_statuses: Vec::new(),
    };
    if !unmapped.is_empty() {
        return Err(ImportError::Unmapped(unmapped));
    }
    let mut reader = Reading::new(context, hubspot_id, false);
    reader.out.notices = files.notices;
    reader.out.notices.push(
        "HubSpot keeps no amount or close-date history: deals carry their current amount and close date from the start"
            .to_owned(),
    );
    reader.users(&files.owners, &USER_FIELDS)?;
    reader.accounts(&files.companies, &ACCOUNT_FIELDS)?;
    if let Some(table) = &files.contacts {
        reader.contacts(table, &CONTACT_FIELDS, &HashMap::new())?;
    }
    let entered: Vec<(String, Column)> = files
        .deals
        .columns_with_prefix(ENTERED)
        .map(|(stage, column)| (stage.to_owned(), column))
        .collect();
    let dates = context.dates;
    let mapping = context.mapping;
    reader.deals(&files.deals, &DEAL_FIELDS, |_, row, issues| {
        let mut snapshots = Vec::new();
        for (stage, column) in &entered {
            let Some(target) = mapping.stage(stage) else {
                continue;
            };
            match row.parse(Some(*column), |t| dates.time(t)) {
                Ok(Some(at)) => snapshots.push(Snapshot {
                    at,
                    // Made the deal's owner when the deal is read.
                    by: UserId::from_uuid(uuid::Uuid::nil()),
                    stage: target.clone(),
                    amount: None,
                    close_date: None,
                    category: None,
                }),
                Ok(None) => {}
                Err(mut issue) => {
                    issue.reason = format!(
                        "expected {}; the deal is imported without this stage entry",
                        issue.reason
                    );
                    issues.push(issue);
                }
            }
        }
        (snapshots, Vec::new())
    })?;
    Ok(reader.out)
}

struct Files {
    owners: Table,
    companies: Table,
    deals: Table,
    contacts: Option<Table>,
    notices: Vec<String>,
}

impl Files {
    fn open(path: &Path) -> Result<Self, ImportError> {
        let mut folder = Folder::new(path);
        Ok(Self {
            owners: folder.required(OWNERS, "deals and companies name their owners by owner id")?,
            companies: folder.required(COMPANIES, "every deal belongs to a company")?,
            deals: folder.required(DEALS, "it holds the deals")?,
            contacts: folder.optional(CONTACTS, "no contacts imported")?,
            notices: folder.notices,
        })
    }
}

/// The stage ids deals are in or have entered, with how many deals use each.
fn stages(deals: &Table) -> Result<Seen, FileError> {
    let [stage] = deals.require(["dealstage"])?;
    let entered: Vec<(&str, Column)> = deals.columns_with_prefix(ENTERED).collect();
    let mut seen = Seen::default();
    let mut ignored = Vec::new();
    deals.rows(&mut ignored, |row, _| {
        if let Some(id) = row.text(stage) {
            seen.add(id);
        }
        for (id, column) in &entered {
            if row.text(*column).is_some() && row.text(stage) != Some(*id) {
                seen.add(id);
            }
        }
    })?;
    Ok(seen)
}

/// A HubSpot record id: digits.
pub fn hubspot_id(text: &str) -> Result<String, String> {
    let text = text.trim();
    if !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err("a HubSpot record id of digits".to_owned())
    }
}

/// `hs_manual_forecast_category` as HubSpot writes it.
fn forecast_category(text: &str) -> Result<ForecastCategory, String> {
    match text.trim().to_ascii_uppercase().as_str() {
        "PIPELINE" => Ok(ForecastCategory::Pipeline),
        "BEST_CASE" => Ok(ForecastCategory::BestCase),
        "COMMIT" => Ok(ForecastCategory::Commit),
        "CLOSED" => Ok(ForecastCategory::Closed),
        "OMIT" => Ok(ForecastCategory::Omitted),
        _ => Err("PIPELINE, BEST_CASE, COMMIT, CLOSED or OMIT".into()),
    }
}
