//! Workspaces, the people in them, and the sales hierarchy.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::RepVisibility;
use crate::calendar::FiscalCalendar;
use crate::ids::{TeamId, UserId, WorkspaceId};
use crate::money::Currency;
use crate::text::{Email, Name, Slug};

/// A tenant: one company's sales organisation with its own data, process and calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub slug: Slug,
    pub name: Name,
    /// Currency every report converts amounts into.
    pub corporate_currency: Currency,
    pub fiscal_calendar: FiscalCalendar,
    /// Whether reps read their team's deals or only their own.
    pub rep_visibility: RepVisibility,
    pub created_at: DateTime<Utc>,
}

text_enum! {
    /// What a user may see and do.
    pub enum Role {
        /// Configures the workspace; sees and edits everything.
        Admin = "admin",
        /// Leads reps; sees and edits the subtree of people reporting to them.
        Manager = "manager",
        /// Works their own deals.
        Rep = "rep",
        /// Reads only.
        Viewer = "viewer",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct User {
    pub id: UserId,
    pub name: Name,
    pub email: Email,
    pub role: Role,
    /// The person this user reports to; following these links forms the sales hierarchy.
    pub manager_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub created_at: DateTime<Utc>,
}

/// A group of sellers working one segment or territory. Who manages whom is given by users'
/// manager links, not by teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Team {
    pub id: TeamId,
    pub name: Name,
    pub created_at: DateTime<Utc>,
}

/// Who reports to whom, built from users' manager links.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    reports: HashMap<UserId, Vec<UserId>>,
}

/// A manager link that makes someone their own (indirect) manager.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user {0} is their own manager through the chain of manager links")]
pub struct ManagementCycle(pub UserId);

impl Hierarchy {
    pub fn new(users: &[User]) -> Result<Self, ManagementCycle> {
        let mut reports: HashMap<UserId, Vec<UserId>> = HashMap::new();
        for user in users {
            if let Some(manager) = user.manager_id {
                reports.entry(manager).or_default().push(user.id);
            }
        }
        let hierarchy = Self { reports };
        let managers: HashMap<UserId, UserId> = users
            .iter()
            .filter_map(|u| u.manager_id.map(|m| (u.id, m)))
            .collect();
        for user in users {
            let mut seen = HashSet::from([user.id]);
            let mut current = user.id;
            while let Some(&manager) = managers.get(&current) {
                if !seen.insert(manager) {
                    return Err(ManagementCycle(user.id));
                }
                current = manager;
            }
        }
        Ok(hierarchy)
    }

    /// `manager` and everyone who reports to them, directly or indirectly.
    pub fn subtree(&self, manager: UserId) -> Vec<UserId> {
        let mut members = vec![manager];
        let mut next = 0;
        while let Some(&current) = members.get(next) {
            if let Some(direct) = self.reports.get(&current) {
                members.extend(direct);
            }
            next += 1;
        }
        members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u8, manager: Option<u8>) -> User {
        let id_of = |n: u8| UserId::from_parts(u64::from(n), [n; 10]);
        User {
            id: id_of(id),
            name: Name::parse(&format!("User {id}")).unwrap(),
            email: Email::parse(&format!("u{id}@example.com")).unwrap(),
            role: Role::Rep,
            manager_id: manager.map(id_of),
            team_id: None,
            created_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn subtree_follows_manager_links_through_three_levels() {
        // 1 is the VP; 2 and 3 are managers; 4, 5 report to 2 and 6 to 3.
        let users = [
            user(1, None),
            user(2, Some(1)),
            user(3, Some(1)),
            user(4, Some(2)),
            user(5, Some(2)),
            user(6, Some(3)),
        ];
        let hierarchy = Hierarchy::new(&users).unwrap();
        let ids = |members: Vec<UserId>| {
            let mut v: Vec<u8> = members.iter().map(|m| m.as_uuid().as_bytes()[15]).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(ids(hierarchy.subtree(users[0].id)), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(ids(hierarchy.subtree(users[1].id)), vec![2, 4, 5]);
        assert_eq!(ids(hierarchy.subtree(users[5].id)), vec![6]);
    }

    #[test]
    fn cycles_are_refused() {
        let users = [user(1, Some(3)), user(2, Some(1)), user(3, Some(2))];
        assert!(Hierarchy::new(&users).is_err());
    }

    #[test]
    fn roles_parse_from_their_words() {
        assert_eq!("Manager".parse::<Role>().unwrap(), Role::Manager);
        let error = "boss".parse::<Role>().unwrap_err();
        assert_eq!(error.expected(), "one of admin, manager, rep, viewer");
    }
}
