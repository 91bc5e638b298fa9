//! Hygiene scores: per open deal, completeness (share of the fields it should have that it
//! has), consistency (share of applicable checks it passes) and recency (days since its last
//! meaningful update); per owner and team, their averages and the findings against them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Finding, Inspection, Severity, rank};
use crate::ids::{OpportunityId, UserId};
use crate::opportunity::Opportunity;
use crate::process::{DealContext, DealField, Process};

/// Fields every open deal should have, whatever its stage.
const MINIMUM_FIELDS: [DealField; 4] = [
    DealField::Amount,
    DealField::NextStep,
    DealField::Source,
    DealField::Segment,
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordScore {
    pub opportunity_id: OpportunityId,
    pub name: String,
    pub owner_id: UserId,
    /// Percent of the minimum fields and the fields its stage requires that are filled.
    pub completeness: f64,
    /// Percent of applicable consistency checks passed: close date not past, next step not
    /// overdue, forecast override not above the stage, the stage's entry criteria still hold.
    pub consistency: f64,
    /// Days since the latest change or call, e-mail or meeting.
    pub recency_days: i64,
    pub findings: usize,
}

/// Scores of an owner's or a team's open deals.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

pub(super) fn score(
    inspection: &Inspection<'_>,
    process: &Process,
    deal: &Opportunity,
    findings: usize,
) -> RecordScore {
    let today = inspection.as_of;
    let mut expected: Vec<DealField> = MINIMUM_FIELDS.to_vec();
    let upto = process.position(&deal.stage).map_or(0, |p| p + 1);
    for stage in &process.stages()[..upto] {
        for field in &stage.required_fields {
            if !expected.contains(field) {
                expected.push(*field);
            }
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

    let last_activity = inspection.last_activity.get(&deal.id).copied();
    let last = last_activity.map_or(deal.updated_at, |a| a.max(deal.updated_at));
    RecordScore {
        opportunity_id: deal.id,
        name: deal.name.to_string(),
        owner_id: deal.owner_id,
        completeness,
        consistency,
        recency_days: (today - last.date_naive()).num_days().max(0),
        findings,
    }
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
    for record in records {
        owners
            .entry(record.owner_id.to_string())
            .or_insert_with(|| (user_name(record.owner_id), Vec::new(), Vec::new()))
            .1
            .push(record);
        if let Some(team) = team_of(record.owner_id) {
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
