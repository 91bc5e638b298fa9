use super::*;
use crate::crm::{Lead, LeadStatus};
use crate::leads::lifecycle::{Disposition, Nurture};

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).unwrap()
}

fn fields_of(errors: &FieldErrors) -> Vec<&str> {
    errors.iter().map(|e| e.field()).collect()
}

#[test]
fn a_new_account_reports_every_bad_field_at_once() {
    let body: AccountFields = json(r#"{"domain": "not a domain", "tier": "gold"}"#);
    let errors = body
        .create(AccountId::from_parts(1, [1; 10]), at())
        .unwrap_err();
    assert_eq!(fields_of(&errors), ["name", "domain", "tier"]);
}

#[test]
fn a_change_leaves_absent_fields_clears_nulls_and_sets_values() {
    let created: AccountFields = json(
        r#"{"name": "Acme", "domain": "https://www.acme.com/", "region": "EMEA", "tier": "tier_2"}"#,
    );
    let account = created
        .create(AccountId::from_parts(1, [1; 10]), at())
        .unwrap();
    assert_eq!(account.version, 1);
    assert_eq!(account.domain.as_ref().unwrap().as_str(), "acme.com");

    let patch: AccountFields = json(r#"{"region": null, "segment": "Enterprise"}"#);
    let next = patch.change(&account).unwrap();
    assert_eq!(next.version, 2);
    assert_eq!(next.name.as_str(), "Acme");
    assert_eq!(next.tier, Some(Tier::Tier2));
    assert_eq!(next.region, None);
    assert_eq!(next.segment.unwrap().as_str(), "Enterprise");
    // A required field cannot be cleared.
    assert!(json::<AccountFields>(r#"{"name": null}"#).name.is_none());
    let blank: AccountFields = json(r#"{"name": "  "}"#);
    assert_eq!(fields_of(&blank.change(&account).unwrap_err()), ["name"]);
}

#[test]
fn an_activity_defaults_to_the_caller_and_now() {
    let caller = UserId::from_parts(1, [7; 10]);
    let body: ActivityFields = json(r#"{"kind": "call", "subject": "Discovery call"}"#);
    let activity = body
        .create(ActivityId::from_parts(1, [1; 10]), caller, at())
        .unwrap();
    assert_eq!(activity.user_id, caller);
    assert_eq!(activity.occurred_at, at());
    assert_eq!(activity.kind, ActivityKind::Call);

    let moved: ActivityFields = json(r#"{"occurred_at": "2026-09-30T16:00:00+02:00"}"#);
    let next = moved.change(&activity).unwrap();
    assert_eq!(next.occurred_at.to_rfc3339(), "2026-09-30T14:00:00+00:00");
    let bad: ActivityFields = json(r#"{"occurred_at": "2026-09-30 14:00"}"#);
    assert_eq!(
        fields_of(&bad.change(&activity).unwrap_err()),
        ["occurred_at"]
    );
}

#[test]
fn a_target_names_its_owner_period_and_amount() {
    let rep = UserId::from_parts(1, [3; 10]);
    let body: TargetFields = json(&format!(
        r#"{{"owner_kind": "user", "owner_id": "{rep}", "period": "2026-Q3", "amount": "250000"}}"#
    ));
    let target = body
        .create(TargetId::from_parts(1, [1; 10]), Currency::USD)
        .unwrap();
    assert_eq!(target.owner, TargetOwner::User(rep));
    assert_eq!(target.amount, Money::new(25_000_000, Currency::USD));
    assert_eq!(target.period.to_string(), "2026-Q3");

    let missing: TargetFields = json(r#"{"owner_kind": "user", "period": "2026-Q9"}"#);
    let errors = missing
        .create(TargetId::from_parts(1, [1; 10]), Currency::USD)
        .unwrap_err();
    assert_eq!(fields_of(&errors), ["owner_id", "period", "amount"]);

    let company: TargetFields = json(&format!(
        r#"{{"owner_kind": "workspace", "owner_id": "{rep}", "period": "FY2027", "amount": "1"}}"#
    ));
    let errors = company
        .create(TargetId::from_parts(1, [1; 10]), Currency::USD)
        .unwrap_err();
    assert_eq!(fields_of(&errors), ["owner_id"]);

    // A currency comes with the amount in it.
    let relabel: TargetFields = json(r#"{"currency": "EUR"}"#);
    assert_eq!(fields_of(&relabel.change(&target).unwrap_err()), ["amount"]);
    let euros: TargetFields = json(r#"{"currency": "EUR", "amount": "230000.50"}"#);
    let next = euros.change(&target).unwrap();
    assert_eq!(next.amount, Money::new(23_000_050, Currency::EUR));
    assert_eq!(next.version, 2);
}

#[test]
fn a_lead_starts_new_and_a_contact_needs_its_account() {
    let lead: LeadFields = json(
        r#"{"name": "Dana Ruiz", "email": "Dana@Example.com", "title": "COO", "company": "Acme", "source": "webinar"}"#,
    );
    let lead = lead.create(LeadId::from_parts(1, [1; 10]), at()).unwrap();
    assert_eq!(lead.status, LeadStatus::New);
    assert_eq!(lead.email.unwrap().as_str(), "dana@example.com");

    let contact: ContactFields = json(r#"{"name": "Dana Ruiz", "buying_role": "champion"}"#);
    let errors = contact
        .create(ContactId::from_parts(1, [1; 10]), at())
        .unwrap_err();
    assert_eq!(fields_of(&errors), ["account_id"]);
}

fn dana(extra: &str) -> Lead {
    let body: LeadFields = json(&format!(
        r#"{{"name": "Dana Ruiz", "email": "dana@acme.com", "title": "COO", "company": "Acme", "source": "webinar"{extra}}}"#
    ));
    body.create(LeadId::from_parts(1, [1; 10]), at()).unwrap()
}

fn later() -> DateTime<Utc> {
    at() + chrono::Duration::hours(5)
}

#[test]
fn a_lead_short_of_the_minimum_set_names_every_missing_field() {
    let body: LeadFields = json(r#"{"name": "Dana Ruiz", "source": "Unknown", "email": "nope"}"#);
    let errors = body
        .create(LeadId::from_parts(1, [1; 10]), at())
        .unwrap_err();
    assert_eq!(fields_of(&errors), ["email", "company", "title", "source"]);
    let bad_email = errors.iter().next().unwrap();
    assert!(bad_email.expected().contains("e-mail address"));
    // A phone number stands in for the e-mail address.
    let body: LeadFields = json(
        r#"{"name": "Dana", "phone": "+1 555 010 2030", "title": "COO", "company": "Acme", "source": "event"}"#,
    );
    assert!(body.create(LeadId::from_parts(1, [1; 10]), at()).is_ok());
}

#[test]
fn a_lead_enters_the_queue_when_it_becomes_mql_or_sql() {
    assert_eq!(dana("").queued_at, None);
    assert_eq!(dana(r#", "status": "mql""#).queued_at, Some(at()));
    let body: LeadFields = json(r#"{"name": "Dana", "status": "disqualified"}"#);
    let errors = body
        .create(LeadId::from_parts(1, [1; 10]), at())
        .unwrap_err();
    assert_eq!(fields_of(&errors)[0], "status");

    let to_mql: LeadFields = json(r#"{"status": "mql", "disposition": "marketing_qualified"}"#);
    let mql = to_mql.change(&dana(""), later()).unwrap();
    assert_eq!(
        (mql.status, mql.disposition, mql.queued_at),
        (
            LeadStatus::Mql,
            Some(Disposition::MarketingQualified),
            Some(later())
        )
    );
    // MQL to SQL keeps the queue time: the clock runs from the handoff.
    let to_sql: LeadFields =
        json(r#"{"status": "sql", "disposition": "qualified_needs_confirmed"}"#);
    assert_eq!(
        to_sql
            .change(&mql, later() + chrono::Duration::hours(1))
            .unwrap()
            .queued_at,
        Some(later())
    );
}

#[test]
fn a_change_of_status_needs_a_fitting_disposition() {
    let lead = dana("");
    let bare: LeadFields = json(r#"{"status": "mql"}"#);
    let errors = bare.change(&lead, later()).unwrap_err();
    assert_eq!(fields_of(&errors), ["disposition"]);
    let wrong: LeadFields = json(r#"{"status": "disqualified", "disposition": "no_timeline"}"#);
    let error = wrong.change(&lead, later()).unwrap_err();
    let error = error.iter().next().unwrap();
    assert_eq!(
        (error.field(), error.value()),
        ("disposition", "no_timeline")
    );
    assert!(
        error.expected().contains("not_a_fit_wrong_role"),
        "{}",
        error.expected()
    );
    let sal: LeadFields = json(r#"{"status": "sal", "disposition": "qualified_needs_confirmed"}"#);
    let error = sal.change(&lead, later()).unwrap_err();
    assert!(
        error
            .iter()
            .next()
            .unwrap()
            .expected()
            .contains("converting")
    );
    let idle: LeadFields = json(r#"{"disposition": "duplicate"}"#);
    assert_eq!(
        fields_of(&idle.change(&lead, later()).unwrap_err()),
        ["disposition"]
    );
}

#[test]
fn nurture_parks_a_lead_and_re_engagement_queues_it_again() {
    let lead = dana(r#", "status": "mql""#);
    let park: LeadFields = json(r#"{"nurture": "paused", "disposition": "no_timeline"}"#);
    let parked = park.change(&lead, later()).unwrap();
    assert_eq!(
        (parked.status, parked.nurture),
        (LeadStatus::Mql, Some(Nurture::Paused))
    );
    let back: LeadFields =
        json(r#"{"nurture": null, "status": "sql", "disposition": "re_engaged"}"#);
    let back_at = later() + chrono::Duration::days(40);
    let back = back.change(&parked, back_at).unwrap();
    assert_eq!(
        (back.status, back.nurture, back.queued_at),
        (LeadStatus::Sql, None, Some(back_at))
    );
}

#[test]
fn clearing_a_required_field_is_refused_but_older_incomplete_leads_can_still_move() {
    let clear: LeadFields = json(r#"{"company": null}"#);
    assert_eq!(
        fields_of(&clear.change(&dana(""), later()).unwrap_err()),
        ["company"]
    );
    let mut legacy = dana("");
    legacy.title = None;
    let work: LeadFields = json(r#"{"status": "working", "disposition": "attempting"}"#);
    assert_eq!(
        work.change(&legacy, later()).unwrap().status,
        LeadStatus::Working
    );
}
