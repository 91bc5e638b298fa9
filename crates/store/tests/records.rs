//! Writing CRM records with versions and an audit trail, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use common::{Org, at, install, org};
use pipewise_core::crm::changes::{CrmKind, CrmRecord, RecordAction};
use pipewise_core::crm::edits::{
    AccountFields, ActivityFields, ContactFields, LeadFields, TargetFields,
};
use pipewise_core::crm::{Account, LeadStatus, TargetOwner};
use pipewise_core::ids::WebhookId;
use pipewise_core::ids::{AccountId, ActivityId, ContactId, LeadId, OpportunityId, TargetId};
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::CommandError;
use pipewise_core::text::{Label, WebDomain};
use pipewise_core::webhooks::{Attempt, EventFilter, EventType, Webhook, WebhookUrl};
use pipewise_store::commands::CommandFailed;
use pipewise_store::{
    AccountFilter, ActivityFilter, LeadFilter, PageRequest, Store, StoreError, records,
};
use serde_json::json;
use uuid::Uuid;

fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// The fields a refused write named, in order.
fn refused_fields(result: Result<(), CommandFailed>) -> Vec<String> {
    match result {
        Err(CommandFailed::Refused(CommandError::Invalid(errors))) => {
            errors.iter().map(|e| e.field().to_owned()).collect()
        }
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn new_account(store: &dyn Store, acme: &Org, fields: serde_json::Value) -> Account {
    let account = body::<AccountFields>(fields)
        .create(AccountId::generate(), at("2026-03-02T09:00:00Z"))
        .unwrap();
    records::create(
        store,
        &acme.workspace,
        account.clone().into(),
        acme.manager,
        at("2026-03-02T09:00:00Z"),
    )
    .await
    .unwrap();
    account
}

on_both_backends! {
    async fn an_account_change_is_versioned_and_kept_in_its_history(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let account = new_account(store, &acme, json!({
            "name": "Hooli", "domain": "hooli.example", "segment": "Enterprise"
        })).await;
        assert_eq!(store.account(ws.id, account.id).await.unwrap(), account);

        let next = body::<AccountFields>(json!({"segment": null, "tier": "tier_1"}))
            .change(&account)
            .unwrap();
        let [raj, rosa] = acme.reps;
        records::change(store, ws, account.clone().into(), next.clone().into(), raj,
                        at("2026-03-03T10:00:00Z")).await.unwrap();
        let stored = store.account(ws.id, account.id).await.unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(stored.segment, None);
        assert_eq!(stored.name.as_str(), "Hooli");

        // A second writer who read version 1 is refused and told the current version.
        let stale = body::<AccountFields>(json!({"name": "Hooli Inc"})).change(&account).unwrap();
        let refused = records::change(store, ws, account.clone().into(), stale.into(), rosa,
                                      at("2026-03-03T10:01:00Z")).await;
        assert!(matches!(
            refused,
            Err(CommandFailed::Store(StoreError::VersionConflict { current: 2 }))
        ), "{refused:?}");
        assert_eq!(store.account(ws.id, account.id).await.unwrap(), stored);

        // Setting every field to what it is writes nothing.
        let same = body::<AccountFields>(json!({"name": "Hooli"})).change(&stored).unwrap();
        let written = records::change(store, ws, stored.clone().into(), same.into(), raj,
                                      at("2026-03-03T11:00:00Z")).await.unwrap();
        assert!(!written);
        assert_eq!(store.account(ws.id, account.id).await.unwrap().version, 2);

        let history = store.record_history(ws.id, account.id.as_uuid()).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].action, RecordAction::Created);
        assert_eq!(history[0].record_kind, CrmKind::Account);
        assert_eq!(history[0].actor_id, acme.manager);
        assert_eq!(history[0].after.get("segment"), Some(&json!("Enterprise")));
        assert_eq!(history[1].version, 2);
        assert_eq!(history[1].actor_id, raj);
        assert_eq!(history[1].recorded_at, at("2026-03-03T10:00:00Z"));
        assert_eq!(serde_json::Value::Object(history[1].before.clone()),
                   json!({"segment": "Enterprise", "tier": null}));
        assert_eq!(serde_json::Value::Object(history[1].after.clone()),
                   json!({"segment": null, "tier": "tier_1"}));
    }

    async fn concurrent_changes_on_one_version_apply_exactly_one(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let account = new_account(store, &acme, json!({"name": "Hooli"})).await;
        let writes = (0..8).map(|n| {
            let next = body::<AccountFields>(json!({"industry": format!("Industry {n}")}))
                .change(&account)
                .unwrap();
            records::change(store, ws, account.clone().into(), next.into(), acme.reps[0],
                            at("2026-03-03T10:00:00Z"))
        });
        let results = futures_util::future::join_all(writes).await;
        let applied = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(applied, 1, "{results:?}");
        assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(
            r,
            Err(CommandFailed::Store(StoreError::VersionConflict { current: 2 }))
        )));
        let history = store.record_history(ws.id, account.id.as_uuid()).await.unwrap();
        assert_eq!(history.iter().map(|c| c.version).collect::<Vec<_>>(), [1, 2]);
        let winner = store.account(ws.id, account.id).await.unwrap();
        assert_eq!(Some(&serde_json::to_value(&winner.industry).unwrap()),
                   history[1].after.get("industry"));
    }

    async fn records_naming_what_is_not_in_the_workspace_are_refused_at_the_field(store) {
        let acme = org("acme", 1);
        let other = org("other", 2);
        install(store, &acme).await;
        install(store, &other).await;
        let ws = &acme.workspace;
        let now = at("2026-03-02T09:00:00Z");
        // The other workspace's account is as good as absent.
        let contact = body::<ContactFields>(json!({
            "name": "Dana Ruiz", "account_id": other.accounts[0].to_string()
        })).create(ContactId::generate(), now).unwrap();
        assert_eq!(
            refused_fields(records::create(store, ws, contact.into(), acme.manager, now).await),
            ["account_id"]
        );
        let activity = body::<ActivityFields>(json!({
            "kind": "call", "subject": "Pricing call",
            "opportunity_id": OpportunityId::generate().to_string(),
            "lead_id": LeadId::generate().to_string(),
        })).create(ActivityId::generate(), acme.reps[0], now).unwrap();
        assert_eq!(
            refused_fields(records::create(store, ws, activity.into(), acme.reps[0], now).await),
            ["lead_id", "opportunity_id"]
        );
        let target = body::<TargetFields>(json!({
            "owner_kind": "team", "owner_id": other.team.to_string(),
            "period": "2026-Q3", "amount": "100000"
        })).create(TargetId::generate(), Currency::USD).unwrap();
        assert_eq!(
            refused_fields(records::create(store, ws, target.into(), acme.manager, now).await),
            ["owner_id"]
        );
        let target = body::<TargetFields>(json!({
            "owner_kind": "team", "owner_id": acme.team.to_string(),
            "period": "2026-Q3", "amount": "100000"
        })).create(TargetId::generate(), Currency::USD).unwrap();
        records::create(store, ws, target.clone().into(), acme.manager, now).await.unwrap();
        let stored = store.target(ws.id, target.id).await.unwrap();
        assert_eq!(stored.owner, TargetOwner::Team(acme.team));
        assert_eq!(stored.amount, Money::new(10_000_000, Currency::USD));
        assert!(store.targets(ws.id).await.unwrap().contains(&stored));
        // Nothing refused was written.
        assert!(store.record_history(ws.id, contact_id_of_nothing()).await.unwrap().is_empty());
    }

    async fn a_deleted_activity_is_gone_with_its_last_values_in_history(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let now = at("2026-03-02T09:00:00Z");
        let activity = body::<ActivityFields>(json!({
            "kind": "meeting", "subject": "Onsite workshop", "account_id": acme.accounts[0].to_string()
        })).create(ActivityId::generate(), acme.reps[0], now).unwrap();
        let stored = CrmRecord::from(activity.clone());
        records::create(store, ws, stored.clone(), acme.reps[0], now)
            .await
            .unwrap();
        // Deleting a version that is not the stored one is refused.
        let mut stale = activity.clone();
        stale.version = 7;
        assert!(matches!(
            records::delete(store, ws, &stale.into(), acme.reps[0], now).await,
            Err(StoreError::VersionConflict { current: 1 })
        ));
        records::delete(store, ws, &stored, acme.manager, at("2026-03-04T09:00:00Z"))
            .await
            .unwrap();
        assert!(matches!(
            store.activity(ws.id, activity.id).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            records::delete(store, ws, &stored, acme.manager, now).await,
            Err(StoreError::NotFound { .. })
        ));
        let history = store.record_history(ws.id, activity.id.as_uuid()).await.unwrap();
        assert_eq!(history.iter().map(|c| c.action).collect::<Vec<_>>(),
                   [RecordAction::Created, RecordAction::Deleted]);
        assert_eq!(history[1].version, 2);
        assert_eq!(history[1].actor_id, acme.manager);
        assert_eq!(history[1].before.get("subject"), Some(&json!("Onsite workshop")));
        assert!(history[1].after.is_empty());
    }

    async fn record_changes_queue_deliveries_for_the_webhooks_that_want_their_type(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let t0 = at("2026-03-01T09:00:00Z");
        let hook = |n: u8, events: &str| Webhook {
            id: WebhookId::from_parts(u64::from(n), [n; 10]),
            url: WebhookUrl::parse("https://hooks.example.com/pw").unwrap(),
            events: EventFilter::from_stored(events).unwrap(),
            created_by: acme.manager,
            created_at: t0,
            failed_deliveries: 0,
            disabled_at: None,
        };
        let accounts = hook(1, ",account.*,");
        let created_only = hook(2, ",account.created,");
        let deals = hook(3, ",opportunity.*,contact.*,");
        for h in [&accounts, &created_only, &deals] {
            store.create_webhook(ws.id, h, "s3cret-s3cret-s3cret").await.unwrap();
        }
        let account = new_account(store, &acme, json!({"name": "Hooli"})).await;
        let next = body::<AccountFields>(json!({"tier": "tier_2"})).change(&account).unwrap();
        records::change(store, ws, account.clone().into(), next.into(), acme.manager,
                        at("2026-03-03T10:00:00Z")).await.unwrap();

        let later = at("2027-01-01T00:00:00Z");
        let due = store.due_deliveries(ws.id, later, 10).await.unwrap();
        let keys: Vec<(WebhookId, Uuid, u32, EventType)> =
            due.iter().map(|d| (d.webhook_id, d.record_id, d.seq, d.event_type)).collect();
        let created = EventType::Record(CrmKind::Account, RecordAction::Created);
        let changed = EventType::Record(CrmKind::Account, RecordAction::Changed);
        // The change to version 2 waits until version 1 is delivered; the deal-and-contact
        // subscription gets neither.
        let id = account.id.as_uuid();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys.contains(&(accounts.id, id, 1, created)));
        assert!(keys.contains(&(created_only.id, id, 1, created)));
        let first = due.iter().find(|d| d.webhook_id == accounts.id).unwrap();
        let delivered = first.after(Attempt::Accepted { status: 204 }, later, chrono::Duration::seconds(30));
        store.record_delivery(ws.id, &delivered, &accounts).await.unwrap();
        let due = store.due_deliveries(ws.id, later, 10).await.unwrap();
        assert!(due.iter().any(|d| (d.webhook_id, d.seq, d.event_type) == (accounts.id, 2, changed)));
        assert!(store.deliveries(ws.id, deals.id, 10).await.unwrap().is_empty());
    }

    async fn lists_filter_and_page_in_creation_order(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let now = at("2026-03-02T09:00:00Z");
        let mut hooli = Vec::new();
        for n in 0..5 {
            let segment = if n % 2 == 0 { "Enterprise" } else { "SMB" };
            hooli.push(new_account(store, &acme, json!({
                "name": format!("Hooli {n}"), "segment": segment, "domain": format!("hooli{n}.example")
            })).await.id);
        }
        let enterprise = AccountFilter {
            segment: Some(Label::parse("Enterprise").unwrap()),
            ..AccountFilter::default()
        };
        let first = store.accounts(ws.id, PageRequest { after: None, limit: 2 }, &enterprise)
            .await.unwrap();
        assert_eq!(first.items.iter().map(|a| a.id).collect::<Vec<_>>(), [hooli[0], hooli[2]]);
        assert_eq!(first.next_after, Some(hooli[2]));
        let second = store.accounts(ws.id, PageRequest { after: first.next_after, limit: 2 }, &enterprise)
            .await.unwrap();
        assert_eq!(second.items.iter().map(|a| a.id).collect::<Vec<_>>(), [hooli[4]]);
        assert_eq!(second.next_after, None);
        let by_domain = AccountFilter {
            domain: Some(WebDomain::parse("hooli3.example").unwrap()),
            ..AccountFilter::default()
        };
        let found = store.accounts(ws.id, PageRequest { after: None, limit: 50 }, &by_domain)
            .await.unwrap();
        assert_eq!(found.items.iter().map(|a| a.id).collect::<Vec<_>>(), [hooli[3]]);

        let [raj, rosa] = acme.reps;
        let mut leads = Vec::new();
        for (name, owner, status) in [
            ("Ann", Some(raj), "new"), ("Bo", Some(rosa), "mql"), ("Cy", None, "new"), ("Di", Some(raj), "sql"),
        ] {
            let lead = body::<LeadFields>(json!({
                "name": name, "status": status, "owner_id": owner.map(|o| o.to_string()),
                "email": format!("{name}@acme.com"), "title": "COO", "company": "Acme", "source": "webinar"
            })).create(LeadId::generate(), now).unwrap();
            records::create(store, ws, lead.clone().into(), acme.manager, now).await.unwrap();
            leads.push(lead.id);
        }
        let page = PageRequest { after: None, limit: 50 };
        let ids = |filter: LeadFilter| async move {
            store.leads(ws.id, page, &filter).await.unwrap().items.iter().map(|l| l.id).collect::<Vec<_>>()
        };
        assert_eq!(ids(LeadFilter { owners: Some(vec![raj]), ..LeadFilter::default() }).await,
                   [leads[0], leads[3]]);
        assert_eq!(ids(LeadFilter { owners: Some(vec![raj]), unowned: true, ..LeadFilter::default() }).await,
                   [leads[0], leads[2], leads[3]]);
        assert_eq!(ids(LeadFilter { status: Some(LeadStatus::New), ..LeadFilter::default() }).await,
                   [leads[0], leads[2]]);
        assert!(ids(LeadFilter { owners: Some(vec![]), ..LeadFilter::default() }).await.is_empty());

        let call = body::<ActivityFields>(json!({
            "kind": "call", "subject": "First call", "lead_id": leads[2].to_string()
        })).create(ActivityId::generate(), rosa, now).unwrap();
        records::create(store, ws, call.clone().into(), rosa, now).await.unwrap();
        let on_lead = ActivityFilter { lead: Some(leads[2]), ..ActivityFilter::default() };
        let found = store.activities(ws.id, PageRequest { after: None, limit: 50 }, &on_lead)
            .await.unwrap();
        assert_eq!(found.items, [call]);
        let by_raj = ActivityFilter { users: Some(vec![raj]), ..ActivityFilter::default() };
        assert!(store.activities(ws.id, PageRequest { after: None, limit: 50 }, &by_raj)
            .await.unwrap().items.is_empty());
    }
}

/// An id no record has.
fn contact_id_of_nothing() -> uuid::Uuid {
    ContactId::generate().as_uuid()
}
