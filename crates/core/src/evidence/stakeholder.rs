//! The stakeholder map: who in the buying group plays which part, and how engaged they are.

use serde::{Deserialize, Serialize};

use crate::crm::BuyingRole;
use crate::ids::ContactId;

text_enum! {
    /// How engaged a stakeholder is, from least to most.
    pub enum Engagement {
        /// Not yet met.
        Unengaged = "unengaged",
        /// Knows about the project.
        Aware = "aware",
        /// Takes part in meetings and answers questions.
        Engaged = "engaged",
        /// Argues for us internally.
        Advocate = "advocate",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Stakeholder {
    pub contact_id: ContactId,
    pub role: BuyingRole,
    pub engagement: Engagement,
}

/// Who plays which role; a person appears once per role they play.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct StakeholderMap(Vec<Stakeholder>);

impl StakeholderMap {
    pub fn stakeholders(&self) -> &[Stakeholder] {
        &self.0
    }

    /// Whether someone plays `role` at `engagement` or above.
    pub fn has(&self, role: BuyingRole, engagement: Engagement) -> bool {
        self.0
            .iter()
            .any(|s| s.role == role && s.engagement >= engagement)
    }

    /// Distinct people mapped: one means the deal is single-threaded.
    pub fn people(&self) -> usize {
        let mut ids: Vec<ContactId> = self.0.iter().map(|s| s.contact_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// Adds the contact in the role, or updates their engagement in it. One person may play
    /// several roles: in a small company the owner decides, pays and signs.
    pub(crate) fn set(&mut self, stakeholder: Stakeholder) {
        match self
            .0
            .iter_mut()
            .find(|s| s.contact_id == stakeholder.contact_id && s.role == stakeholder.role)
        {
            Some(existing) => *existing = stakeholder,
            None => self.0.push(stakeholder),
        }
    }

    /// Takes the contact off the map in every role.
    pub(crate) fn remove(&mut self, contact_id: ContactId) {
        self.0.retain(|s| s.contact_id != contact_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_can_play_several_roles_and_counts_once() {
        let owner = ContactId::from_parts(1, [1; 10]);
        let cfo = ContactId::from_parts(1, [2; 10]);
        let mut map = StakeholderMap::default();
        let set = |map: &mut StakeholderMap, contact_id, role, engagement| {
            map.set(Stakeholder {
                contact_id,
                role,
                engagement,
            })
        };
        set(
            &mut map,
            owner,
            BuyingRole::DecisionMaker,
            Engagement::Engaged,
        );
        set(&mut map, owner, BuyingRole::Signer, Engagement::Aware);
        assert_eq!(map.people(), 1, "single-threaded");
        assert!(map.has(BuyingRole::Signer, Engagement::Aware));
        assert!(!map.has(BuyingRole::Signer, Engagement::Engaged));
        set(&mut map, owner, BuyingRole::Signer, Engagement::Advocate);
        assert!(map.has(BuyingRole::Signer, Engagement::Engaged));
        set(
            &mut map,
            cfo,
            BuyingRole::EconomicBuyer,
            Engagement::Engaged,
        );
        assert_eq!((map.people(), map.stakeholders().len()), (2, 3));
        map.remove(owner);
        assert_eq!(map.people(), 1);
        assert!(!map.has(BuyingRole::DecisionMaker, Engagement::Unengaged));
    }
}
