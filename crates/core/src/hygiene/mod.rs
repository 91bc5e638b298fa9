//! Hygiene: rules that find records a forecast cannot trust (no next step, stale close date,
//! single-threaded late-stage deal, duplicate accounts…), and scores per deal, owner and
//! team for completeness, consistency and recency.
//!
//! Pure: the caller gathers the records and one pass over the event log ([`StageHistory`]);
//! [`inspect`] returns the findings and scores.

mod history;
mod rules;
mod scores;
#[cfg(test)]
mod tests;

pub use history::{MIN_VISITS_FOR_P75, StageHistory};
pub use rules::{HygieneRules, Rule, RuleId, Severity};
pub use scores::{GroupScore, RecordScore};

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::crm::{Account, BuyingRole, Contact, LastActivity};
use crate::evidence::Engagement;
use crate::ids::UserId;
use crate::opportunity::{Opportunity, Status};
use crate::org::{Team, User};
use crate::process::{DealField, ForecastCategory, Process, ProcessSet};

text_enum! {
    pub enum RecordKind {
        Opportunity = "opportunity",
        Account = "account",
        Contact = "contact",
    }
}

/// One problem with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub record_kind: RecordKind,
    pub record_id: String,
    pub record_name: String,
    pub owner_id: Option<UserId>,
    /// What exactly is wrong with this record.
    pub detail: String,
    pub fix: String,
}

/// Everything hygiene looks at, as of one day.
pub struct Inspection<'a> {
    pub as_of: NaiveDate,
    pub processes: &'a ProcessSet,
    pub rules: &'a HygieneRules,
    pub history: &'a StageHistory,
    pub opportunities: &'a [Opportunity],
    pub last_activity: &'a LastActivity,
    pub accounts: &'a [Account],
    pub contacts: &'a [Contact],
    pub users: &'a [User],
    pub teams: &'a [Team],
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub as_of: NaiveDate,
    pub findings: Vec<Finding>,
    /// One per open deal.
    pub deals: Vec<RecordScore>,
    pub accounts: Vec<RecordScore>,
    pub contacts: Vec<RecordScore>,
    pub owners: Vec<GroupScore>,
    pub teams: Vec<GroupScore>,
    /// Settings that cannot apply, such as a `from_stage` naming a stage no process has.
    pub warnings: Vec<String>,
}

/// Runs every enabled rule and scores every open deal.
pub fn inspect(inspection: &Inspection<'_>) -> Report {
    let mut findings = Vec::new();
    let open = inspection
        .opportunities
        .iter()
        .filter(|o| o.status == Status::Open);
    for deal in open.clone() {
        let process = inspection.processes.process_of(&deal.process);
        deal_findings(inspection, process, deal, &mut findings);
    }
    duplicate_findings(inspection, &mut findings);
    let mut per_record: HashMap<(RecordKind, &str), usize> = HashMap::new();
    for f in &findings {
        *per_record
            .entry((f.record_kind, f.record_id.as_str()))
            .or_default() += 1;
    }
    let found = |kind, id: String| per_record.get(&(kind, id.as_str())).copied().unwrap_or(0);
    let deals: Vec<RecordScore> = open
        .map(|deal| {
            let process = inspection.processes.process_of(&deal.process);
            let found = found(RecordKind::Opportunity, deal.id.to_string());
            scores::deal(inspection, process, deal, found)
        })
        .collect();
    let domains = count_by(
        inspection
            .accounts
            .iter()
            .filter_map(|a| a.domain.as_ref())
            .map(|d| d.as_str()),
    );
    let emails = count_by(
        inspection
            .contacts
            .iter()
            .filter_map(|c| c.email.as_ref())
            .map(|e| e.as_str()),
    );
    let shared = |counts: &HashMap<&str, usize>, key: Option<&str>| {
        key.map(|k| counts.get(k).copied().unwrap_or(0) > 1)
    };
    let accounts = inspection
        .accounts
        .iter()
        .map(|a| {
            let shared = shared(&domains, a.domain.as_ref().map(|d| d.as_str()));
            scores::account(
                inspection,
                a,
                shared,
                found(RecordKind::Account, a.id.to_string()),
            )
        })
        .collect();
    let contacts = inspection
        .contacts
        .iter()
        .map(|c| {
            let shared = shared(&emails, c.email.as_ref().map(|e| e.as_str()));
            scores::contact(
                inspection,
                c,
                shared,
                found(RecordKind::Contact, c.id.to_string()),
            )
        })
        .collect();
    let (owners, teams) = scores::roll_up(inspection, &deals, &findings);
    Report {
        as_of: inspection.as_of,
        findings,
        deals,
        accounts,
        contacts,
        owners,
        teams,
        warnings: inspection.rules.unknown_stages(inspection.processes),
    }
}

fn deal_findings(
    inspection: &Inspection<'_>,
    process: &Process,
    deal: &Opportunity,
    findings: &mut Vec<Finding>,
) {
    let today = inspection.as_of;
    let rules = inspection.rules;
    let position = process.position(&deal.stage);
    let from_stage = |rule: &Rule| {
        rule.from_stage
            .get(&process.key)
            .and_then(|stage| process.position(stage))
            .is_some_and(|from| position >= Some(from))
    };
    let mut found = |id: RuleId, detail: String| {
        let rule = rules.get(id);
        if rule.enabled {
            findings.push(Finding {
                rule: id,
                severity: rule.severity,
                record_kind: RecordKind::Opportunity,
                record_id: deal.id.to_string(),
                record_name: deal.name.to_string(),
                owner_id: Some(deal.owner_id),
                detail,
                fix: rule.fix.clone(),
            });
        }
    };
    match &deal.next_step {
        None => found(RuleId::MissingNextStep, "no next step".into()),
        Some(next) if next.due < today => found(
            RuleId::NextStepOverdue,
            format!("\"{}\" was due {}", next.text, next.due),
        ),
        Some(_) => {}
    }
    if deal.close_date < today {
        found(
            RuleId::PastCloseDate,
            format!("expected to close {}, still open", deal.close_date),
        );
    }
    let quiet_days = rules.get(RuleId::NoRecentActivity).days.unwrap_or(14);
    let last = inspection
        .last_activity
        .opportunities
        .get(&deal.id)
        .copied()
        .unwrap_or(deal.created_at);
    let silent = (today - last.date_naive()).num_days();
    if silent > i64::from(quiet_days) {
        let detail = match inspection.last_activity.opportunities.get(&deal.id) {
            Some(at) => format!(
                "last call, e-mail or meeting {} ({silent} days ago)",
                at.date_naive()
            ),
            None => format!("no call, e-mail or meeting in the {silent} days since it was opened"),
        };
        found(RuleId::NoRecentActivity, detail);
    }
    if let (Some(days), Some(stage)) = (
        inspection.history.days_in_stage(deal.id),
        process.stage(&deal.stage),
    ) {
        let (limit, basis) = match inspection.history.p75_days(&process.key, &deal.stage) {
            Some((p75, visits)) if visits >= MIN_VISITS_FOR_P75 => {
                (p75, format!("P75 of {visits} completed visits"))
            }
            _ => (i64::from(stage.typical_days), "typical duration".to_owned()),
        };
        if days > limit {
            found(
                RuleId::StalledInStage,
                format!("{days} days in {}; {basis} is {limit} days", stage.name),
            );
        }
    }
    let amount_rule = rules.get(RuleId::AmountMissing);
    let amount_missing = amount_rule.enabled && from_stage(amount_rule) && deal.amount.is_none();
    if amount_missing {
        found(
            RuleId::AmountMissing,
            format!("no amount in stage `{}`", deal.stage),
        );
    }
    let category = deal.forecast_category(process);
    let redlines = &rules.get(RuleId::CommitWithoutRedlines).evidence;
    if category == ForecastCategory::Commit
        && !redlines
            .iter()
            .any(|item| deal.evidence.checklist.contains(item))
    {
        let items: Vec<&str> = redlines.iter().map(|i| i.as_str()).collect();
        found(
            RuleId::CommitWithoutRedlines,
            format!("in Commit with none of: {}", items.join(", ")),
        );
    }
    let people = deal.evidence.stakeholders.people();
    if from_stage(rules.get(RuleId::SingleThreaded)) && people < 2 {
        found(
            RuleId::SingleThreaded,
            format!(
                "{people} person on the stakeholder map in stage `{}`",
                deal.stage
            ),
        );
    }
    if from_stage(rules.get(RuleId::NoEconomicBuyer))
        && !deal
            .evidence
            .stakeholders
            .has(BuyingRole::EconomicBuyer, Engagement::Unengaged)
    {
        found(
            RuleId::NoEconomicBuyer,
            format!("no economic buyer mapped in stage `{}`", deal.stage),
        );
    }
    let pushes = inspection.history.pushes(deal.id);
    if pushes >= rules.get(RuleId::RepeatedPushes).pushes.unwrap_or(2) {
        found(
            RuleId::RepeatedPushes,
            format!("close date pushed {pushes} times this quarter"),
        );
    }
    if let (Some(o), Some(stage_category)) =
        (&deal.category_override, process.category_of(&deal.stage))
    {
        if rank(o.category) > rank(stage_category) {
            found(
                RuleId::OverrideInconsistent,
                format!(
                    "set to {} while stage `{}` is {}: \"{}\"",
                    o.category, deal.stage, stage_category, o.reason
                ),
            );
        }
    }
    // A missing amount already found by its own rule is not reported twice.
    let mut missing = missing_required_fields(process, deal);
    if amount_missing {
        missing.retain(|f| *f != DealField::Amount);
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|f| f.as_str()).collect();
        found(
            RuleId::RequiredFieldsMissing,
            format!("stage `{}` requires: {}", deal.stage, names.join(", ")),
        );
    }
}

fn count_by<'a>(keys: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    let mut counts = HashMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    counts
}

/// How far a category is towards closing; Omitted ranks lowest.
fn rank(category: ForecastCategory) -> u8 {
    match category {
        ForecastCategory::Omitted => 0,
        ForecastCategory::Pipeline => 1,
        ForecastCategory::BestCase => 2,
        ForecastCategory::Commit => 3,
        ForecastCategory::Closed => 4,
    }
}

/// Fields required by the deal's stage or any stage before it that are empty.
fn missing_required_fields(process: &Process, deal: &Opportunity) -> Vec<DealField> {
    let mut missing = required_fields(process, deal);
    missing.retain(|f| !f.is_set(deal));
    missing
}

/// The fields the deal's stage or an earlier one requires, each once, in stage order.
fn required_fields(process: &Process, deal: &Opportunity) -> Vec<DealField> {
    let upto = process.position(&deal.stage).map_or(0, |p| p + 1);
    let mut fields: Vec<DealField> = Vec::new();
    for stage in &process.stages()[..upto] {
        for field in &stage.required_fields {
            if !fields.contains(field) {
                fields.push(*field);
            }
        }
    }
    fields
}

fn duplicate_findings(inspection: &Inspection<'_>, findings: &mut Vec<Finding>) {
    let rules = inspection.rules;
    if rules.get(RuleId::DuplicateAccount).enabled {
        let mut by_domain: BTreeMap<&str, Vec<&Account>> = BTreeMap::new();
        for account in inspection.accounts {
            if let Some(domain) = &account.domain {
                by_domain.entry(domain.as_str()).or_default().push(account);
            }
        }
        let rule = rules.get(RuleId::DuplicateAccount);
        for (domain, accounts) in by_domain.into_iter().filter(|(_, a)| a.len() > 1) {
            for account in &accounts {
                let others: Vec<String> = accounts
                    .iter()
                    .filter(|a| a.id != account.id)
                    .map(|a| a.name.to_string())
                    .collect();
                findings.push(Finding {
                    rule: RuleId::DuplicateAccount,
                    severity: rule.severity,
                    record_kind: RecordKind::Account,
                    record_id: account.id.to_string(),
                    record_name: account.name.to_string(),
                    owner_id: account.owner_id,
                    detail: format!("{domain} is also the domain of {}", others.join(", ")),
                    fix: rule.fix.clone(),
                });
            }
        }
    }
    if rules.get(RuleId::DuplicateContact).enabled {
        let mut by_email: BTreeMap<&str, Vec<&Contact>> = BTreeMap::new();
        for contact in inspection.contacts {
            if let Some(email) = &contact.email {
                by_email.entry(email.as_str()).or_default().push(contact);
            }
        }
        let rule = rules.get(RuleId::DuplicateContact);
        for (email, contacts) in by_email.into_iter().filter(|(_, c)| c.len() > 1) {
            for contact in &contacts {
                findings.push(Finding {
                    rule: RuleId::DuplicateContact,
                    severity: rule.severity,
                    record_kind: RecordKind::Contact,
                    record_id: contact.id.to_string(),
                    record_name: contact.name.to_string(),
                    owner_id: None,
                    detail: format!("{email} belongs to {} contacts", contacts.len()),
                    fix: rule.fix.clone(),
                });
            }
        }
    }
}
