//! The CRM records around opportunities: accounts, contacts, leads, activities and targets;
//! the fields a change may set (`edits`) and the audit trail of changes (`changes`).

pub mod changes;
pub mod edits;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{FiscalCalendar, Period};
use crate::ids::{
    AccountId, ActivityId, ContactId, LeadId, OpportunityId, TargetId, TeamId, UserId,
};
use crate::leads::lifecycle::{Disposition, Nurture};
use crate::leads::routing::RoutingIssue;
use crate::leads::scoring::LeadEvidence;
use crate::money::Money;
use crate::text::{Email, Label, Name, Phone, WebDomain};

text_enum! {
    /// Company size by head count.
    pub enum EmployeeBand {
        From1To10 = "1-10",
        From11To50 = "11-50",
        From51To200 = "51-200",
        From201To500 = "201-500",
        From501To1000 = "501-1000",
        From1001To5000 = "1001-5000",
        From5001To10000 = "5001-10000",
        Over10000 = "10001+",
    }
}

impl EmployeeBand {
    /// The band a head count falls in.
    pub const fn of_count(employees: u32) -> Self {
        match employees {
            0..=10 => Self::From1To10,
            11..=50 => Self::From11To50,
            51..=200 => Self::From51To200,
            201..=500 => Self::From201To500,
            501..=1000 => Self::From501To1000,
            1001..=5000 => Self::From1001To5000,
            5001..=10000 => Self::From5001To10000,
            _ => Self::Over10000,
        }
    }
}

text_enum! {
    /// How much account coverage a company gets: tier 1 is named, strategic coverage.
    pub enum Tier {
        Tier1 = "tier_1",
        Tier2 = "tier_2",
        Tier3 = "tier_3",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Account {
    pub id: AccountId,
    /// Starts at 1; every change adds 1. Send it back in `If-Match` to change the record.
    pub version: u32,
    pub name: Name,
    /// Normalised web domain; two accounts with the same domain are likely duplicates.
    pub domain: Option<WebDomain>,
    pub industry: Option<Label>,
    pub employee_band: Option<EmployeeBand>,
    pub region: Option<Label>,
    pub segment: Option<Label>,
    pub tier: Option<Tier>,
    pub owner_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

text_enum! {
    /// The part a person plays in the customer's buying decision.
    pub enum BuyingRole {
        EconomicBuyer = "economic_buyer",
        Champion = "champion",
        DecisionMaker = "decision_maker",
        Signer = "signer",
        Blocker = "blocker",
        Influencer = "influencer",
        Procurement = "procurement",
        Legal = "legal",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Contact {
    pub id: ContactId,
    /// Starts at 1; every change adds 1. Send it back in `If-Match` to change the record.
    pub version: u32,
    pub account_id: AccountId,
    pub name: Name,
    pub email: Option<Email>,
    pub title: Option<Label>,
    pub buying_role: Option<BuyingRole>,
    pub created_at: DateTime<Utc>,
}

text_enum! {
    /// Where a lead is on the way to becoming qualified pipeline.
    pub enum LeadStatus {
        New = "new",
        Working = "working",
        /// Marketing qualified.
        Mql = "mql",
        /// Sales qualified.
        Sql = "sql",
        /// Sales accepted: converted into an opportunity at the qualified stage.
        Sal = "sal",
        Disqualified = "disqualified",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Lead {
    pub id: LeadId,
    /// Starts at 1; every change adds 1. Send it back in `If-Match` to change the record.
    pub version: u32,
    pub name: Name,
    pub email: Option<Email>,
    pub company: Option<Name>,
    pub source: Option<Label>,
    pub status: LeadStatus,
    pub owner_id: Option<UserId>,
    pub account_id: Option<AccountId>,
    /// The opportunity the lead became when sales accepted it.
    pub opportunity_id: Option<OpportunityId>,
    pub created_at: DateTime<Utc>,
    /// The person's role, such as `Head of Operations`.
    pub title: Option<Label>,
    pub phone: Option<Phone>,
    /// The company's web site, which finds its account.
    pub website: Option<WebDomain>,
    /// Territory dimensions the assignment rules match on.
    pub region: Option<Label>,
    pub segment: Option<Label>,
    pub product_line: Option<Label>,
    /// Set while the lead is parked in nurture at its status.
    pub nurture: Option<Nurture>,
    /// Why the lead last changed status or nurture track.
    pub disposition: Option<Disposition>,
    /// When the lead last entered the sales queue (became MQL or SQL, or re-engaged); the
    /// speed-to-lead deadlines run from here.
    pub queued_at: Option<DateTime<Utc>>,
    /// What the lead's fit and intent scores rest on.
    pub evidence: LeadEvidence,
    /// Why the assignment rules could not place the lead when it came in; it went to the
    /// default owner or the queue. Cleared when someone changes the lead's owner.
    pub routing_issue: Option<RoutingIssue>,
}

impl Lead {
    /// When the lead entered the sales queue, if it waits there: queued, still open and not
    /// parked in nurture.
    pub fn waiting_since(&self) -> Option<DateTime<Utc>> {
        let waiting = self.status.is_open() && self.nurture.is_none();
        self.queued_at.filter(|_| waiting)
    }
}

text_enum! {
    pub enum ActivityKind {
        Call = "call",
        Email = "email",
        Meeting = "meeting",
        Note = "note",
    }
}

/// Something a seller did with or about a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Activity {
    pub id: ActivityId,
    /// Starts at 1; every change adds 1. Send it back in `If-Match` to change the record.
    pub version: u32,
    pub kind: ActivityKind,
    pub occurred_at: DateTime<Utc>,
    pub user_id: UserId,
    pub account_id: Option<AccountId>,
    pub contact_id: Option<ContactId>,
    pub lead_id: Option<LeadId>,
    pub opportunity_id: Option<OpportunityId>,
    pub subject: Name,
    /// What came of it: `connected`, `no answer`, `meeting booked`…
    pub outcome: Option<Label>,
}

impl Activity {
    /// The activity as the deal model reads it: a call, e-mail or meeting logged on a deal.
    pub fn deal_touch(&self) -> Option<DealTouch> {
        let touches = matches!(
            self.kind,
            ActivityKind::Call | ActivityKind::Email | ActivityKind::Meeting
        );
        self.opportunity_id
            .filter(|_| touches)
            .map(|opportunity_id| DealTouch {
                opportunity_id,
                occurred_at: self.occurred_at,
                contact_id: self.contact_id,
            })
    }
}

/// Whose number a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum TargetOwner {
    User(UserId),
    Team(TeamId),
    /// The whole company's plan.
    Workspace,
}

/// A quota or plan number for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Target {
    pub id: TargetId,
    /// Starts at 1; every change adds 1. Send it back in `If-Match` to change the record.
    pub version: u32,
    pub owner: TargetOwner,
    pub period: Period,
    pub amount: Money,
}

/// The company targets that make up `period`'s (see [`targets_of`]).
pub fn company_targets<'a>(
    targets: &'a [Target],
    calendar: &FiscalCalendar,
    period: Period,
) -> Vec<&'a Target> {
    targets_of(targets, calendar, period, &TargetOwner::Workspace)
}

/// The targets of `owner` that make up `period`'s: its own if set, else those of the quarters
/// inside it, else those of the months inside it — never two levels at once, so a year and
/// its quarters are not counted twice.
pub fn targets_of<'a>(
    targets: &'a [Target],
    calendar: &FiscalCalendar,
    period: Period,
    owner: &TargetOwner,
) -> Vec<&'a Target> {
    let range = calendar.range(period);
    let company = || targets.iter().filter(|t| t.owner == *owner);
    let inside = |t: &&Target| {
        let r = calendar.range(t.period);
        r.start >= range.start && r.end <= range.end
    };
    let exact: Vec<&Target> = company().filter(|t| t.period == period).collect();
    if !exact.is_empty() {
        return exact;
    }
    let quarters: Vec<&Target> = company()
        .filter(|t| matches!(t.period, Period::Quarter { .. }))
        .filter(inside)
        .collect();
    if !quarters.is_empty() {
        return quarters;
    }
    company()
        .filter(|t| matches!(t.period, Period::Month { .. }))
        .filter(inside)
        .collect()
}

/// When each record last had a call, e-mail or meeting. Notes do not count: they record
/// what the seller thought, not contact with the buyer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastActivity {
    pub opportunities: HashMap<OpportunityId, DateTime<Utc>>,
    pub accounts: HashMap<AccountId, DateTime<Utc>>,
    pub contacts: HashMap<ContactId, DateTime<Utc>>,
}

/// A call, e-mail or meeting on an opportunity, as the deal model reads it: when, and with
/// which buyer contact if one was named. Notes are not touches (see [`LastActivity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DealTouch {
    pub opportunity_id: OpportunityId,
    pub occurred_at: DateTime<Utc>,
    pub contact_id: Option<ContactId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};

    fn target(n: u8, owner: TargetOwner, period: &str, dollars: i64) -> Target {
        Target {
            id: TargetId::from_parts(1, [n; 10]),
            version: 1,
            owner,
            period: period.parse().unwrap(),
            amount: Money::new(dollars * 100, Currency::USD),
        }
    }

    #[test]
    fn a_period_takes_its_own_target_or_one_level_of_parts() {
        let calendar = FiscalCalendar::starting_in(2).unwrap();
        let rep = UserId::from_parts(1, [9; 10]);
        let targets = [
            target(1, TargetOwner::Workspace, "FY2027", 4_000_000),
            target(2, TargetOwner::Workspace, "2027-Q1", 900_000),
            target(3, TargetOwner::Workspace, "2027-Q2", 1_000_000),
            target(4, TargetOwner::Workspace, "2025-03", 300_000),
            target(5, TargetOwner::User(rep), "2027-Q1", 200_000),
        ];
        let sum = |period: &str| -> i64 {
            company_targets(&targets, &calendar, period.parse().unwrap())
                .iter()
                .map(|t| t.amount.minor)
                .sum()
        };
        // The year has its own target: its quarters are not added to it.
        assert_eq!(sum("FY2027"), 400_000_000);
        // A quarter with its own target; a rep's quota is not the company's.
        assert_eq!(sum("2027-Q1"), 90_000_000);
        // FY2026 (February 2025 to January 2026) has no target of its own and no quarters:
        // its month.
        assert_eq!(sum("FY2026"), 30_000_000);
        assert!(company_targets(&targets, &calendar, "2027-Q3".parse().unwrap()).is_empty());
        // The rep's own quota, and the rep's year made of the one quarter set.
        let rep_sum = |period: &str| -> i64 {
            targets_of(
                &targets,
                &calendar,
                period.parse().unwrap(),
                &TargetOwner::User(rep),
            )
            .iter()
            .map(|t| t.amount.minor)
            .sum()
        };
        assert_eq!(rep_sum("2027-Q1"), 20_000_000);
        assert_eq!(rep_sum("FY2027"), 20_000_000);
    }
}
