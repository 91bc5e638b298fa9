//! What the deal model reads of a deal besides its stage history: its calls, e-mails and
//! meetings, who on the buyer's side is engaged, and how its qualification gates stand.
//!
//! Kept per deal as a chain of dated signals, appended as evidence events and activities
//! arrive in any order, and read at any moment from the signals dated at or before it, so the
//! model learns only from what was known then.

use pipewise_core::crm::BuyingRole;
use pipewise_core::evidence::{
    Engagement, Evidence, EvidenceChange, Gate, GateDecision, Stakeholder,
};
use pipewise_core::ids::ContactId;

use smallvec::SmallVec;

use super::END;

/// One dated fact about a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// A call, e-mail or meeting, with the contact it reached if one was named.
    Touch { contact: Option<u32> },
    /// A contact put on the stakeholder map in a role, or moved to another engagement in it.
    Mapped {
        contact: u32,
        role: u8,
        engaged: bool,
    },
    /// A contact taken off the stakeholder map in every role.
    Unmapped { contact: u32 },
    /// A decision at a gate.
    Gate { gate: u8, passed: bool },
}

/// A short tag for a contact: the low bits of its id, which are random. Two contacts of one
/// deal sharing a tag would count as one buyer, a negligible and harmless error.
fn tag(contact: ContactId) -> u32 {
    contact.as_uuid().as_u128() as u32
}

/// How a deal stood with its buyers at a moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct BuyerSignals {
    /// Distinct buyer contacts reached by a call, e-mail or meeting, or engaged (or
    /// advocating) on the stakeholder map.
    pub contacts: u32,
    /// When the latest call, e-mail or meeting took place, in microseconds since 1970.
    pub last_touch: Option<i64>,
    /// Gates whose latest decision is a fail or a pause.
    pub gates_open: u32,
}

/// Every deal's signals: one chain per deal, in the order they arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Signals {
    at: Vec<i64>,
    next: Vec<u32>,
    signal: Vec<Signal>,
    /// Per deal, its first and latest signal, or `END`.
    first: Vec<u32>,
    last: Vec<u32>,
}

impl Signals {
    /// Makes room for the next deal.
    pub(super) fn add_deal(&mut self) {
        self.first.push(END);
        self.last.push(END);
    }

    /// Notes a call, e-mail or meeting on `deal`.
    pub(super) fn touch(&mut self, deal: usize, at: i64, contact: Option<ContactId>) {
        self.push(
            deal,
            at,
            Signal::Touch {
                contact: contact.map(tag),
            },
        );
    }

    /// Notes the stakeholders and gate decisions a deal was opened with.
    pub(super) fn opening(&mut self, deal: usize, at: i64, evidence: &Evidence) {
        for stakeholder in evidence.stakeholders.stakeholders() {
            self.push(deal, at, mapped(stakeholder));
        }
        for (gate, decision) in &evidence.gates {
            self.push(deal, at, decided(*gate, decision));
        }
    }

    /// Notes the part of an evidence change the model reads: stakeholders and gates.
    pub(super) fn evidence(&mut self, deal: usize, at: i64, change: &EvidenceChange) {
        let signal = match change {
            EvidenceChange::StakeholderSet(s) => mapped(s),
            EvidenceChange::StakeholderRemoved { contact_id } => Signal::Unmapped {
                contact: tag(*contact_id),
            },
            EvidenceChange::GateDecided { gate, decision } => decided(*gate, decision),
            _ => return,
        };
        self.push(deal, at, signal);
    }

    fn push(&mut self, deal: usize, at: i64, signal: Signal) {
        let index = u32::try_from(self.at.len()).unwrap_or(END);
        self.at.push(at);
        self.next.push(END);
        self.signal.push(signal);
        match self.last[deal] {
            END => self.first[deal] = index,
            last => self.next[last as usize] = index,
        }
        self.last[deal] = index;
    }

    /// How `deal` stood with its buyers at `at`: after the signals dated at or before it,
    /// its evidence taken in the order it was recorded.
    pub(super) fn at(&self, deal: usize, at: i64) -> BuyerSignals {
        // Read for millions of deal-moments, so kept on the stack for all but rare deals.
        let mut reached: SmallVec<[u32; 16]> = SmallVec::new();
        // (contact, role, engaged)
        let mut map: SmallVec<[(u32, u8, bool); 16]> = SmallVec::new();
        let mut gates = [None::<bool>; Gate::ALL.len()];
        let mut last_touch = None;
        let mut i = self.first[deal];
        while i != END {
            let s = i as usize;
            i = self.next[s];
            if self.at[s] > at {
                continue;
            }
            match self.signal[s] {
                Signal::Touch { contact } => {
                    last_touch = last_touch.max(Some(self.at[s]));
                    if let Some(c) = contact.filter(|c| !reached.contains(c)) {
                        reached.push(c);
                    }
                }
                Signal::Mapped {
                    contact,
                    role,
                    engaged,
                } => match map.iter_mut().find(|(c, r, _)| *c == contact && *r == role) {
                    Some(entry) => entry.2 = engaged,
                    None => map.push((contact, role, engaged)),
                },
                Signal::Unmapped { contact } => map.retain(|(c, _, _)| *c != contact),
                Signal::Gate { gate, passed } => {
                    if let Some(g) = gates.get_mut(gate as usize) {
                        *g = Some(passed);
                    }
                }
            }
        }
        for (contact, _, engaged) in map {
            if engaged && !reached.contains(&contact) {
                reached.push(contact);
            }
        }
        BuyerSignals {
            contacts: u32::try_from(reached.len()).unwrap_or(u32::MAX),
            last_touch,
            gates_open: gates.iter().filter(|g| **g == Some(false)).count() as u32,
        }
    }
}

fn mapped(stakeholder: &Stakeholder) -> Signal {
    Signal::Mapped {
        contact: tag(stakeholder.contact_id),
        role: code(BuyingRole::ALL, stakeholder.role),
        engaged: stakeholder.engagement >= Engagement::Engaged,
    }
}

fn decided(gate: Gate, decision: &GateDecision) -> Signal {
    Signal::Gate {
        gate: code(Gate::ALL, gate),
        passed: decision.passed(),
    }
}

/// The position of `value` among `all`: a small code for an enum value.
fn code<T: PartialEq>(all: &[T], value: T) -> u8 {
    all.iter()
        .position(|v| *v == value)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use pipewise_core::text::Note;

    use super::*;

    fn contact(n: u8) -> ContactId {
        ContactId::from_parts(1, [n; 10])
    }

    fn mapped(n: u8, role: BuyingRole, engagement: Engagement) -> EvidenceChange {
        EvidenceChange::StakeholderSet(Stakeholder {
            contact_id: contact(n),
            role,
            engagement,
        })
    }

    fn gate(gate: Gate, passed: bool) -> EvidenceChange {
        let note = Note::parse("Workshop with the CFO").unwrap();
        EvidenceChange::GateDecided {
            gate,
            decision: if passed {
                GateDecision::Pass { next_step: note }
            } else {
                GateDecision::Fail { remedy: note }
            },
        }
    }

    #[test]
    fn a_deal_is_read_as_it_stood_at_the_moment() {
        let mut signals = Signals::default();
        signals.add_deal();
        // Day 1: a call with contact 1; day 2: contact 2 mapped as engaged champion, contact
        // 3 as aware; day 3: the problem gate fails; day 5: an e-mail with contact 1 again,
        // then contact 2 taken off the map; day 6 the gate passes. Arrival order is not time
        // order: activities come after evidence.
        signals.evidence(0, 2, &mapped(2, BuyingRole::Champion, Engagement::Engaged));
        signals.evidence(0, 2, &mapped(3, BuyingRole::Influencer, Engagement::Aware));
        signals.evidence(0, 3, &gate(Gate::ProblemImpact, false));
        signals.evidence(
            0,
            5,
            &EvidenceChange::StakeholderRemoved {
                contact_id: contact(2),
            },
        );
        signals.evidence(0, 6, &gate(Gate::ProblemImpact, true));
        signals.touch(0, 1, Some(contact(1)));
        signals.touch(0, 5, Some(contact(1)));
        signals.touch(0, 4, None);

        assert_eq!(signals.at(0, 0), BuyerSignals::default());
        // (contacts, last touch, gates open) on a day.
        let day = |d| {
            let read = signals.at(0, d);
            (read.contacts, read.last_touch, read.gates_open)
        };
        assert_eq!(day(1), (1, Some(1), 0));
        assert_eq!(day(2), (2, Some(1), 0));
        assert_eq!(day(4), (2, Some(4), 1));
        assert_eq!(day(5), (1, Some(5), 1));
        assert_eq!(day(6).2, 0);
    }

    #[test]
    fn the_evidence_a_deal_opens_with_counts_from_its_opening() {
        let mut signals = Signals::default();
        signals.add_deal();
        let evidence = Evidence::default()
            .with(&mapped(4, BuyingRole::Champion, Engagement::Advocate))
            .and_then(|e| e.with(&gate(Gate::FitAccess, false)))
            .unwrap();
        signals.opening(0, 10, &evidence);
        let opened = signals.at(0, 10);
        assert_eq!((opened.contacts, opened.gates_open), (1, 1));
        assert_eq!(opened.last_touch, None);
        assert_eq!(signals.at(0, 9), BuyerSignals::default());
    }

    #[test]
    fn one_person_in_two_roles_counts_once_and_stays_while_engaged_in_either() {
        let mut signals = Signals::default();
        signals.add_deal();
        signals.add_deal();
        signals.evidence(
            1,
            1,
            &mapped(7, BuyingRole::EconomicBuyer, Engagement::Engaged),
        );
        signals.evidence(
            1,
            1,
            &mapped(7, BuyingRole::DecisionMaker, Engagement::Advocate),
        );
        signals.touch(1, 1, Some(contact(7)));
        assert_eq!(signals.at(1, 1).contacts, 1);
        signals.evidence(
            1,
            2,
            &mapped(7, BuyingRole::EconomicBuyer, Engagement::Aware),
        );
        assert_eq!(signals.at(1, 2).contacts, 1);
        // The other deal has nothing.
        assert_eq!(signals.at(0, 2), BuyerSignals::default());
    }
}
