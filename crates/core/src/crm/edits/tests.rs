use super::*;

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
    let lead: LeadFields = json(r#"{"name": "Dana Ruiz", "email": "Dana@Example.com"}"#);
    let lead = lead.create(LeadId::from_parts(1, [1; 10]), at()).unwrap();
    assert_eq!(lead.status, LeadStatus::New);
    assert_eq!(lead.email.unwrap().as_str(), "dana@example.com");

    let contact: ContactFields = json(r#"{"name": "Dana Ruiz", "buying_role": "champion"}"#);
    let errors = contact
        .create(ContactId::from_parts(1, [1; 10]), at())
        .unwrap_err();
    assert_eq!(fields_of(&errors), ["account_id"]);
}
