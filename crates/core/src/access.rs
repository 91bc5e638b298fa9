//! Who may read and change what. Roles give the reach over records (by their owner) and the
//! sensitive actions; the HTTP API asks these rules before every read and write.
//!
//! | role    | reads                         | edits             | sensitive actions                 |
//! |---------|-------------------------------|-------------------|-----------------------------------|
//! | admin   | everything                    | everything        | all                               |
//! | manager | their subtree                 | their subtree     | owner, closing, reopening, category override |
//! | rep     | their own (and team's, if set) | their own        | closing                           |
//! | viewer  | everything                    | nothing           | none                              |
//!
//! Records without an owner (an unowned account, a lead in the queue) may be changed by any
//! writer, and taken by them; giving a record to someone else is changing its owner.

use std::collections::HashSet;

use crate::ids::UserId;
use crate::opportunity::Command;
use crate::org::{Hierarchy, Role, User};

text_enum! {
    /// Which deals a rep may read besides their own.
    pub enum RepVisibility {
        /// Only their own.
        Own = "own",
        /// Also those of everyone on their team.
        Team = "team",
    }
}

/// A change only some roles may make, whoever owns the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Giving a deal to another owner.
    ChangeOwner,
    /// Closing a deal won or lost.
    Close,
    /// Reopening a closed deal, which rewrites its won or lost history.
    Reopen,
    /// Setting or removing a forecast category by hand.
    OverrideCategory,
    /// Setting quotas and plan numbers.
    SetQuotas,
    /// Applying new process definitions.
    EditProcess,
    /// Adding people, setting roles and other people's passwords.
    ManageUsers,
    /// Changing workspace settings, such as what reps may read.
    ConfigureWorkspace,
}

impl Action {
    /// What the action is, for messages: "a rep cannot {describe}".
    pub fn describe(self) -> &'static str {
        match self {
            Action::ChangeOwner => "give a record to someone else",
            Action::Close => "close a deal",
            Action::Reopen => "reopen a closed deal",
            Action::OverrideCategory => "override a forecast category",
            Action::SetQuotas => "set quotas",
            Action::EditProcess => "change the sales process",
            Action::ManageUsers => "manage users",
            Action::ConfigureWorkspace => "change workspace settings",
        }
    }

    /// The roles allowed to take the action (on records they may edit).
    pub fn allowed(self) -> &'static [Role] {
        match self {
            Action::Close => &[Role::Admin, Role::Manager, Role::Rep],
            Action::ChangeOwner | Action::Reopen | Action::OverrideCategory => {
                &[Role::Admin, Role::Manager]
            }
            Action::SetQuotas
            | Action::EditProcess
            | Action::ManageUsers
            | Action::ConfigureWorkspace => &[Role::Admin],
        }
    }
}

/// Why a request was refused, in words for the person who made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("a {role} cannot {}; ask {}", .action.describe(), allowed_words(*.action))]
    Action { role: Role, action: Action },
    #[error("a viewer cannot change anything")]
    ReadOnly,
    #[error("this record belongs to someone outside what a {role} may edit")]
    NotYours { role: Role },
    #[error("a {role} cannot give a record to someone outside what they may edit")]
    OwnerOutOfReach { role: Role },
}

fn allowed_words(action: Action) -> String {
    let roles: Vec<&str> = action.allowed().iter().map(Role::as_str).collect();
    let vowel = roles
        .first()
        .is_some_and(|r| r.starts_with(['a', 'e', 'i', 'o', 'u']));
    format!("{} {}", if vowel { "an" } else { "a" }, roles.join(" or "))
}

/// The owners whose records someone reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    Everyone,
    Owners(HashSet<UserId>),
    Nobody,
}

impl Reach {
    fn contains(&self, owner: UserId) -> bool {
        match self {
            Reach::Everyone => true,
            Reach::Owners(owners) => owners.contains(&owner),
            Reach::Nobody => false,
        }
    }
}

/// What one person may read and change in their workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    user: UserId,
    role: Role,
    reads: Reach,
    edits: Reach,
}

impl Access {
    /// `user`'s access among `users` (their workspace's people), whose manager links form
    /// `hierarchy`.
    pub fn new(
        user: &User,
        users: &[User],
        hierarchy: &Hierarchy,
        reps_see: RepVisibility,
    ) -> Self {
        let own = || Reach::Owners(HashSet::from([user.id]));
        let (reads, edits) = match user.role {
            Role::Admin => (Reach::Everyone, Reach::Everyone),
            Role::Viewer => (Reach::Everyone, Reach::Nobody),
            Role::Manager => {
                let subtree: HashSet<UserId> = hierarchy.subtree(user.id).into_iter().collect();
                (Reach::Owners(subtree.clone()), Reach::Owners(subtree))
            }
            Role::Rep => {
                let reads = match (reps_see, user.team_id) {
                    (RepVisibility::Team, Some(team)) => Reach::Owners(
                        users
                            .iter()
                            .filter(|u| u.team_id == Some(team))
                            .map(|u| u.id)
                            .chain([user.id])
                            .collect(),
                    ),
                    _ => own(),
                };
                (reads, own())
            }
        };
        Self {
            user: user.id,
            role: user.role,
            reads,
            edits,
        }
    }

    pub fn user_id(&self) -> UserId {
        self.user
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether records owned by `owner` are visible.
    pub fn can_read(&self, owner: UserId) -> bool {
        self.reads.contains(owner)
    }

    /// The owners whose records are visible, in no order; `None` when all are.
    pub fn readable_owners(&self) -> Option<Vec<UserId>> {
        match &self.reads {
            Reach::Everyone => None,
            Reach::Owners(owners) => Some(owners.iter().copied().collect()),
            Reach::Nobody => Some(Vec::new()),
        }
    }

    /// The owners a list holds when it asks for `asked`'s records (or everyone's, `None`):
    /// those of them the caller reads; `None` when that is everyone.
    pub fn owners_within_reach(&self, asked: Option<UserId>) -> Option<Vec<UserId>> {
        match asked {
            Some(owner) if self.can_read(owner) => Some(vec![owner]),
            Some(_) => Some(Vec::new()),
            None => self.readable_owners(),
        }
    }

    /// Checks that records owned by `owner` may be changed.
    pub fn check_edit(&self, owner: UserId) -> Result<(), Denied> {
        match &self.edits {
            Reach::Nobody => Err(Denied::ReadOnly),
            reach if reach.contains(owner) => Ok(()),
            _ => Err(Denied::NotYours { role: self.role }),
        }
    }

    /// Checks that the caller may change anything at all: everyone but viewers.
    pub fn check_writer(&self) -> Result<(), Denied> {
        match self.edits {
            Reach::Nobody => Err(Denied::ReadOnly),
            _ => Ok(()),
        }
    }

    /// Checks that the role may take `action` at all.
    pub fn check_action(&self, action: Action) -> Result<(), Denied> {
        if self.edits == Reach::Nobody {
            return Err(Denied::ReadOnly);
        }
        if action.allowed().contains(&self.role) {
            Ok(())
        } else {
            Err(Denied::Action {
                role: self.role,
                action,
            })
        }
    }

    /// Checks a write to a record owned by `owner` that leaves it owned by `new_owner`
    /// (accounts, leads, activities; `None` is nobody's: any writer may change it, so a lead
    /// in the queue can be taken). The record must be editable; giving it to someone else,
    /// or back to nobody, is changing its owner, which takes the role and a new owner within
    /// reach. Taking a record for oneself is not.
    pub fn check_record_write(
        &self,
        owner: Option<UserId>,
        new_owner: Option<UserId>,
    ) -> Result<(), Denied> {
        match owner {
            Some(owner) => self.check_edit(owner)?,
            None => self.check_writer()?,
        }
        if new_owner == owner || new_owner == Some(self.user) {
            return Ok(());
        }
        self.check_action(Action::ChangeOwner)?;
        match new_owner {
            Some(new_owner) if !self.edits.contains(new_owner) => {
                Err(Denied::OwnerOutOfReach { role: self.role })
            }
            _ => Ok(()),
        }
    }

    /// Checks `command` on a deal owned by `owner`: the deal must be editable, the command's
    /// action allowed to the role, and a new owner within reach.
    pub fn check_command(&self, owner: UserId, command: &Command) -> Result<(), Denied> {
        self.check_edit(owner)?;
        if let Some(action) = sensitive_action(command) {
            self.check_action(action)?;
        }
        if let Command::ChangeOwner(new_owner) = command {
            if !self.edits.contains(*new_owner) {
                return Err(Denied::OwnerOutOfReach { role: self.role });
            }
        }
        Ok(())
    }
}

/// The restricted action a command takes, if any.
fn sensitive_action(command: &Command) -> Option<Action> {
    match command {
        Command::ChangeOwner(_) => Some(Action::ChangeOwner),
        Command::CloseWon { .. } | Command::CloseLost { .. } => Some(Action::Close),
        Command::Reopen { .. } => Some(Action::Reopen),
        Command::OverrideCategory { .. } => Some(Action::OverrideCategory),
        Command::MoveStage { .. }
        | Command::ChangeAmount(_)
        | Command::ChangeCloseDate(_)
        | Command::ChangeField(_)
        | Command::RecordEvidence(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};

    use super::*;
    use crate::ids::TeamId;
    use crate::text::{Email, Name};

    fn id(n: u8) -> UserId {
        UserId::from_parts(u64::from(n), [n; 10])
    }

    fn person(n: u8, role: Role, manager: Option<u8>, team: Option<u8>) -> User {
        User {
            id: id(n),
            name: Name::parse(&format!("Person {n}")).unwrap(),
            email: Email::parse(&format!("p{n}@example.com")).unwrap(),
            role,
            manager_id: manager.map(id),
            team_id: team.map(|t| TeamId::from_parts(u64::from(t), [t; 10])),
            created_at: DateTime::UNIX_EPOCH,
        }
    }

    /// 1 admin; 2 manages 3 and 4 (team 1); 5 manages 6 (team 2); 7 is a viewer.
    fn people() -> Vec<User> {
        vec![
            person(1, Role::Admin, None, None),
            person(2, Role::Manager, None, Some(1)),
            person(3, Role::Rep, Some(2), Some(1)),
            person(4, Role::Rep, Some(2), Some(1)),
            person(5, Role::Manager, None, Some(2)),
            person(6, Role::Rep, Some(5), Some(2)),
            person(7, Role::Viewer, None, None),
        ]
    }

    fn access(n: u8, reps_see: RepVisibility) -> Access {
        let users = people();
        let hierarchy = Hierarchy::new(&users).unwrap();
        let user = users.iter().find(|u| u.id == id(n)).unwrap();
        Access::new(user, &users, &hierarchy, reps_see)
    }

    fn readable(access: &Access) -> Vec<u8> {
        (1..=7).filter(|&n| access.can_read(id(n))).collect()
    }

    fn editable(access: &Access) -> Vec<u8> {
        (1..=7)
            .filter(|&n| access.check_edit(id(n)).is_ok())
            .collect()
    }

    #[test]
    fn each_role_reads_and_edits_its_reach() {
        let team = RepVisibility::Team;
        assert_eq!(readable(&access(1, team)), vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(editable(&access(1, team)), vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(readable(&access(2, team)), vec![2, 3, 4]);
        assert_eq!(editable(&access(2, team)), vec![2, 3, 4]);
        assert_eq!(readable(&access(3, team)), vec![2, 3, 4]);
        assert_eq!(editable(&access(3, team)), vec![3]);
        assert_eq!(readable(&access(3, RepVisibility::Own)), vec![3]);
        // A list of one owner's records holds them only within reach.
        let rep = access(3, RepVisibility::Own);
        assert_eq!(rep.owners_within_reach(Some(id(3))), Some(vec![id(3)]));
        assert_eq!(rep.owners_within_reach(Some(id(4))), Some(vec![]));
        assert_eq!(rep.owners_within_reach(None), Some(vec![id(3)]));
        assert_eq!(access(7, team).owners_within_reach(None), None);
        assert_eq!(readable(&access(7, team)), vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(editable(&access(7, team)), Vec::<u8>::new());
        assert_eq!(access(7, team).check_edit(id(3)), Err(Denied::ReadOnly));
    }

    #[test]
    fn sensitive_commands_need_an_allowed_role() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let rep = access(3, RepVisibility::Team);
        let manager = access(2, RepVisibility::Team);
        let close = Command::CloseWon { on: day };
        assert_eq!(rep.check_command(id(3), &close), Ok(()));
        assert_eq!(
            rep.check_command(id(3), &Command::ChangeOwner(id(4))),
            Err(Denied::Action {
                role: Role::Rep,
                action: Action::ChangeOwner
            })
        );
        assert_eq!(
            rep.check_command(id(4), &close),
            Err(Denied::NotYours { role: Role::Rep })
        );
        assert_eq!(
            manager.check_command(id(3), &Command::ChangeOwner(id(4))),
            Ok(())
        );
        assert_eq!(
            manager.check_command(id(3), &Command::ChangeOwner(id(6))),
            Err(Denied::OwnerOutOfReach {
                role: Role::Manager
            })
        );
        assert_eq!(
            manager.check_action(Action::EditProcess),
            Err(Denied::Action {
                role: Role::Manager,
                action: Action::EditProcess
            })
        );
    }

    #[test]
    fn records_are_taken_freely_and_given_only_by_those_who_change_owners() {
        let rep = access(3, RepVisibility::Team);
        let manager = access(2, RepVisibility::Team);
        let viewer = access(7, RepVisibility::Team);
        // A rep takes a lead from the queue, edits their own, and keeps it.
        assert_eq!(rep.check_record_write(None, Some(id(3))), Ok(()));
        assert_eq!(rep.check_record_write(Some(id(3)), Some(id(3))), Ok(()));
        assert_eq!(rep.check_record_write(None, None), Ok(()));
        // But gives nothing away, not even back to the queue, and edits no teammate's.
        let give = Err(Denied::Action {
            role: Role::Rep,
            action: Action::ChangeOwner,
        });
        assert_eq!(rep.check_record_write(Some(id(3)), Some(id(4))), give);
        assert_eq!(rep.check_record_write(Some(id(3)), None), give);
        assert_eq!(
            rep.check_record_write(Some(id(4)), Some(id(4))),
            Err(Denied::NotYours { role: Role::Rep })
        );
        // A manager hands records around their subtree only.
        assert_eq!(manager.check_record_write(None, Some(id(4))), Ok(()));
        assert_eq!(manager.check_record_write(Some(id(3)), None), Ok(()));
        assert_eq!(
            manager.check_record_write(Some(id(3)), Some(id(6))),
            Err(Denied::OwnerOutOfReach {
                role: Role::Manager
            })
        );
        assert_eq!(viewer.check_record_write(None, None), Err(Denied::ReadOnly));
    }

    #[test]
    fn refusals_say_who_may() {
        let refusal = Denied::Action {
            role: Role::Rep,
            action: Action::Reopen,
        };
        assert_eq!(
            refusal.to_string(),
            "a rep cannot reopen a closed deal; ask an admin or manager"
        );
        let refusal = Denied::Action {
            role: Role::Manager,
            action: Action::SetQuotas,
        };
        assert_eq!(
            refusal.to_string(),
            "a manager cannot set quotas; ask an admin"
        );
    }
}
