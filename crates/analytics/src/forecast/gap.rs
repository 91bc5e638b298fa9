//! Bottom-up against top-down, per rep and per team: the call (closed won plus the deals it
//! includes) against what the team's history says the same pipeline brings (closed won plus
//! each category's open amount at the category's historical conversion). A call well under
//! history's number may be sandbagging; well over it, happy ears. Only a submitted call is a
//! judgment to flag: a rep who has not called (the categories stand), or a team with such a
//! rep, shows the gap unflagged.

use std::collections::{BTreeMap, HashMap};

use pipewise_core::ids::UserId;
use pipewise_core::process::ForecastCategory;
use serde::Serialize;

/// A call this far under the top-down number is flagged as possible sandbagging; this far
/// over it, as happy ears.
pub const FLAG_AT: f64 = 0.2;

/// One rep's or team's pipeline in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pipeline {
    pub won: i64,
    /// Open deals the call includes.
    pub included: i64,
    /// Open amounts by category.
    pub open: BTreeMap<ForecastCategory, i64>,
    /// The rep (every rep, for a team) has submitted a call.
    pub called: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Sandbagging,
    HappyEars,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Gap {
    /// `rep` or `team`.
    pub level: &'static str,
    pub name: String,
    /// Closed won plus the deals the call includes.
    pub bottom_up: i64,
    /// Closed won plus each category's open amount at its historical conversion.
    pub top_down: i64,
    /// bottom_up − top_down.
    pub gap: i64,
    /// bottom_up / top_down.
    pub ratio: Option<f64>,
    /// Whether the call is a submitted judgment (else the categories stand, unflagged).
    pub called: bool,
    pub flag: Option<Flag>,
}

fn gap(
    level: &'static str,
    name: String,
    pipeline: &Pipeline,
    rates: &HashMap<ForecastCategory, f64>,
) -> Gap {
    let weighed: f64 = pipeline
        .open
        .iter()
        .map(|(category, amount)| *amount as f64 * rates.get(category).copied().unwrap_or(0.0))
        .sum();
    let top_down = pipeline.won + weighed.round() as i64;
    let bottom_up = pipeline.won + pipeline.included;
    let ratio = (top_down > 0).then(|| bottom_up as f64 / top_down as f64);
    let flag = ratio.filter(|_| pipeline.called).and_then(|r| {
        if r <= 1.0 - FLAG_AT {
            Some(Flag::Sandbagging)
        } else if r >= 1.0 + FLAG_AT {
            Some(Flag::HappyEars)
        } else {
            None
        }
    });
    Gap {
        level,
        name,
        bottom_up,
        top_down,
        gap: bottom_up - top_down,
        ratio,
        called: pipeline.called,
        flag,
    }
}

/// The gap of every rep with a pipeline, then of every team (its members' pipelines added
/// up), each by name. `rates` are the categories' historical conversions.
pub fn gaps(
    pipelines: &HashMap<UserId, Pipeline>,
    rates: &HashMap<ForecastCategory, f64>,
    names: &HashMap<UserId, String>,
    teams: &HashMap<UserId, String>,
) -> Vec<Gap> {
    let name = |u: &UserId| names.get(u).cloned().unwrap_or_else(|| u.to_string());
    let mut by_name: Vec<(UserId, Gap)> = pipelines
        .iter()
        .map(|(u, p)| (*u, gap("rep", name(u), p, rates)))
        .collect();
    // Reps who share a name by id, so the list reads the same run after run.
    by_name.sort_by(|a, b| a.1.name.cmp(&b.1.name).then(a.0.cmp(&b.0)));
    let mut reps: Vec<Gap> = by_name.into_iter().map(|(_, gap)| gap).collect();
    let mut by_team: BTreeMap<&String, Pipeline> = BTreeMap::new();
    for (u, p) in pipelines {
        let Some(team) = teams.get(u) else {
            continue;
        };
        let total = by_team.entry(team).or_insert_with(|| Pipeline {
            called: true,
            ..Pipeline::default()
        });
        total.called &= p.called;
        total.won += p.won;
        total.included += p.included;
        for (category, amount) in &p.open {
            *total.open.entry(*category).or_default() += amount;
        }
    }
    reps.extend(
        by_team
            .into_iter()
            .map(|(team, p)| gap("team", team.clone(), &p, rates)),
    );
    reps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u8) -> UserId {
        UserId::from_parts(1, [n; 10])
    }

    fn pipeline(won: i64, included: i64, open: [i64; 3]) -> Pipeline {
        Pipeline {
            won,
            included,
            called: true,
            open: BTreeMap::from([
                (ForecastCategory::Commit, open[0]),
                (ForecastCategory::BestCase, open[1]),
                (ForecastCategory::Pipeline, open[2]),
            ]),
        }
    }

    #[test]
    fn calls_far_from_history_are_flagged_both_ways() {
        let rates = HashMap::from([
            (ForecastCategory::Commit, 0.9),
            (ForecastCategory::BestCase, 0.5),
            (ForecastCategory::Pipeline, 0.2),
        ]);
        // Ana calls her Commit deal: 110 against 10 + 90 + 25 = 125 (0.88: no flag).
        // Ben calls a Best Case deal he alone believes in: 200 against 100 (happy ears).
        // Cy calls nothing of 100 Commit, 100 Best Case, 100 Pipeline: 0 against 160.
        let pipelines = HashMap::from([
            (person(1), pipeline(10, 100, [100, 50, 0])),
            (person(2), pipeline(0, 200, [0, 200, 0])),
            (person(3), pipeline(0, 0, [100, 100, 100])),
        ]);
        let names = HashMap::from([
            (person(1), "Ana".to_owned()),
            (person(2), "Ben".to_owned()),
            (person(3), "Cy".to_owned()),
        ]);
        let teams = HashMap::from([
            (person(1), "East".to_owned()),
            (person(2), "East".to_owned()),
            (person(3), "West".to_owned()),
        ]);
        let gaps = gaps(&pipelines, &rates, &names, &teams);
        let seen: Vec<(&str, &str, i64, i64, Option<Flag>)> = gaps
            .iter()
            .map(|g| (g.level, g.name.as_str(), g.bottom_up, g.top_down, g.flag))
            .collect();
        assert_eq!(
            seen,
            [
                ("rep", "Ana", 110, 125, None),
                ("rep", "Ben", 200, 100, Some(Flag::HappyEars)),
                ("rep", "Cy", 0, 160, Some(Flag::Sandbagging)),
                // East: 310 against 225 (1.38).
                ("team", "East", 310, 225, Some(Flag::HappyEars)),
                ("team", "West", 0, 160, Some(Flag::Sandbagging)),
            ]
        );
        assert_eq!(gaps[0].gap, -15);

        // Without Cy's call, the categories stand for him: the gap shows, unflagged, and so
        // for his team.
        let mut uncalled = pipelines.clone();
        if let Some(cy) = uncalled.get_mut(&person(3)) {
            cy.called = false;
        }
        let gaps = super::gaps(&uncalled, &rates, &names, &teams);
        let cy: Vec<(&str, i64, Option<Flag>)> = gaps
            .iter()
            .filter(|g| g.name == "Cy" || g.name == "West")
            .map(|g| (g.name.as_str(), g.gap, g.flag))
            .collect();
        assert_eq!(cy, [("Cy", -160, None), ("West", -160, None)]);
    }

    #[test]
    fn reps_who_share_a_name_are_listed_by_id() {
        // Eight reps called Ben Sato, rep n having won n: the map's order is arbitrary, the
        // list's is not.
        let pipelines: HashMap<UserId, Pipeline> = (1..=8)
            .map(|n| (person(n), pipeline(i64::from(n), 0, [0, 0, 0])))
            .collect();
        let names = (1..=8)
            .map(|n| (person(n), "Ben Sato".to_owned()))
            .collect();
        let gaps = gaps(&pipelines, &HashMap::new(), &names, &HashMap::new());
        let won: Vec<i64> = gaps.iter().map(|g| g.bottom_up).collect();
        assert_eq!(won, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
