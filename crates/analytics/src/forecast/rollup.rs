//! The roll-up of calls through the sales hierarchy: each person's own number (their wins
//! and the deals their call includes), the cumulative number of their subtree, and the
//! number that stands after adjustments.
//!
//! A person's forecast is their latest adjustment if a manager (or they, as a manager) set
//! one; else their cumulative number: their own plus the forecast of each direct report. So
//! an adjustment replaces everything beneath it in every roll-up above it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use pipewise_core::ids::UserId;
use serde::Serialize;

/// A person's own deals in the period, as their call counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Own {
    /// Closed won, corporate minor units.
    pub won: i64,
    /// Open deals the call includes.
    pub included: i64,
    /// Open Commit and Best Case deals the call leaves out.
    pub upside: i64,
}

/// The number that replaces a person's roll-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Adjusted {
    pub amount: i64,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One person's line of the roll-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PersonCall {
    pub user_id: UserId,
    pub name: String,
    pub manager_id: Option<UserId>,
    /// 0 at the top of the hierarchy.
    pub depth: usize,
    /// Closed won on the person's own deals.
    pub won: i64,
    /// Own: closed won plus the own deals the call includes.
    pub single: i64,
    /// Own plus each direct report's forecast.
    pub cumulative: i64,
    pub adjustment: Option<Adjusted>,
    /// The adjustment if any, else the cumulative number.
    pub forecast: i64,
    /// Own Commit and Best Case deals the call leaves out.
    pub upside: i64,
    /// When the person's call standing now was submitted; `None`: the categories stand.
    pub called_at: Option<DateTime<Utc>>,
}

/// What the roll-up reads.
pub struct Hierarchy<'a> {
    pub names: &'a HashMap<UserId, String>,
    pub managers: &'a HashMap<UserId, UserId>,
}

/// The roll-up of everyone with a deal, a call or an adjustment and of every manager above
/// them, each manager followed by their reports (by name), depth first.
pub fn roll_up(
    hierarchy: &Hierarchy,
    own: &HashMap<UserId, Own>,
    adjustments: &HashMap<UserId, Adjusted>,
    called_at: &HashMap<UserId, DateTime<Utc>>,
) -> Vec<PersonCall> {
    // Everyone with deals, a call or an adjustment, and every manager above them.
    let mut people: Vec<UserId> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for u in own.keys().chain(adjustments.keys()).chain(called_at.keys()) {
        let mut at = Some(*u);
        while let Some(person) = at.filter(|p| seen.insert(*p)) {
            people.push(person);
            at = hierarchy.managers.get(&person).copied();
        }
    }
    people.sort_unstable();
    let name = |u: &UserId| {
        hierarchy
            .names
            .get(u)
            .cloned()
            .unwrap_or_else(|| u.to_string())
    };
    let known: std::collections::HashSet<UserId> = people.iter().copied().collect();
    // A manager link to someone unknown, or one that loops, ends the chain there.
    let manager = |u: &UserId| {
        hierarchy
            .managers
            .get(u)
            .filter(|m| known.contains(m))
            .copied()
    };
    let depth = |u: &UserId| {
        let mut at = *u;
        let mut depth = 0;
        while let Some(m) = manager(&at) {
            depth += 1;
            at = m;
            if depth > people.len() {
                break;
            }
        }
        depth
    };
    let mut lines: HashMap<UserId, PersonCall> = people
        .iter()
        .map(|u| {
            let mine = own.get(u).copied().unwrap_or_default();
            let single = mine.won + mine.included;
            let line = PersonCall {
                user_id: *u,
                name: name(u),
                manager_id: manager(u),
                depth: depth(u),
                won: mine.won,
                single,
                cumulative: single,
                adjustment: adjustments.get(u).cloned(),
                forecast: single,
                upside: mine.upside,
                called_at: called_at.get(u).copied(),
            };
            (*u, line)
        })
        .collect();
    // Deepest first, so every report's forecast is final before their manager adds it.
    let mut order = people.clone();
    order.sort_by_key(|u| std::cmp::Reverse(lines[u].depth));
    for u in &order {
        let line = &lines[u];
        let forecast = line
            .adjustment
            .as_ref()
            .map_or(line.cumulative, |a| a.amount);
        let up = line.manager_id;
        if let Some(line) = lines.get_mut(u) {
            line.forecast = forecast;
        }
        if let Some(m) = up.and_then(|m| lines.get_mut(&m)) {
            m.cumulative += forecast;
        }
    }
    // Managers followed by their reports, by name.
    let mut children: HashMap<Option<UserId>, Vec<UserId>> = HashMap::new();
    for u in &people {
        children.entry(lines[u].manager_id).or_default().push(*u);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| lines[a].name.cmp(&lines[b].name));
    }
    let mut ordered = Vec::with_capacity(people.len());
    let mut stack: Vec<UserId> = children.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(u) = stack.pop() {
        if let Some(line) = lines.remove(&u) {
            ordered.push(line);
            if let Some(reports) = children.get(&Some(u)) {
                stack.extend(reports.iter().rev());
            }
        }
    }
    // People caught in a loop of manager links are never reached from the top: list them
    // at the end rather than lose them.
    let mut rest: Vec<PersonCall> = lines.into_values().collect();
    rest.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
    ordered.extend(rest);
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u8) -> UserId {
        UserId::from_parts(1, [n; 10])
    }

    fn adjusted(amount: i64) -> Adjusted {
        Adjusted {
            amount,
            note: "Judgment".to_owned(),
            by: "Vera".to_owned(),
            at: "2026-11-20T10:00:00Z".parse().unwrap(),
        }
    }

    /// Vera (VP) ← Mona ← Rita, Raul; Vera ← Max ← Rob. Max has a deal of his own.
    fn org() -> (
        HashMap<UserId, String>,
        HashMap<UserId, UserId>,
        HashMap<UserId, Own>,
    ) {
        let names = [
            (1, "Vera"),
            (2, "Mona"),
            (3, "Max"),
            (4, "Rita"),
            (5, "Raul"),
            (6, "Rob"),
        ]
        .into_iter()
        .map(|(n, name)| (person(n), name.to_owned()))
        .collect();
        let managers = [(2, 1), (3, 1), (4, 2), (5, 2), (6, 3)]
            .into_iter()
            .map(|(u, m)| (person(u), person(m)))
            .collect();
        let own = [
            (4, 10, 20, 7), // Rita: won 10, calls 20 more, 7 left out
            (5, 0, 15, 0),  // Raul
            (6, 25, 15, 3), // Rob
            (3, 5, 0, 0),   // Max's own win
        ]
        .into_iter()
        .map(|(u, won, included, upside)| {
            (
                person(u),
                Own {
                    won,
                    included,
                    upside,
                },
            )
        })
        .collect();
        (names, managers, own)
    }

    fn numbers(lines: &[PersonCall]) -> Vec<(&str, usize, i64, i64, i64)> {
        lines
            .iter()
            .map(|l| (l.name.as_str(), l.depth, l.single, l.cumulative, l.forecast))
            .collect()
    }

    #[test]
    fn calls_roll_up_through_three_levels() {
        let (names, managers, own) = org();
        let hierarchy = Hierarchy {
            names: &names,
            managers: &managers,
        };
        let lines = roll_up(&hierarchy, &own, &HashMap::new(), &HashMap::new());
        assert_eq!(
            numbers(&lines),
            [
                ("Vera", 0, 0, 90, 90),
                ("Max", 1, 5, 45, 45),
                ("Rob", 2, 40, 40, 40),
                ("Mona", 1, 0, 45, 45),
                ("Raul", 2, 15, 15, 15),
                ("Rita", 2, 30, 30, 30),
            ]
        );
        assert_eq!(lines[5].upside, 7);
    }

    #[test]
    fn an_adjustment_replaces_the_roll_up_beneath_it_in_every_level_above() {
        let (names, managers, own) = org();
        let hierarchy = Hierarchy {
            names: &names,
            managers: &managers,
        };
        // Mona puts Raul at 25; Vera puts Max's whole team at 30.
        let adjustments = HashMap::from([(person(5), adjusted(25)), (person(3), adjusted(30))]);
        let lines = roll_up(&hierarchy, &own, &adjustments, &HashMap::new());
        assert_eq!(
            numbers(&lines),
            [
                ("Vera", 0, 0, 85, 85),
                ("Max", 1, 5, 45, 30),
                ("Rob", 2, 40, 40, 40),
                ("Mona", 1, 0, 55, 55),
                ("Raul", 2, 15, 15, 25),
                ("Rita", 2, 30, 30, 30),
            ]
        );
        // Vera adjusting herself sets the company number, whatever is beneath.
        let adjustments = HashMap::from([(person(1), adjusted(120))]);
        let lines = roll_up(&hierarchy, &own, &adjustments, &HashMap::new());
        assert_eq!((lines[0].cumulative, lines[0].forecast), (90, 120));
    }

    #[test]
    fn looping_manager_links_end_and_lose_no_one() {
        let names = HashMap::from([(person(1), "A".to_owned()), (person(2), "B".to_owned())]);
        let managers = HashMap::from([(person(1), person(2)), (person(2), person(1))]);
        let own = HashMap::from([(
            person(1),
            Own {
                won: 1,
                included: 0,
                upside: 0,
            },
        )]);
        let hierarchy = Hierarchy {
            names: &names,
            managers: &managers,
        };
        let lines = roll_up(&hierarchy, &own, &HashMap::new(), &HashMap::new());
        assert_eq!(lines.len(), 2);
    }
}
