//! Forecast snapshots: every number of a forecast frozen at a moment — each method's number,
//! each person's, each open deal as it stood — and what changed between two of them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::ids::{OpportunityId, SnapshotId, UserId};
use pipewise_core::process::{ForecastCategory, StageKey};
use serde::{Deserialize, Serialize};

use super::{ForecastReport, Method, MethodNumber};

/// The numbers of a forecast when the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Snapshot {
    pub period: String,
    pub as_of: NaiveDate,
    pub taken_at: DateTime<Utc>,
    pub currency: String,
    pub quota: Option<i64>,
    pub won: i64,
    pub methods: Vec<MethodNumber>,
    pub people: Vec<PersonNumber>,
    pub deals: Vec<DealAtSnapshot>,
}

/// A snapshot's headline numbers, without its people and deals: what a list of snapshots
/// shows, read without the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    pub id: SnapshotId,
    pub taken_at: DateTime<Utc>,
    pub won: i64,
    pub methods: Vec<MethodNumber>,
}

/// A snapshot with its id, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Listed {
    pub id: SnapshotId,
    #[serde(flatten)]
    pub snapshot: Snapshot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PersonNumber {
    pub user_id: UserId,
    pub name: String,
    pub forecast: i64,
}

/// An open deal due in the period, as it stood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DealAtSnapshot {
    pub opportunity_id: OpportunityId,
    pub owner: String,
    pub stage: StageKey,
    pub category: ForecastCategory,
    pub amount: i64,
    pub close_date: NaiveDate,
    pub in_call: bool,
    pub model_probability: Option<f64>,
}

impl Snapshot {
    pub fn of(report: &ForecastReport, taken_at: DateTime<Utc>) -> Self {
        Self {
            period: report.scope.period.clone(),
            as_of: report.scope.as_of,
            taken_at,
            currency: report.scope.currency.clone(),
            quota: report.quota,
            won: report.won.amount,
            methods: report.numbers(),
            people: report
                .people
                .iter()
                .map(|p| PersonNumber {
                    user_id: p.user_id,
                    name: p.name.clone(),
                    forecast: p.forecast,
                })
                .collect(),
            deals: report
                .deals
                .iter()
                .map(|d| DealAtSnapshot {
                    opportunity_id: d.opportunity_id,
                    owner: d.owner.clone(),
                    stage: d.stage.clone(),
                    category: d.category,
                    amount: d.amount,
                    close_date: d.close_date,
                    in_call: d.in_call,
                    model_probability: d.model_probability,
                })
                .collect(),
        }
    }
}

/// A number then and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Change {
    pub from: i64,
    pub to: i64,
    pub change: i64,
}

impl Change {
    fn new(from: i64, to: i64) -> Self {
        Self {
            from,
            to,
            change: to - from,
        }
    }
}

/// A method's number then and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MethodChange {
    pub method: Method,
    #[serde(flatten)]
    pub change: Change,
}

/// A person's number then and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PersonChange {
    pub name: String,
    #[serde(flatten)]
    pub change: Change,
}

/// How an open deal of the earlier snapshot changed by the later one.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DealChange {
    pub opportunity_id: OpportunityId,
    pub owner: String,
    /// `added`: open and due in the period only in the later snapshot; `removed`: only in the
    /// earlier (closed, or moved out of the period); `changed`: in both, differently.
    pub change: &'static str,
    pub from: Option<DealAtSnapshot>,
    pub to: Option<DealAtSnapshot>,
}

/// What moved between two snapshots of the same period.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    pub period: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub won: Change,
    pub methods: Vec<MethodChange>,
    pub people: Vec<PersonChange>,
    /// Added, removed and changed deals, largest amount first.
    pub deals: Vec<DealChange>,
}

/// Compares `earlier` with `later`.
pub fn compare(earlier: &Snapshot, later: &Snapshot) -> Comparison {
    let methods = later
        .methods
        .iter()
        .map(|to| {
            let from = earlier
                .methods
                .iter()
                .find(|m| m.method == to.method)
                .map_or(0, |m| m.forecast);
            MethodChange {
                method: to.method,
                change: Change::new(from, to.forecast),
            }
        })
        .collect();
    let before: HashMap<UserId, &PersonNumber> =
        earlier.people.iter().map(|p| (p.user_id, p)).collect();
    let mut people: Vec<PersonChange> = later
        .people
        .iter()
        .map(|p| PersonChange {
            name: p.name.clone(),
            change: Change::new(before.get(&p.user_id).map_or(0, |b| b.forecast), p.forecast),
        })
        .filter(|p| p.change.change != 0)
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let was: HashMap<OpportunityId, &DealAtSnapshot> = earlier
        .deals
        .iter()
        .map(|d| (d.opportunity_id, d))
        .collect();
    let is: HashMap<OpportunityId, &DealAtSnapshot> =
        later.deals.iter().map(|d| (d.opportunity_id, d)).collect();
    let mut deals: Vec<DealChange> = Vec::new();
    for d in &later.deals {
        match was.get(&d.opportunity_id) {
            None => deals.push(DealChange {
                opportunity_id: d.opportunity_id,
                owner: d.owner.clone(),
                change: "added",
                from: None,
                to: Some(d.clone()),
            }),
            Some(old) if differs(old, d) => deals.push(DealChange {
                opportunity_id: d.opportunity_id,
                owner: d.owner.clone(),
                change: "changed",
                from: Some((*old).clone()),
                to: Some(d.clone()),
            }),
            Some(_) => {}
        }
    }
    for d in earlier
        .deals
        .iter()
        .filter(|d| !is.contains_key(&d.opportunity_id))
    {
        deals.push(DealChange {
            opportunity_id: d.opportunity_id,
            owner: d.owner.clone(),
            change: "removed",
            from: Some(d.clone()),
            to: None,
        });
    }
    let size = |c: &DealChange| c.to.as_ref().or(c.from.as_ref()).map_or(0, |d| d.amount);
    deals.sort_by_key(|c| std::cmp::Reverse(size(c)));
    Comparison {
        period: later.period.clone(),
        from: earlier.taken_at,
        to: later.taken_at,
        won: Change::new(earlier.won, later.won),
        methods,
        people,
        deals,
    }
}

/// Whether anything a forecast reads changed (the model's probability aside: it moves with
/// time alone).
fn differs(a: &DealAtSnapshot, b: &DealAtSnapshot) -> bool {
    (&a.stage, a.category, a.amount, a.close_date, a.in_call)
        != (&b.stage, b.category, b.amount, b.close_date, b.in_call)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deal(n: u8, amount: i64, category: ForecastCategory) -> DealAtSnapshot {
        DealAtSnapshot {
            opportunity_id: OpportunityId::from_parts(1, [n; 10]),
            owner: "Rita".to_owned(),
            stage: StageKey::parse("negotiating").unwrap(),
            category,
            amount,
            close_date: "2026-12-15".parse().unwrap(),
            in_call: category == ForecastCategory::Commit,
            model_probability: Some(0.5),
        }
    }

    fn snapshot(day: &str, won: i64, call: i64, deals: Vec<DealAtSnapshot>) -> Snapshot {
        Snapshot {
            period: "2027-Q4".to_owned(),
            as_of: day.parse().unwrap(),
            taken_at: format!("{day}T06:00:00Z").parse().unwrap(),
            currency: "USD".to_owned(),
            quota: Some(1_000),
            won,
            methods: vec![
                MethodNumber {
                    method: Method::DealCall,
                    forecast: call,
                },
                MethodNumber {
                    method: Method::DealModel,
                    forecast: call / 2,
                },
            ],
            people: vec![PersonNumber {
                user_id: UserId::from_parts(1, [9; 10]),
                name: "Rita".to_owned(),
                forecast: call,
            }],
            deals,
        }
    }

    #[test]
    fn a_comparison_shows_what_moved_and_why() {
        let earlier = snapshot(
            "2026-11-16",
            100,
            400,
            vec![
                deal(1, 300, ForecastCategory::Commit),
                deal(2, 200, ForecastCategory::BestCase),
                deal(3, 50, ForecastCategory::Pipeline),
            ],
        );
        // Deal 1 was won (gone from the open deals), deal 2 moved to Commit and grew, deal 3
        // is unchanged but for its probability, deal 4 is new.
        let mut grown = deal(2, 250, ForecastCategory::Commit);
        grown.model_probability = Some(0.8);
        let mut same = deal(3, 50, ForecastCategory::Pipeline);
        same.model_probability = Some(0.1);
        let later = snapshot(
            "2026-11-23",
            400,
            650,
            vec![grown, same, deal(4, 80, ForecastCategory::BestCase)],
        );
        let c = compare(&earlier, &later);
        assert_eq!(
            c.won,
            Change {
                from: 100,
                to: 400,
                change: 300
            }
        );
        let change = |from, to| Change {
            from,
            to,
            change: to - from,
        };
        let methods: Vec<(Method, Change)> =
            c.methods.iter().map(|m| (m.method, m.change)).collect();
        assert_eq!(
            methods,
            [
                (Method::DealCall, change(400, 650)),
                (Method::DealModel, change(200, 325)),
            ]
        );
        assert_eq!(
            (c.people[0].name.as_str(), c.people[0].change),
            ("Rita", change(400, 650))
        );
        let moves: Vec<(&str, i64)> = c
            .deals
            .iter()
            .map(|d| (d.change, d.to.as_ref().or(d.from.as_ref()).unwrap().amount))
            .collect();
        assert_eq!(moves, [("removed", 300), ("changed", 250), ("added", 80)]);
    }
}
