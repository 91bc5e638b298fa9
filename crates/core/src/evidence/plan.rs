//! The mutual action plan: dated commitments on both sides that lead to a signature.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::keys::ItemKey;
use crate::text::{Name, Note};

text_enum! {
    /// Which side owns a milestone.
    pub enum Side {
        Buyer = "buyer",
        Seller = "seller",
    }
}

text_enum! {
    pub enum MilestoneStatus {
        Planned = "planned",
        Done = "done",
        Cancelled = "cancelled",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Milestone {
    pub key: ItemKey,
    pub title: Note,
    pub side: Side,
    /// The person who owns it, on the buyer's or the seller's side.
    pub owner: Name,
    pub due: NaiveDate,
    pub status: MilestoneStatus,
}

impl Milestone {
    /// Planned and due before `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status == MilestoneStatus::Planned && self.due < today
    }
}

/// The plan as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct MutualActionPlan(Vec<Milestone>);

impl MutualActionPlan {
    pub fn milestones(&self) -> &[Milestone] {
        &self.0
    }

    /// Agreed: it has live commitments on both sides, not just the seller's plan.
    pub fn is_agreed(&self) -> bool {
        let live = |side| {
            self.0
                .iter()
                .any(|m| m.side == side && m.status != MilestoneStatus::Cancelled)
        };
        live(Side::Buyer) && live(Side::Seller)
    }

    pub fn overdue(&self, today: NaiveDate) -> impl Iterator<Item = &Milestone> {
        self.0.iter().filter(move |m| m.is_overdue(today))
    }

    /// Agreed and with nothing overdue on `today`.
    pub fn is_on_track(&self, today: NaiveDate) -> bool {
        self.is_agreed() && self.overdue(today).next().is_none()
    }

    pub fn get(&self, key: &ItemKey) -> Option<&Milestone> {
        self.0.iter().find(|m| &m.key == key)
    }

    /// Adds the milestone, or replaces the one with its key.
    pub(crate) fn set(&mut self, milestone: Milestone) {
        match self.0.iter_mut().find(|m| m.key == milestone.key) {
            Some(existing) => *existing = milestone,
            None => self.0.push(milestone),
        }
    }

    pub(crate) fn remove(&mut self, key: &ItemKey) {
        self.0.retain(|m| &m.key != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milestone(key: &str, side: Side, due: &str, status: MilestoneStatus) -> Milestone {
        Milestone {
            key: key.parse().unwrap(),
            title: "Security review".parse().unwrap(),
            side,
            owner: "Dana Ortiz".parse().unwrap(),
            due: due.parse().unwrap(),
            status,
        }
    }

    #[test]
    fn a_plan_is_agreed_only_with_commitments_on_both_sides() {
        let today: NaiveDate = "2026-03-10".parse().unwrap();
        let mut plan = MutualActionPlan::default();
        plan.set(milestone(
            "proposal",
            Side::Seller,
            "2026-03-20",
            MilestoneStatus::Planned,
        ));
        assert!(!plan.is_agreed());
        plan.set(milestone(
            "security",
            Side::Buyer,
            "2026-03-05",
            MilestoneStatus::Planned,
        ));
        assert!(plan.is_agreed());
        // The buyer's security review was due on the 5th and is not done.
        assert!(!plan.is_on_track(today));
        assert_eq!(
            plan.overdue(today)
                .map(|m| m.key.as_str())
                .collect::<Vec<_>>(),
            ["security"]
        );
        plan.set(milestone(
            "security",
            Side::Buyer,
            "2026-03-05",
            MilestoneStatus::Done,
        ));
        assert!(plan.is_on_track(today));
        assert_eq!(plan.milestones().len(), 2);
        plan.set(milestone(
            "security",
            Side::Buyer,
            "2026-03-05",
            MilestoneStatus::Cancelled,
        ));
        assert!(!plan.is_agreed());
    }

    #[test]
    fn due_today_is_not_overdue() {
        let m = milestone("pilot", Side::Buyer, "2026-03-10", MilestoneStatus::Planned);
        assert!(!m.is_overdue("2026-03-10".parse().unwrap()));
        assert!(m.is_overdue("2026-03-11".parse().unwrap()));
    }
}
