//! Hygiene scores: per open deal, account and contact, completeness (share of the fields it
//! should have that it has), consistency (share of the applicable checks it passes) and
//! recency (days since its last meaningful update); per owner and team, their deals'
//! averages and the findings against them.

use std::collections::BTreeMap;

use serde::Serialize;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Finding, Inspection, RecordKind, Severity, rank, required_fields};
use crate::crm::{Account, Contact};
use crate::ids::UserId;
use crate::opportunity::Opportunity;
use crate::process::{DealContext, DealField, Process};

/// Fields every open deal should have, whatever its stage.
const MINIMUM_FIELDS: [DealField; 4] = [
    DealField::Amount,
    DealField::NextStep,
    DealField::Source,
    DealField::Segment,
];

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RecordScore {
    pub record_kind: RecordKind,
    pub record_id: String,
    pub name: String,
    pub owner_id: Option<UserId>,
    /// Percent of the fields it should have that are filled. Deals: amount, next step,
    /// source, segment and the fields their stage (or an earlier one) requires. Accounts:
    /// domain, industry, employee band, region, segment, tier, owner. Contacts: e-mail,
    /// title, buying role.
    pub completeness: f64,
    /// Percent of applicable checks passed. Deals: close date not past, next step not
    /// overdue, forecast override not above the stage, the stage's entry criteria still hold.
    /// Accounts and contacts: domain or e-mail not shared with another record.
    pub consistency: f64,
    /// Days since the latest call, e-mail or meeting, or the latest change to a deal; for
    /// accounts and contacts never contacted, since they were created.
    pub recency_days: i64,
    pub findings: usize,
}

/// Scores of an owner's or a team's open deals.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GroupScore {
    pub id: String,
    pub name: String,
    pub open_deals: usize,
    /// Mean of the deals' completeness.
    pub completeness: f64,
    /// Mean of the deals' consistency.
    pub consistency: f64,
    /// Median of the deals' recency (lower middle for an even count).
    pub recency_days: i64,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

pub(super) fn deal(
    inspection: &Inspection<'_>,
    process: &Process,
    deal: &Opportunity,
    findings: usize,
) -> RecordScore {
    let today = inspection.as_of;
    let mut expected: Vec<DealField> = MINIMUM_FIELDS.to_vec();
    for field in required_fields(process, deal) {
        if !expected.contains(&field) {
            expected.push(field);
        }
    }
    let missing = expected.iter().filter(|f| !f.is_set(deal)).count();
    let completeness = percent(expected.len() - missing, expected.len());

    let mut checks: Vec<bool> = vec![deal.close_date >= today];
    if let Some(next) = &deal.next_step {
        checks.push(next.due >= today);
    }
    if let (Some(o), Some(stage)) = (&deal.category_override, process.category_of(&deal.stage)) {
        checks.push(rank(o.category) <= rank(stage));
    }
    if let Some(stage) = process.stage(&deal.stage) {
        let ctx = DealContext { deal, today };
        checks.push(process.unmet(&stage.entry, ctx).is_empty());
    }
    let consistency = percent(checks.iter().filter(|ok| **ok).count(), checks.len());

    let last_activity = inspection
        .last_activity
        .opportunities
        .get(&deal.id)
        .copied();
    let last = last_activity.map_or(deal.updated_at, |a| a.max(deal.updated_at));
    RecordScore {
        record_kind: RecordKind::Opportunity,
        record_id: deal.id.to_string(),
        name: deal.name.to_string(),
        owner_id: Some(deal.owner_id),
        completeness,
        consistency,
        recency_days: days_since(today, last),
        findings,
    }
}

/// `shared` tells whether the account's domain is another account's too (`None` without one).
pub(super) fn account(
    inspection: &Inspection<'_>,
    account: &Account,
    shared: Option<bool>,
    findings: usize,
) -> RecordScore {
    let filled = [
        account.domain.is_some(),
        account.industry.is_some(),
        account.employee_band.is_some(),
        account.region.is_some(),
        account.segment.is_some(),
        account.tier.is_some(),
        account.owner_id.is_some(),
    ];
    let last = inspection.last_activity.accounts.get(&account.id).copied();
    RecordScore {
        record_kind: RecordKind::Account,
        record_id: account.id.to_string(),
        name: account.name.to_string(),
        owner_id: account.owner_id,
        completeness: percent(filled.iter().filter(|f| **f).count(), filled.len()),
        consistency: percent(
            usize::from(shared == Some(false)),
            usize::from(shared.is_some()),
        ),
        recency_days: days_since(inspection.as_of, last.unwrap_or(account.created_at)),
        findings,
    }
}

/// `shared` tells whether the contact's e-mail is another contact's too (`None` without one).
pub(super) fn contact(
    inspection: &Inspection<'_>,
    contact: &Contact,
    shared: Option<bool>,
    findings: usize,
) -> RecordScore {
    let filled = [
        contact.email.is_some(),
        contact.title.is_some(),
        contact.buying_role.is_some(),
    ];
    let last = inspection.last_activity.contacts.get(&contact.id).copied();
    RecordScore {
        record_kind: RecordKind::Contact,
        record_id: contact.id.to_string(),
        name: contact.name.to_string(),
        owner_id: None,
        completeness: percent(filled.iter().filter(|f| **f).count(), filled.len()),
        consistency: percent(
            usize::from(shared == Some(false)),
            usize::from(shared.is_some()),
        ),
        recency_days: days_since(inspection.as_of, last.unwrap_or(contact.created_at)),
        findings,
    }
}

fn days_since(today: NaiveDate, at: DateTime<Utc>) -> i64 {
    (today - at.date_naive()).num_days().max(0)
}

/// Per owner and per team (an owner's team), in name order.
pub(super) fn roll_up(
    inspection: &Inspection<'_>,
    records: &[RecordScore],
    findings: &[Finding],
) -> (Vec<GroupScore>, Vec<GroupScore>) {
    let users: BTreeMap<UserId, &crate::org::User> =
        inspection.users.iter().map(|u| (u.id, u)).collect();
    let team_of = |owner: UserId| users.get(&owner).and_then(|u| u.team_id);
    let mut owners: BTreeMap<String, (String, Vec<&RecordScore>, Vec<&Finding>)> = BTreeMap::new();
    let mut teams: BTreeMap<String, (String, Vec<&RecordScore>, Vec<&Finding>)> = BTreeMap::new();
    let user_name = |id: UserId| {
        users
            .get(&id)
            .map_or_else(|| id.to_string(), |u| u.name.to_string())
    };
    let team_name = |id: crate::ids::TeamId| {
        inspection
            .teams
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.name.to_string())
    };
    // Deals always have an owner.
    for (owner, record) in records.iter().filter_map(|r| Some((r.owner_id?, r))) {
        owners
            .entry(owner.to_string())
            .or_insert_with(|| (user_name(owner), Vec::new(), Vec::new()))
            .1
            .push(record);
        if let Some(team) = team_of(owner) {
            teams
                .entry(team.to_string())
                .or_insert_with(|| (team_name(team), Vec::new(), Vec::new()))
                .1
                .push(record);
        }
    }
    for finding in findings {
        let Some(owner) = finding.owner_id else {
            continue;
        };
        if let Some(entry) = owners.get_mut(&owner.to_string()) {
            entry.2.push(finding);
        }
        if let Some(entry) = team_of(owner).and_then(|t| teams.get_mut(&t.to_string())) {
            entry.2.push(finding);
        }
    }
    let finish = |groups: BTreeMap<String, (String, Vec<&RecordScore>, Vec<&Finding>)>| {
        let mut scores: Vec<GroupScore> = groups
            .into_iter()
            .map(|(id, (name, records, findings))| group(id, name, &records, &findings))
            .collect();
        scores.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        scores
    };
    (finish(owners), finish(teams))
}

fn group(id: String, name: String, records: &[&RecordScore], findings: &[&Finding]) -> GroupScore {
    let n = records.len();
    let mean = |f: fn(&RecordScore) -> f64| {
        if n == 0 {
            100.0
        } else {
            round1(records.iter().map(|r| f(r)).sum::<f64>() / n as f64)
        }
    };
    let mut recency: Vec<i64> = records.iter().map(|r| r.recency_days).collect();
    recency.sort_unstable();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    GroupScore {
        id,
        name,
        open_deals: n,
        completeness: mean(|r| r.completeness),
        consistency: mean(|r| r.consistency),
        recency_days: recency.get(n.saturating_sub(1) / 2).copied().unwrap_or(0),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        round1(part as f64 * 100.0 / whole as f64)
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
