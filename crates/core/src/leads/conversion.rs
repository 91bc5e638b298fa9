//! Converting an accepted lead into an opportunity: the lead's company becomes (or finds) the
//! account, the person becomes the deal's primary contact on its stakeholder map, and the deal
//! takes the lead's owner, source and segment unless the request says otherwise.

use chrono::{DateTime, Utc};

use super::intake;
use super::lifecycle::{self, LifecycleError, Placement};
use crate::crm::{Account, BuyingRole, Contact, Lead};
use crate::evidence::{Engagement, Stakeholder};
use crate::ids::{AccountId, ContactId, OpportunityId, UserId};
use crate::opportunity::OpportunityDraft;
use crate::validation::{FieldErrors, InvalidValue};

/// Refuses a lead that cannot become an opportunity: one not open on the funnel (already
/// converted, disqualified, parked in nurture), or without a company for its account.
pub fn check(lead: &Lead) -> Result<(), FieldErrors> {
    lifecycle::convert(Placement {
        status: lead.status,
        nurture: lead.nurture,
    })
    .map_err(|e: LifecycleError| {
        FieldErrors::from(InvalidValue::new(lead.status.as_str(), e.to_string()).at("status"))
    })?;
    if lead.company.is_none() && lead.account_id.is_none() {
        return Err(
            InvalidValue::missing("the lead's company, which becomes the deal's account")
                .at("company")
                .into(),
        );
    }
    Ok(())
}

/// The account a lead without one brings: its company, web domain and territory, owned by
/// the lead's owner.
pub fn new_account(lead: &Lead, id: AccountId, at: DateTime<Utc>) -> Option<Account> {
    Some(Account {
        id,
        version: 1,
        name: lead.company.clone()?,
        domain: intake::company_domain(lead.email.as_ref(), lead.website.as_ref()),
        industry: None,
        employee_band: None,
        region: lead.region.clone(),
        segment: lead.segment.clone(),
        tier: None,
        owner_id: lead.owner_id,
        created_at: at,
    })
}

/// The contact the lead's person becomes at `account`.
pub fn new_contact(
    lead: &Lead,
    account: AccountId,
    role: BuyingRole,
    id: ContactId,
    at: DateTime<Utc>,
) -> Contact {
    Contact {
        id,
        version: 1,
        account_id: account,
        name: lead.name.clone(),
        email: lead.email.clone(),
        title: lead.title.clone(),
        buying_role: Some(role),
        created_at: at,
    }
}

/// The deal to open: the request's fields, with the account, the lead's owner (else `caller`),
/// source and segment where the request names none, and the contact on the stakeholder map,
/// engaged, in `role`.
pub fn draft(
    lead: &Lead,
    mut deal: OpportunityDraft,
    account: AccountId,
    contact: ContactId,
    role: BuyingRole,
    caller: UserId,
) -> OpportunityDraft {
    deal.account_id = Some(account.to_string());
    deal.owner_id
        .get_or_insert_with(|| lead.owner_id.unwrap_or(caller).to_string());
    if deal.name.is_none() {
        deal.name = lead.company.as_ref().map(|c| c.as_str().to_owned());
    }
    if deal.source.is_none() {
        deal.source = lead.source.as_ref().map(|s| s.as_str().to_owned());
    }
    if deal.segment.is_none() {
        deal.segment = lead.segment.as_ref().map(|s| s.as_str().to_owned());
    }
    deal.evidence.stakeholders.set(Stakeholder {
        contact_id: contact,
        role,
        engagement: Engagement::Engaged,
    });
    deal
}

/// The lead's next version once its opportunity is open: accepted by sales, with the need
/// confirmed, pointing at the deal and its account.
pub fn converted(
    lead: &Lead,
    opportunity: OpportunityId,
    account: AccountId,
) -> Result<Lead, FieldErrors> {
    check(lead)?;
    let mut next = lead.clone();
    next.status = crate::crm::LeadStatus::Sal;
    next.disposition = Some(lifecycle::Disposition::QualifiedNeedsConfirmed);
    next.opportunity_id = Some(opportunity);
    next.account_id = Some(account);
    next.version += 1;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::LeadStatus;
    use crate::crm::edits::LeadFields;
    use crate::ids::LeadId;
    use crate::leads::lifecycle::Nurture;

    fn at() -> DateTime<Utc> {
        "2026-12-07T12:00:00Z".parse().unwrap()
    }

    fn lead() -> Lead {
        let body: LeadFields = serde_json::from_str(
            r#"{"name": "Ana Ruiz", "email": "ana@acme.com", "title": "VP Operations", "company": "Acme Logistics",
                "source": "webinar", "segment": "mid_market", "region": "EMEA", "status": "sql"}"#,
        )
        .unwrap();
        let mut lead = body.create(LeadId::from_parts(1, [1; 10]), at()).unwrap();
        lead.owner_id = Some(UserId::from_parts(1, [9; 10]));
        lead
    }

    #[test]
    fn the_deal_takes_the_account_contact_owner_source_and_segment_of_the_lead() {
        let lead = lead();
        let account = new_account(&lead, AccountId::from_parts(1, [2; 10]), at()).unwrap();
        assert_eq!(
            (
                account.name.as_str(),
                account.domain.as_ref().map(|d| d.as_str())
            ),
            ("Acme Logistics", Some("acme.com"))
        );
        assert_eq!(account.region, lead.region);
        let contact = new_contact(
            &lead,
            account.id,
            BuyingRole::Champion,
            ContactId::from_parts(1, [3; 10]),
            at(),
        );
        assert_eq!(
            (
                contact.name.clone(),
                contact.email.clone(),
                contact.title.clone()
            ),
            (lead.name.clone(), lead.email.clone(), lead.title.clone())
        );

        let body: OpportunityDraft =
            serde_json::from_str(r#"{"amount": "48000", "close_date": "2027-03-31"}"#).unwrap();
        let caller = UserId::from_parts(1, [7; 10]);
        let deal = draft(
            &lead,
            body,
            account.id,
            contact.id,
            BuyingRole::Champion,
            caller,
        );
        assert_eq!(deal.account_id, Some(account.id.to_string()));
        assert_eq!(
            deal.owner_id,
            Some(UserId::from_parts(1, [9; 10]).to_string())
        );
        assert_eq!(
            (
                deal.name.as_deref(),
                deal.source.as_deref(),
                deal.segment.as_deref()
            ),
            (Some("Acme Logistics"), Some("webinar"), Some("mid_market"))
        );
        let mapped = deal.evidence.stakeholders.stakeholders();
        assert_eq!(
            mapped,
            [Stakeholder {
                contact_id: contact.id,
                role: BuyingRole::Champion,
                engagement: Engagement::Engaged
            }]
        );

        let done = converted(&lead, OpportunityId::from_parts(1, [4; 10]), account.id).unwrap();
        assert_eq!(
            (done.status, done.version, done.account_id),
            (LeadStatus::Sal, 2, Some(account.id))
        );
    }

    #[test]
    fn only_an_open_lead_on_the_funnel_with_a_company_converts() {
        let mut parked = lead();
        parked.nurture = Some(Nurture::Paused);
        assert_eq!(
            check(&parked).unwrap_err().iter().next().unwrap().field(),
            "status"
        );
        let mut done = lead();
        done.status = LeadStatus::Sal;
        assert!(check(&done).is_err());
        let mut nameless = lead();
        nameless.company = None;
        assert_eq!(
            check(&nameless).unwrap_err().iter().next().unwrap().field(),
            "company"
        );
        nameless.account_id = Some(AccountId::from_parts(1, [2; 10]));
        assert!(check(&nameless).is_ok());
    }
}
