//! The storage contract, checked on SQLite and on PostgreSQL with the same tests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use chrono::{Duration, NaiveDate};
use common::{Org, TestStore, at, install, org};
use pipewise_core::access::RepVisibility;
use pipewise_core::calendar::DateRange;
use pipewise_core::credentials::{ApiToken, Session, TokenScope};
use pipewise_core::crm::{
    Activity, ActivityKind, BuyingRole, Contact, DealTouch, Target, TargetOwner,
};
use pipewise_core::evidence::{
    Engagement, EvidenceChange, Gate, GateDecision, ScoreItem, Stakeholder,
};
use pipewise_core::hygiene::{HygieneRules, RuleId};
use pipewise_core::ids::{
    AccountId, ActivityId, ContactId, OpportunityId, SessionId, TargetId, TokenId, UserId,
    WebhookId,
};
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{
    self, Command, Created, EventKind, LossType, NextStep, OpportunityDraft, Recorded, Stamp,
};
use pipewise_core::process::{
    ForecastCategory, Process, ProcessFile, ProcessRevision, ProcessSet, ProcessVersion,
    shipped_files,
};
use pipewise_core::testing::qualified_evidence;
use pipewise_core::text::{Email, Label, Name, Note};
use pipewise_core::webhooks::{
    AllEvents, Attempt, DeliveryStatus, EventFilter, EventType, Webhook, WebhookUrl,
};
use pipewise_store::commands::{self, CommandFailed};
use pipewise_store::{
    Batch, Counts, DealFilter, DealOrder, PageRequest, Store, StoreError, integrity, processes,
};
use uuid::Uuid;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn created(org: &Org, name: &str) -> Created {
    Created {
        name: Name::parse(name).unwrap(),
        account_id: org.accounts[0],
        owner_id: org.reps[0],
        process: "enterprise".parse().unwrap(),
        stage: "qualified".parse().unwrap(),
        amount: Some(Money::new(4_800_000, Currency::USD)),
        close_date: day("2026-03-31"),
        source: Some(Label::parse("inbound").unwrap()),
        segment: Some(Label::parse("Mid-Market").unwrap()),
        competitor: None,
        next_step: Some(NextStep {
            text: Note::parse("Discovery call with the COO").unwrap(),
            owner_id: org.reps[0],
            due: day("2026-01-12"),
        }),
        evidence: qualified_evidence(),
    }
}

/// Opens a deal through the domain and stores it.
async fn open_deal(store: &dyn Store, org: &Org, name: &str) -> Recorded {
    let process = Process::default_enterprise();
    let stamp = Stamp::now(org.reps[0], at("2026-01-05T09:00:00Z"));
    let recorded = opportunity::open(
        OpportunityId::generate(),
        created(org, name),
        &process,
        stamp,
    )
    .unwrap();
    store.record(org.workspace.id, &recorded).await.unwrap();
    recorded
}

on_both_backends! {
    async fn a_bulk_load_says_before_its_end_builds_indexes_which_only_sqlite_drops(store) {
        let building = std::cell::Cell::new(0);
        let written = pipewise_store::bulk::load(store, 10, async { Ok::<_, StoreError>(7) }, || {
            building.set(building.get() + 1);
        })
        .await
        .unwrap();
        assert_eq!(written, 7);
        // The test database holds no deals, so ten new ones are enough to drop the indexes.
        let sqlite = module_path!().ends_with("sqlite");
        assert_eq!(building.get(), usize::from(sqlite));
    }

    async fn forecast_snapshots_are_stored_listed_by_period_and_read_back(store) {
        use pipewise_analytics::forecast::{
            DealAtSnapshot, Method, MethodNumber, PersonNumber, Snapshot,
        };
        use pipewise_core::ids::SnapshotId;
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = acme.workspace.id;
        let snapshot = |period: &str, taken: &str, call: i64| Snapshot {
            period: period.to_owned(),
            as_of: taken.parse().unwrap(),
            taken_at: at(&format!("{taken}T06:00:00Z")),
            currency: "USD".to_owned(),
            quota: Some(50_000_000),
            won: 1_200_000,
            methods: vec![
                MethodNumber { method: Method::DealCall, forecast: call },
                MethodNumber { method: Method::DealModel, forecast: 2_000_000 },
            ],
            people: vec![PersonNumber { user_id: acme.reps[0], name: "Raj".to_owned(), forecast: call }],
            deals: vec![DealAtSnapshot {
                opportunity_id: OpportunityId::from_parts(1, [7; 10]),
                owner: "Raj".to_owned(),
                stage: "negotiating".parse().unwrap(),
                category: ForecastCategory::Commit,
                amount: 800_000,
                close_date: day("2026-04-15"),
                in_call: true,
                model_probability: Some(0.72),
            }],
        };
        let ids = [SnapshotId::generate(), SnapshotId::generate(), SnapshotId::generate()];
        let second = snapshot("2027-Q1", "2026-02-09", 2_100_000);
        let first = snapshot("2027-Q1", "2026-02-02", 2_000_000);
        store.record_snapshot(ws, ids[1], &second).await.unwrap();
        store.record_snapshot(ws, ids[0], &first).await.unwrap();
        store.record_snapshot(ws, ids[2], &snapshot("2027-Q2", "2026-05-04", 9)).await.unwrap();
        // Oldest first, whatever order they were stored in.
        assert_eq!(
            store.snapshots(ws, "2027-Q1".parse().unwrap()).await.unwrap(),
            [(ids[0], first.clone()), (ids[1], second)]
        );
        // The headlines: the same two, oldest first, with their numbers and nothing else.
        let headlines = store.snapshot_headlines(ws, "2027-Q1".parse().unwrap()).await.unwrap();
        assert_eq!(
            headlines
                .iter()
                .map(|h| (h.id, h.taken_at, h.won, h.methods.clone()))
                .collect::<Vec<_>>(),
            [
                (ids[0], at("2026-02-02T06:00:00Z"), 1_200_000, vec![
                    MethodNumber { method: Method::DealCall, forecast: 2_000_000 },
                    MethodNumber { method: Method::DealModel, forecast: 2_000_000 },
                ]),
                (ids[1], at("2026-02-09T06:00:00Z"), 1_200_000, vec![
                    MethodNumber { method: Method::DealCall, forecast: 2_100_000 },
                    MethodNumber { method: Method::DealModel, forecast: 2_000_000 },
                ]),
            ]
        );
        assert_eq!(store.snapshot(ws, ids[0]).await.unwrap(), first);
        assert!(matches!(
            store.snapshot(ws, SnapshotId::generate()).await,
            Err(StoreError::NotFound { .. })
        ));
        store.delete_workspace(ws).await.unwrap();
        assert!(store.snapshots(ws, "2027-Q1".parse().unwrap()).await.unwrap().is_empty());
    }

    async fn forecast_calls_and_adjustments_are_checked_and_kept_as_history(store) {
        use pipewise_core::forecast::{CallLine, SubmissionKind};
        use pipewise_store::forecasts::{self, SubmitFailed};
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let deal = open_deal(store, &acme, "Globex rollout").await.state;
        let [raj, rosa] = acme.reps;
        // Due 31 March 2026: fiscal 2027-Q1 with a February start.
        let period = "2027-Q1".parse().unwrap();
        let line = |include: bool, note: Option<&str>| CallLine {
            opportunity_id: deal.id,
            include,
            note: note.map(|n| Note::parse(n).unwrap()),
        };
        let fields = |failed: SubmitFailed| match failed {
            SubmitFailed::Invalid(errors) => {
                errors.iter().map(|e| e.field().to_owned()).collect::<Vec<_>>()
            }
            other => panic!("{other}"),
        };
        // A Pipeline deal in the call needs a note; nothing is stored without one.
        let refused = forecasts::call(store, ws, period, raj, vec![line(true, None)], raj, at("2026-02-02T09:00:00Z")).await.unwrap_err();
        assert_eq!(fields(refused), ["lines[0].note"]);
        assert!(store.submissions(ws.id, period).await.unwrap().is_empty());
        // Another rep cannot call for Raj.
        let refused = forecasts::call(store, ws, period, raj, vec![], rosa, at("2026-02-02T09:00:00Z")).await.unwrap_err();
        assert_eq!(fields(refused), ["submitted_by"]);

        let first = forecasts::call(store, ws, period, raj, vec![line(true, Some("Budget signed off"))], raj, at("2026-02-02T09:00:00Z")).await.unwrap();
        let second = forecasts::call(store, ws, period, raj, vec![line(false, None)], raj, at("2026-02-09T09:00:00Z")).await.unwrap();
        let adjusted = forecasts::adjust(
            store, ws, period, raj, Money::new(3_000_000, Currency::USD),
            Note::parse("Globex will sign, but late in the quarter").unwrap(),
            acme.manager, at("2026-02-10T09:00:00Z"),
        ).await.unwrap();
        assert!(matches!(adjusted.kind, SubmissionKind::Adjustment { .. }));
        // Every submission is kept, oldest first; a later call does not replace the earlier.
        assert_eq!(store.submissions(ws.id, period).await.unwrap(), [first, second, adjusted]);
        assert!(store.submissions(ws.id, "2027-Q2".parse().unwrap()).await.unwrap().is_empty());

        // A rep adjusts no one; an amount in another currency is refused.
        let refused = forecasts::adjust(store, ws, period, acme.manager, Money::new(1, Currency::USD), Note::parse("More").unwrap(), raj, at("2026-02-10T09:00:00Z")).await.unwrap_err();
        assert_eq!(fields(refused), ["subject_id"]);
        let refused = forecasts::adjust(store, ws, period, raj, Money::new(1, Currency::EUR), Note::parse("More").unwrap(), acme.manager, at("2026-02-10T09:00:00Z")).await.unwrap_err();
        assert_eq!(fields(refused), ["amount"]);

        store.delete_workspace(ws.id).await.unwrap();
        assert!(store.submissions(ws.id, period).await.unwrap().is_empty());
    }

    async fn exchange_rates_are_stored_replaced_by_day_and_deleted_with_the_workspace(store) {
        use pipewise_core::exchange::{ExchangeRate, ExchangeRates, Rate};
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = acme.workspace.id;
        let rate = |currency: Currency, from: &str, rate: &str| ExchangeRate {
            currency,
            valid_from: day(from),
            rate: Rate::parse(rate).unwrap(),
        };
        store.set_exchange_rates(ws, &[
            rate(Currency::EUR, "2026-01-01", "1.0825"),
            rate(Currency::GBP, "2026-01-01", "1.27"),
            rate(Currency::EUR, "2026-02-01", "1.09"),
        ]).await.unwrap();
        // The same currency and day again replaces the rate.
        store.set_exchange_rates(ws, &[rate(Currency::EUR, "2026-02-01", "1.1")]).await.unwrap();
        let stored = store.exchange_rates(ws).await.unwrap();
        assert_eq!(stored, [
            rate(Currency::EUR, "2026-01-01", "1.0825"),
            rate(Currency::EUR, "2026-02-01", "1.1"),
            rate(Currency::GBP, "2026-01-01", "1.27"),
        ]);
        // €1,000.00 on 15 January at 1.0825 is $1,082.50; on 1 March at 1.1, $1,100.00.
        let rates = ExchangeRates::with(Currency::USD, &stored);
        assert_eq!(rates.convert(Money::new(100_000, Currency::EUR), day("2026-01-15")), Ok(108_250));
        assert_eq!(rates.convert(Money::new(100_000, Currency::EUR), day("2026-03-01")), Ok(110_000));
        store.delete_workspace(ws).await.unwrap();
        assert!(store.exchange_rates(ws).await.unwrap().is_empty());
    }

    async fn targets_are_read_back(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let quota = |n: u8, owner, period: &str, dollars: i64| Target {
            version: 1,
            id: TargetId::from_parts(1_800_000_000_000 + u64::from(n), [n; 10]),
            owner,
            period: period.parse().unwrap(),
            amount: Money::new(dollars * 100, Currency::USD),
        };
        let batch = Batch {
            targets: vec![
                quota(1, TargetOwner::Workspace, "2026-Q3", 500_000),
                quota(2, TargetOwner::User(acme.reps[0]), "2026-Q3", 120_000),
                quota(3, TargetOwner::Team(acme.team), "FY2026", 900_000),
            ],
            ..Batch::default()
        };
        store.write_batch(acme.workspace.id, &batch).await.unwrap();
        let mut read = store.targets(acme.workspace.id).await.unwrap();
        read.sort_by_key(|t| t.id);
        assert_eq!(read, batch.targets);
    }

    async fn the_analytics_projection_loads_the_stored_log(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let first = open_deal(store, &acme, "Globex rollout").await.state;
        let second = open_deal(store, &acme, "Initech pilot").await.state;
        let process = Process::default_enterprise();
        let stamp = Stamp::now(acme.manager, at("2026-02-01T10:00:00Z"));
        commands::execute(store, ws, &process, second.id, None, Command::RecordEvidence(
            EvidenceChange::Scored { item: ScoreItem::MeddiccIdentifyPain, value: 2 },
        ), stamp).await.unwrap();
        commands::execute(store, ws, &process, second.id, None, Command::CloseLost {
            on: day("2026-02-01"),
            loss_type: LossType::NoDecision,
            reason: None,
            competitor: None,
        }, stamp).await.unwrap();
        let projection = pipewise_store::analytics::projection(store, ws).await.unwrap();
        assert_eq!(projection.len(), 2);
        let now = at("2026-03-01T00:00:00Z");
        // Both deals opened on 5 January at $48,000 in `qualified` (Pipeline); the second was
        // lost on 1 February, the evidence event before it notwithstanding.
        let open = projection.state_at(first.id, now).unwrap();
        assert_eq!((open.category, open.amount), (ForecastCategory::Pipeline, first.amount));
        let lost = projection.state_at(second.id, now).unwrap();
        assert_eq!(lost.category, ForecastCategory::Omitted);
        let pipeline = projection.pipeline_at(now);
        assert_eq!(pipeline.categories[&ForecastCategory::Pipeline].count, 1);
    }

    async fn the_analytics_read_gates_stakeholders_and_touches_and_skip_other_evidence(store) {
        use futures_util::TryStreamExt;
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let deal = open_deal(store, &acme, "Globex rollout").await.state;
        let process = Process::default_enterprise();
        let stamp = Stamp::now(acme.reps[0], at("2026-01-06T10:00:00Z"));
        let contact = ContactId::from_parts(1_800_000_000_000, [9; 10]);
        let champion = Contact {
            version: 1,
            id: contact,
            account_id: acme.accounts[0],
            name: Name::parse("Dana Reyes").unwrap(),
            email: None,
            title: None,
            buying_role: Some(BuyingRole::Champion),
            created_at: at("2025-06-01T00:00:00Z"),
        };
        store.write_batch(ws.id, &Batch { contacts: vec![champion], ..Batch::default() }).await.unwrap();
        for change in [
            EvidenceChange::Scored { item: ScoreItem::MeddiccIdentifyPain, value: 2 },
            EvidenceChange::StakeholderSet(Stakeholder {
                contact_id: contact,
                role: BuyingRole::Champion,
                engagement: Engagement::Engaged,
            }),
            EvidenceChange::GateDecided {
                gate: Gate::ProblemImpact,
                decision: GateDecision::Fail { remedy: Note::parse("Pain workshop").unwrap() },
            },
            EvidenceChange::StakeholderRemoved { contact_id: contact },
        ] {
            commands::execute(store, ws, &process, deal.id, None, Command::RecordEvidence(change), stamp)
                .await
                .unwrap();
        }
        let seqs = |events: Vec<opportunity::OpportunityEvent>| -> Vec<u32> {
            events.iter().map(|e| e.seq).collect()
        };
        let all = store.event_log(ws.id).try_collect().await.unwrap();
        assert_eq!(seqs(all), [1, 2, 3, 4, 5]);
        // The score (event 2) is the only evidence the analytics leave out.
        let read = store.event_log_for_analytics(ws.id).try_collect().await.unwrap();
        assert_eq!(seqs(read), [1, 3, 4, 5]);

        let activity = |n: u8, kind, contact_id| Activity {
            version: 1,
            id: ActivityId::from_parts(1_800_000_000_000 + u64::from(n), [n; 10]),
            kind,
            occurred_at: at("2026-01-07T15:00:00Z"),
            user_id: acme.reps[0],
            account_id: Some(acme.accounts[0]),
            contact_id,
            lead_id: None,
            opportunity_id: Some(deal.id),
            subject: Name::parse("Discovery").unwrap(),
            outcome: None,
        };
        let batch = Batch {
            activities: vec![
                activity(1, ActivityKind::Meeting, Some(contact)),
                activity(2, ActivityKind::Note, None),
            ],
            ..Batch::default()
        };
        store.write_batch(ws.id, &batch).await.unwrap();
        let touches: Vec<DealTouch> = store.deal_touches(ws.id).try_collect().await.unwrap();
        assert_eq!(
            touches,
            [DealTouch {
                opportunity_id: deal.id,
                occurred_at: at("2026-01-07T15:00:00Z"),
                contact_id: Some(contact),
            }]
        );
    }

    async fn hygiene_reads_deals_activities_accounts_and_contacts(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        let deal = open_deal(store, &acme, "Globex rollout").await.state;
        let contact = |n: u8, email: &str| Contact {
            version: 1,
            id: ContactId::from_parts(1_800_000_000_000 + u64::from(n), [n; 10]),
            account_id: acme.accounts[0],
            name: Name::parse(&format!("Dana {n}")).unwrap(),
            email: Some(Email::parse(email).unwrap()),
            title: None,
            buying_role: None,
            created_at: at("2025-06-01T00:00:00Z"),
        };
        let activity = |n: u8, kind, when: &str| Activity {
            version: 1,
            id: ActivityId::from_parts(1_800_000_000_000 + u64::from(n), [n; 10]),
            kind,
            occurred_at: at(when),
            user_id: acme.reps[0],
            account_id: Some(acme.accounts[0]),
            contact_id: None,
            lead_id: None,
            opportunity_id: Some(deal.id),
            subject: Name::parse("Discovery").unwrap(),
            outcome: None,
        };
        let batch = Batch {
            contacts: vec![contact(1, "dana@globex.example"), contact(2, "DANA@globex.example")],
            activities: vec![
                activity(1, ActivityKind::Call, "2026-01-20T15:00:00Z"),
                // Notes are not meaningful activity.
                activity(2, ActivityKind::Note, "2026-02-01T15:00:00Z"),
            ],
            ..Batch::default()
        };
        store.write_batch(ws.id, &batch).await.unwrap();
        assert_eq!(store.contact(ws.id, batch.contacts[0].id).await.unwrap(), batch.contacts[0]);
        assert!(matches!(store.contact(ws.id, ContactId::generate()).await, Err(StoreError::NotFound { .. })));
        assert_eq!(store.teams(ws.id).await.unwrap().len(), 1);
        let last = store.last_activity(ws.id).await.unwrap();
        assert_eq!(last.opportunities, [(deal.id, at("2026-01-20T15:00:00Z"))].into());
        assert_eq!(last.accounts, [(acme.accounts[0], at("2026-01-20T15:00:00Z"))].into());
        assert!(last.contacts.is_empty(), "the activities name no contact");

        let report = pipewise_store::hygiene::report(store, ws, day("2026-02-10"), &HygieneRules::shipped()).await.unwrap();
        let found: Vec<(RuleId, &str)> = report.findings.iter().map(|f| (f.rule, f.detail.as_str())).collect();
        assert_eq!(
            found,
            [
                (RuleId::NextStepOverdue, "\"Discovery call with the COO\" was due 2026-01-12"),
                (RuleId::NoRecentActivity, "last call, e-mail or meeting 2026-01-20 (21 days ago)"),
                // Opened 5 January in `qualified`, typically 14 days.
                (RuleId::StalledInStage, "36 days in Qualified; typical duration is 14 days"),
                (RuleId::DuplicateContact, "dana@globex.example belongs to 2 contacts"),
                (RuleId::DuplicateContact, "dana@globex.example belongs to 2 contacts"),
            ]
        );
        assert_eq!(report.teams[0].name, "EMEA Mid-Market");
        // A day before the deal was opened cannot be "today" for records as they are now.
        let early = pipewise_store::hygiene::report(store, ws, day("2026-01-04"), &HygieneRules::shipped()).await;
        assert_eq!(
            early.unwrap_err().to_string(),
            "as of 2026-01-04 is before the workspace's latest change on 2026-01-05; hygiene judges \
             records as they are now, so take a day on or after it"
        );
        assert_eq!(report.owners[0].open_deals, 1);
    }

    async fn process_versions_record_who_changed_what_and_keep_the_running_one_on_errors(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = &acme.workspace;
        // A new workspace runs the shipped processes as version 1.
        let running = processes::current(store, ws).await.unwrap();
        assert_eq!(running, ProcessSet::shipped());
        let history = store.process_history(ws.id).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!((history[0].version, history[0].changed_by), (ProcessVersion(1), None));

        let files = |enterprise: String| vec![
            ProcessFile { name: "enterprise.toml".into(), text: enterprise },
            ProcessFile { name: "smb.toml".into(), text: shipped_files()[1].text.clone() },
        ];
        let shipped = shipped_files()[0].text.clone();
        let when = at("2026-02-01T09:00:00Z");
        // The same files change nothing.
        let same = processes::apply(store, ws, files(shipped.clone()), acme.manager, when).await.unwrap();
        assert_eq!(same, processes::Applied::Unchanged(ProcessVersion(1)));

        // Evaluating typically takes 45 days instead of 30.
        let slower = shipped.replacen("typical_days = 30\n\n[[stages]]\nkey = \"shortlisted\"", "typical_days = 45\n\n[[stages]]\nkey = \"shortlisted\"", 1);
        assert_ne!(slower, shipped);
        let applied = processes::apply(store, ws, files(slower.clone()), acme.manager, when).await.unwrap();
        let processes::Applied::NewVersion(revision) = applied else { panic!("expected a new version") };
        assert_eq!(revision.version, ProcessVersion(2));
        assert_eq!(revision.changes, ["enterprise: stage `evaluating` changed: typical days"]);
        let running = processes::current(store, ws).await.unwrap();
        assert_eq!(running.version(), ProcessVersion(2));
        let evaluating = "evaluating".parse().unwrap();
        let enterprise = running.get(&"enterprise".parse().unwrap()).unwrap();
        assert_eq!(enterprise.stage(&evaluating).unwrap().typical_days, 45);
        // The earlier version is kept for reading history made under it.
        let first = processes::at_version(store, ws, ProcessVersion(1)).await.unwrap();
        assert_eq!(first.default_process().stage(&evaluating).unwrap().typical_days, 30);

        // A broken file is refused with its location; version 2 stays in force.
        let broken = slower.replace("phase = \"funded_projects\"", "phase = \"funded\"");
        let refused = processes::apply(store, ws, files(broken), acme.manager, when).await.unwrap_err();
        assert!(refused.to_string().starts_with("enterprise.toml:"), "{refused}");
        assert!(refused.to_string().contains("stages[2].phase: `funded` is not accepted"), "{refused}");
        assert_eq!(processes::current(store, ws).await.unwrap().version(), ProcessVersion(2));

        // Removing the stage an open deal is in would strand it.
        open_deal(store, &acme, "Globex rollout").await;
        let smb_only = vec![ProcessFile { name: "smb.toml".into(), text: shipped_files()[1].text.clone() }];
        let refused = processes::apply(store, ws, smb_only, acme.manager, when).await.unwrap_err();
        assert_eq!(
            refused.to_string(),
            "process `enterprise` is removed but 1 open deal is in it; move or close them first"
        );
        assert_eq!(store.process_history(ws.id).await.unwrap().len(), 2);

        // Two writers cannot both record version 3.
        let third = ProcessRevision { version: ProcessVersion(3), changed_by: Some(acme.manager), changed_at: when, changes: vec!["x".into()] };
        store.record_process_version(ws.id, &third, &files(slower.clone())).await.unwrap();
        let again = store.record_process_version(ws.id, &third, &files(slower)).await;
        assert!(matches!(again, Err(StoreError::VersionConflict { current: 3 })), "{again:?}");
    }

    async fn workspaces_are_found_by_slug_and_slugs_are_unique(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        assert_eq!(store.workspace(&acme.workspace.slug).await.unwrap(), acme.workspace);
        let mut twin = org("acme", 2).workspace;
        twin.name = Name::parse("Another Acme").unwrap();
        assert!(matches!(store.create_workspace(&twin).await, Err(StoreError::Conflict(_))));
        assert_eq!(store.workspaces().await.unwrap(), vec![acme.workspace.clone()]);
        let missing = "nobody".parse().unwrap();
        assert!(matches!(store.workspace(&missing).await, Err(StoreError::NotFound { .. })));
    }

    async fn passwords_sessions_and_tokens_are_kept_per_workspace(store) {
        let acme = org("acme", 1);
        let umbrella = org("umbrella", 2);
        install(store, &acme).await;
        install(store, &umbrella).await;
        let ws = acme.workspace.id;
        let raj = acme.reps[0];
        let t0 = at("2026-11-02T09:00:00Z");
        let email = Email::parse("RAJ@acme.example.com").unwrap();
        assert_eq!(store.user_by_email(ws, &email).await.unwrap().id, raj);
        assert!(matches!(store.user_by_email(umbrella.workspace.id, &email).await, Err(StoreError::NotFound { .. })));

        assert_eq!(store.password_hash(ws, raj).await.unwrap(), None);
        store.set_password(ws, raj, "$argon2id$first", t0).await.unwrap();
        store.set_password(ws, raj, "$argon2id$second", t0).await.unwrap();
        assert_eq!(store.password_hash(ws, raj).await.unwrap().as_deref(), Some("$argon2id$second"));
        assert_eq!(store.users_with_password(ws).await.unwrap(), vec![raj]);
        assert!(store.users_with_password(umbrella.workspace.id).await.unwrap().is_empty());

        // A session is found by id with its secret's hash, in its own workspace only.
        let session = Session { id: SessionId::generate(), user_id: raj, created_at: t0, expires_at: t0 + Duration::days(7) };
        store.create_session(ws, &session, &[7; 32]).await.unwrap();
        assert_eq!(store.session(ws, session.id).await.unwrap(), (session.clone(), vec![7; 32]));
        assert!(matches!(store.session(umbrella.workspace.id, session.id).await, Err(StoreError::NotFound { .. })));
        // A later session clears the expired ones; a new password ends the rest.
        let later = Session { id: SessionId::generate(), created_at: t0 + Duration::days(8), expires_at: t0 + Duration::days(15), ..session.clone() };
        store.create_session(ws, &later, &[8; 32]).await.unwrap();
        assert!(matches!(store.session(ws, session.id).await, Err(StoreError::NotFound { .. })));
        store.set_password(ws, raj, "$argon2id$third", t0).await.unwrap();
        assert!(matches!(store.session(ws, later.id).await, Err(StoreError::NotFound { .. })));
        store.create_session(ws, &later, &[8; 32]).await.unwrap();
        store.delete_session(ws, later.id).await.unwrap();
        store.delete_session(ws, later.id).await.unwrap();
        assert!(matches!(store.session(ws, later.id).await, Err(StoreError::NotFound { .. })));

        let token = ApiToken {
            id: TokenId::generate(),
            user_id: raj,
            name: Label::parse("nightly export").unwrap(),
            scope: TokenScope::Read,
            created_at: t0,
            last_used_at: None,
            revoked_at: None,
        };
        store.create_api_token(ws, &token, &[9; 32]).await.unwrap();
        store.api_token_used(ws, token.id, t0 + Duration::hours(1)).await.unwrap();
        store.revoke_api_token(ws, token.id, t0 + Duration::hours(2)).await.unwrap();
        store.revoke_api_token(ws, token.id, t0 + Duration::hours(3)).await.unwrap();
        let expected = ApiToken {
            last_used_at: Some(t0 + Duration::hours(1)),
            revoked_at: Some(t0 + Duration::hours(2)),
            ..token.clone()
        };
        assert_eq!(store.api_token(ws, token.id).await.unwrap(), (expected.clone(), vec![9; 32]));
        assert_eq!(store.api_tokens(ws).await.unwrap(), vec![expected]);
        let elsewhere = umbrella.workspace.id;
        assert!(store.api_tokens(elsewhere).await.unwrap().is_empty());
        assert!(matches!(store.revoke_api_token(elsewhere, token.id, t0).await, Err(StoreError::NotFound { .. })));

        // Reps see their team by default; the setting is kept per workspace.
        assert_eq!(store.workspace(&acme.workspace.slug).await.unwrap().rep_visibility, RepVisibility::Team);
        store.set_rep_visibility(ws, RepVisibility::Own).await.unwrap();
        assert_eq!(store.workspace(&acme.workspace.slug).await.unwrap().rep_visibility, RepVisibility::Own);
        assert_eq!(store.workspace(&umbrella.workspace.slug).await.unwrap().rep_visibility, RepVisibility::Team);

        // Deleting the workspace takes its credentials with it.
        store.delete_workspace(ws).await.unwrap();
        assert!(store.api_tokens(ws).await.unwrap().is_empty());
    }

    async fn deal_events_queue_webhook_deliveries_that_go_out_in_order_per_deal(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let ws = acme.workspace.id;
        let t0 = at("2026-11-02T09:00:00Z");
        let hook = |n: u8, events: EventFilter| Webhook {
            id: WebhookId::from_parts(u64::from(n), [n; 10]),
            url: WebhookUrl::parse("https://hooks.example.com/pw").unwrap(),
            events,
            created_by: acme.manager,
            created_at: t0,
            failed_deliveries: 0,
            disabled_at: None,
        };
        let every = hook(1, EventFilter::All(AllEvents));
        let amounts = hook(2, EventFilter::Patterns(vec!["opportunity.amount_changed".parse().unwrap()]));
        let disabled = Webhook { disabled_at: Some(t0), ..hook(3, EventFilter::All(AllEvents)) };
        for h in [&every, &amounts, &disabled] {
            store.create_webhook(ws, h, "s3cret").await.unwrap();
        }
        assert_eq!(store.webhook(ws, amounts.id).await.unwrap(), (amounts.clone(), "s3cret".to_owned()));
        assert_eq!(store.webhooks(ws).await.unwrap(), vec![every.clone(), amounts.clone(), disabled.clone()]);

        let deal = open_deal(store, &acme, "Globex rollout").await.state;
        let process = Process::default_enterprise();
        let stamp = Stamp::now(acme.reps[0], deal.updated_at + Duration::hours(1));
        commands::execute(store, &acme.workspace, &process, deal.id, None, Command::ChangeAmount(Some(Money::new(5_000_000, Currency::USD))), stamp).await.unwrap();

        let later = t0 + Duration::days(365);
        let due = store.due_deliveries(ws, later, 10).await.unwrap();
        let keys: Vec<(WebhookId, Uuid, u32, EventType)> =
            due.iter().map(|d| (d.webhook_id, d.record_id, d.seq, d.event_type)).collect();
        // The deal's second event waits for its first; the disabled hook gets nothing.
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys.contains(&(every.id, deal.id.as_uuid(), 1, EventType::Deal(EventKind::Created))));
        assert!(keys.contains(&(amounts.id, deal.id.as_uuid(), 2, EventType::Deal(EventKind::AmountChanged))));
        let first = due.iter().find(|d| d.webhook_id == every.id).unwrap();
        let delivered = first.after(Attempt::Accepted { status: 200 }, later, chrono::Duration::seconds(30));
        store.record_delivery(ws, &delivered, &every).await.unwrap();
        let due = store.due_deliveries(ws, later, 10).await.unwrap();
        assert!(due.iter().any(|d| d.webhook_id == every.id && d.seq == 2));
        // Not yet due before its time.
        assert!(store.due_deliveries(ws, first.created_at - Duration::seconds(1), 10).await.unwrap().is_empty());
        let log = store.deliveries(ws, every.id, 10).await.unwrap();
        assert_eq!(log.iter().map(|d| (d.seq, d.status)).collect::<Vec<_>>(), [(2, DeliveryStatus::Pending), (1, DeliveryStatus::Delivered)]);

        store.delete_webhook(ws, every.id).await.unwrap();
        assert!(matches!(store.webhook(ws, every.id).await, Err(StoreError::NotFound { .. })));
        store.delete_workspace(ws).await.unwrap();
        assert!(store.webhooks(ws).await.unwrap().is_empty());
    }

    async fn a_batch_is_written_whole(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let counts = store.counts(acme.workspace.id).await.unwrap();
        assert_eq!(
            counts,
            Counts { teams: 1, users: 3, accounts: 2, ..Counts::default() }
        );
        assert_eq!(store.users(acme.workspace.id).await.unwrap(), acme.batch.users);
        let account = store.account(acme.workspace.id, acme.accounts[1]).await.unwrap();
        assert_eq!(account, acme.batch.accounts[1]);
    }

    async fn a_batch_with_one_bad_row_writes_nothing(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let good = Contact {
            version: 1,
            id: ContactId::generate(),
            account_id: acme.accounts[0],
            name: Name::parse("Grace Hopper").unwrap(),
            email: None,
            title: None,
            buying_role: None,
            created_at: at("2026-01-01T00:00:00Z"),
        };
        let orphan = Contact {
            id: ContactId::generate(),
            account_id: AccountId::generate(),
            ..good.clone()
        };
        let deal = opportunity::open(
            OpportunityId::generate(),
            created(&acme, "Globex rollout"),
            &Process::default_enterprise(),
            Stamp::now(acme.reps[0], at("2026-01-05T09:00:00Z")),
        )
        .unwrap();
        let batch = Batch { contacts: vec![good, orphan], opportunities: vec![deal], ..Batch::default() };
        let error = store.write_batch(acme.workspace.id, &batch).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict(_)), "{error}");
        let counts = store.counts(acme.workspace.id).await.unwrap();
        assert_eq!((counts.contacts, counts.opportunities, counts.opportunity_events), (0, 0, 0));
    }

    async fn a_batch_failing_in_a_later_statement_writes_nothing(store) {
        // Contacts go 3,333 to a statement; the orphan's id is the last made, so it sorts
        // last and fails the third, while the next statements are being made.
        let acme = org("acme", 1);
        install(store, &acme).await;
        let contact = |account_id| Contact {
            version: 1,
            id: ContactId::generate(),
            account_id,
            name: Name::parse("Grace Hopper").unwrap(),
            email: None,
            title: None,
            buying_role: None,
            created_at: at("2026-01-01T00:00:00Z"),
        };
        let mut contacts: Vec<Contact> = (0..7_000).map(|_| contact(acme.accounts[0])).collect();
        contacts.push(contact(AccountId::generate()));
        let batch = Batch { contacts, ..Batch::default() };
        let error = store.write_batch(acme.workspace.id, &batch).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict(_)), "{error}");
        assert_eq!(store.counts(acme.workspace.id).await.unwrap().contacts, 0);
    }

    async fn an_opportunity_reads_back_as_written_with_its_events(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let recorded = open_deal(store, &acme, "Globex rollout").await;
        let id = recorded.state.id;
        assert_eq!(store.opportunity(acme.workspace.id, id).await.unwrap(), recorded.state);
        assert_eq!(store.opportunity_events(acme.workspace.id, id).await.unwrap(), recorded.events);
    }

    async fn updates_need_the_current_version(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let first = open_deal(store, &acme, "Globex rollout").await;
        let later = |hours| Stamp::now(acme.reps[0], at("2026-01-05T09:00:00Z") + Duration::hours(hours));
        let push = opportunity::execute(&first.state, Command::ChangeCloseDate(day("2026-04-30")), &process, later(1)).unwrap();
        store.record(acme.workspace.id, &push).await.unwrap();
        // A second writer decided on the original state: refused, and nothing is appended.
        let stale = opportunity::execute(&first.state, Command::ChangeAmount(None), &process, later(2)).unwrap();
        let error = store.record(acme.workspace.id, &stale).await.unwrap_err();
        assert!(matches!(error, StoreError::VersionConflict { current: 2 }), "{error}");
        let events = store.opportunity_events(acme.workspace.id, first.state.id).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].change.kind(), EventKind::CloseDateChanged);
        let stored = store.opportunity(acme.workspace.id, first.state.id).await.unwrap();
        assert_eq!(stored, push.state);
    }

    async fn changes_written_at_once_each_get_their_own_outcome(store) {
        // Submitted together, as concurrent requests are: SQLite writes those waiting in one
        // transaction, and one change's refusal or failure must not be another's.
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let mut deals = Vec::new();
        for name in ["Globex", "Initech", "Umbrella", "Hooli"] {
            deals.push(open_deal(store, &acme, name).await.state);
        }
        let stamp = Stamp::now(acme.reps[0], at("2026-01-06T09:00:00Z"));
        let change = |deal, command| opportunity::execute(deal, command, &process, stamp).unwrap();
        let amount = |minor| Command::ChangeAmount(Some(Money::new(minor, Currency::USD)));
        let mut announced = store.subscribe();

        // Two changes decided on the same version of Globex: one is stored, the other refused.
        let first_round = [
            change(&deals[0], amount(100_000)),
            change(&deals[0], amount(200_000)),
            change(&deals[1], Command::ChangeCloseDate(day("2026-05-29"))),
        ];
        let outcomes = futures_util::future::join_all(first_round.iter().map(|c| store.record(acme.workspace.id, c))).await;
        let globex = match (&outcomes[0], &outcomes[1]) {
            (Ok(()), Err(StoreError::VersionConflict { current: 2 })) => &first_round[0],
            (Err(StoreError::VersionConflict { current: 2 }), Ok(())) => &first_round[1],
            other => panic!("one of two changes on one version must be stored: {other:?}"),
        };
        assert!(outcomes[2].is_ok(), "{:?}", outcomes[2]);

        // A change naming an owner who does not exist fails in the database; the changes
        // around it are still stored, and a deal that does not exist is not found.
        let missing = opportunity::Opportunity { id: OpportunityId::generate(), ..deals[3].clone() };
        let second_round = [
            change(&deals[2], amount(300_000)),
            change(&deals[3], Command::ChangeOwner(UserId::generate())),
            change(&missing, amount(400_000)),
            change(&deals[3], amount(500_000)),
        ];
        let outcomes = futures_util::future::join_all(second_round.iter().map(|c| store.record(acme.workspace.id, c))).await;
        assert!(outcomes[0].is_ok(), "{:?}", outcomes[0]);
        assert!(matches!(outcomes[1], Err(StoreError::Conflict(_))), "{:?}", outcomes[1]);
        assert!(matches!(outcomes[2], Err(StoreError::NotFound { what: "opportunity", .. })), "{:?}", outcomes[2]);
        assert!(outcomes[3].is_ok(), "{:?}", outcomes[3]);

        let stored = |id| async move { store.opportunity(acme.workspace.id, id).await.unwrap() };
        let applied = [globex, &first_round[2], &second_round[0], &second_round[3]];
        for recorded in applied {
            assert_eq!(stored(recorded.state.id).await, recorded.state);
        }
        // Each stored change is announced once, with its event.
        let mut announced_events = Vec::new();
        while let Ok(pipewise_store::Written::Events { events, .. }) = announced.try_recv() {
            announced_events.extend(events.iter().cloned());
        }
        let mut stored_events: Vec<_> = applied.iter().flat_map(|c| c.events.clone()).collect();
        let key = |e: &opportunity::OpportunityEvent| (e.opportunity_id, e.seq);
        announced_events.sort_by_key(key);
        stored_events.sort_by_key(key);
        assert_eq!(announced_events, stored_events);
        let report = integrity::check(store, acme.workspace.id).await.unwrap();
        assert!(report.is_consistent(), "{:?}", report.problems);
        assert_eq!((report.opportunities, report.events), (4, 8));
    }

    async fn a_change_to_an_indexed_column_alone_is_stored_and_found_by_it(store) {
        // Changes that leave the owner, status and close date alone are written without them;
        // one that changes only those must still reach the row and the indexes.
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let deal = open_deal(store, &acme, "Globex rollout").await.state;
        let stamp = Stamp::now(acme.reps[0], at("2026-01-06T09:00:00Z"));
        let handed_over = opportunity::execute(&deal, Command::ChangeOwner(acme.reps[1]), &process, stamp).unwrap();
        store.record(acme.workspace.id, &handed_over).await.unwrap();
        let lost_when_due = Command::CloseLost {
            on: deal.close_date,
            loss_type: LossType::NoDecision,
            reason: None,
            competitor: None,
        };
        let lost = opportunity::execute(&handed_over.state, lost_when_due, &process, stamp).unwrap();
        assert_eq!(lost.state.close_date, deal.close_date);
        store.record(acme.workspace.id, &lost).await.unwrap();
        assert_eq!(store.opportunity(acme.workspace.id, deal.id).await.unwrap(), lost.state);
        let first = PageRequest { after: None, limit: 10 };
        let found = |filter: DealFilter| async move {
            let page = store.opportunities(acme.workspace.id, first, &filter).await.unwrap();
            page.items.iter().map(|o| o.id).collect::<Vec<_>>()
        };
        let owned_by = |owner| DealFilter { owners: Some(vec![owner]), ..DealFilter::default() };
        let with_status = |status| DealFilter { status: Some(status), ..DealFilter::default() };
        assert_eq!(found(owned_by(acme.reps[0])).await, []);
        assert_eq!(found(owned_by(acme.reps[1])).await, [deal.id]);
        assert_eq!(found(with_status(opportunity::Status::Open)).await, []);
        assert_eq!(found(with_status(opportunity::Status::Lost)).await, [deal.id]);
    }

    async fn opening_the_same_opportunity_twice_is_refused(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let recorded = open_deal(store, &acme, "Globex rollout").await;
        let error = store.record(acme.workspace.id, &recorded).await.unwrap_err();
        assert!(matches!(error, StoreError::VersionConflict { current: 1 }), "{error}");
    }

    async fn pages_follow_creation_order_without_gaps(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let mut ids = Vec::new();
        for i in 0..25 {
            ids.push(open_deal(store, &acme, &format!("Deal {i}")).await.state.id);
        }
        let mut seen = Vec::new();
        let mut after = None;
        let mut sizes = Vec::new();
        loop {
            let page = store.opportunities(acme.workspace.id, PageRequest { after, limit: 10 }, &DealFilter::default()).await.unwrap();
            sizes.push(page.items.len());
            seen.extend(page.items.iter().map(|o| o.id));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(sizes, [10, 10, 5]);
        assert_eq!(seen, ids, "every deal once, in creation order");
        // Only the owners asked for: all 25 are Raj's, none Rosa's.
        let first = PageRequest { after: None, limit: 100 };
        let owners = |ids: &[UserId]| DealFilter { owners: Some(ids.to_vec()), ..DealFilter::default() };
        let raj = store.opportunities(acme.workspace.id, first, &owners(&[acme.reps[0], acme.manager])).await.unwrap();
        assert_eq!(raj.items.len(), 25);
        let rosa = store.opportunities(acme.workspace.id, first, &owners(&[acme.reps[1]])).await.unwrap();
        assert!(rosa.items.is_empty() && rosa.next_after.is_none());
        assert!(store.opportunities(acme.workspace.id, first, &owners(&[])).await.unwrap().items.is_empty());
        // By stage, status and close date: all 25 are open in `qualified`, closing 2026-03-31.
        let count = |filter: DealFilter| async move {
            store.opportunities(acme.workspace.id, first, &filter).await.unwrap().items.len()
        };
        let range = |from: &str, to: &str| Some(DateRange { start: day(from), end: day(to) });
        assert_eq!(count(DealFilter { stage: Some("qualified".parse().unwrap()), ..DealFilter::default() }).await, 25);
        assert_eq!(count(DealFilter { stage: Some("redlining".parse().unwrap()), ..DealFilter::default() }).await, 0);
        assert_eq!(count(DealFilter { status: Some(opportunity::Status::Open), ..DealFilter::default() }).await, 25);
        assert_eq!(count(DealFilter { status: Some(opportunity::Status::Won), ..DealFilter::default() }).await, 0);
        assert_eq!(count(DealFilter { closing: range("2026-03-31", "2026-04-01"), ..DealFilter::default() }).await, 25);
        assert_eq!(count(DealFilter { closing: range("2026-01-01", "2026-03-31"), ..DealFilter::default() }).await, 0);
    }

    async fn deal_lists_page_in_close_date_order_or_newest_first(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let dates = ["2026-05-01", "2026-03-31", "2026-04-15", "2026-03-31", "2026-06-30", "2026-04-15"];
        let mut ids = Vec::new();
        for (i, date) in dates.iter().enumerate() {
            let opened = open_deal(store, &acme, &format!("Deal {i}")).await;
            let stamp = Stamp::now(acme.reps[0], at("2026-01-06T09:00:00Z"));
            let moved = opportunity::execute(&opened.state, Command::ChangeCloseDate(day(date)), &process, stamp).unwrap();
            store.record(acme.workspace.id, &moved).await.unwrap();
            ids.push(opened.state.id);
        }
        // Every page of two, following the cursor: deal indexes in the order they came.
        let pages = |order: DealOrder| {
            let ids = ids.clone();
            async move {
                let filter = DealFilter { order, ..DealFilter::default() };
                let mut seen = Vec::new();
                let mut after = None;
                loop {
                    let page = store.opportunities(acme.workspace.id, PageRequest { after, limit: 2 }, &filter).await.unwrap();
                    seen.extend(page.items.iter().map(|o| ids.iter().position(|id| *id == o.id).unwrap()));
                    match page.next_after {
                        Some(next) => after = Some(next),
                        None => return seen,
                    }
                }
            }
        };
        // Same dates go by creation: 31 March (1, 3), 15 April (2, 5), 1 May (0), 30 June (4).
        assert_eq!(pages(DealOrder::CloseDate).await, [1, 3, 2, 5, 0, 4]);
        assert_eq!(pages(DealOrder::CloseDateDescending).await, [4, 0, 5, 2, 3, 1]);
        assert_eq!(pages(DealOrder::CreatedDescending).await, [5, 4, 3, 2, 1, 0]);
        assert_eq!(pages(DealOrder::Created).await, [0, 1, 2, 3, 4, 5]);
    }

    async fn board_cards_are_the_deal_lists_pages_with_what_a_card_shows(store) {
        use pipewise_core::process::ForecastCategory;
        use pipewise_store::DealCard;
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let stamp = || Stamp::now(acme.reps[0], at("2026-01-06T09:00:00Z"));
        let mut ids = Vec::new();
        for (i, date) in ["2026-05-01", "2026-03-31", "2026-04-15"].iter().enumerate() {
            let opened = open_deal(store, &acme, &format!("Deal {i}")).await;
            let moved = opportunity::execute(&opened.state, Command::ChangeCloseDate(day(date)), &process, stamp()).unwrap();
            store.record(acme.workspace.id, &moved).await.unwrap();
            ids.push(opened.state.id);
        }
        // The last deal is called Commit by hand and has no amount.
        let third = store.opportunity(acme.workspace.id, ids[2]).await.unwrap();
        let called = opportunity::execute(
            &third,
            Command::OverrideCategory { to: Some(ForecastCategory::Commit), reason: Some(Note::parse("CFO signed off").unwrap()) },
            &process,
            stamp(),
        )
        .unwrap();
        store.record(acme.workspace.id, &called).await.unwrap();
        let unpriced = opportunity::execute(&called.state, Command::ChangeAmount(None), &process, stamp()).unwrap();
        store.record(acme.workspace.id, &unpriced).await.unwrap();

        let filter = DealFilter { status: Some(opportunity::Status::Open), order: DealOrder::CloseDate, ..DealFilter::default() };
        let mut cards: Vec<DealCard> = Vec::new();
        let mut after = None;
        loop {
            let page = store.deal_cards(acme.workspace.id, PageRequest { after, limit: 2 }, &filter).await.unwrap();
            cards.extend(page.items);
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        // 31 March (deal 1), 15 April (deal 2), 1 May (deal 0).
        let order: Vec<usize> = cards.iter().map(|c| ids.iter().position(|id| *id == c.id).unwrap()).collect();
        assert_eq!(order, [1, 2, 0]);
        let names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Deal 1", "Deal 2", "Deal 0"]);
        // Opened, then a new close date: version 2, and deal 2 twice more; deal 1 was opened
        // closing 31 March already, so its close date did not change.
        let versions: Vec<u32> = cards.iter().map(|c| c.version).collect();
        assert_eq!(versions, [1, 4, 2]);
        let usd = |minor| Some(Money::new(minor, Currency::USD));
        let amounts: Vec<Option<Money>> = cards.iter().map(|c| c.amount).collect();
        assert_eq!(amounts, [usd(4_800_000), None, usd(4_800_000)]);
        assert_eq!(cards[1].category_override, Some(ForecastCategory::Commit));
        assert_eq!(cards[1].forecast_category(&process), ForecastCategory::Commit);
        // `qualified` is a Pipeline stage of the shipped process.
        assert_eq!(cards[0].forecast_category(&process), ForecastCategory::Pipeline);
        for card in &cards {
            assert_eq!((card.owner_id, card.status), (acme.reps[0], opportunity::Status::Open));
            assert_eq!((card.process.as_str(), card.stage.as_str()), ("enterprise", "qualified"));
            assert_eq!(card.segment.as_ref().map(|s| s.as_str()), Some("Mid-Market"));
        }
        assert_eq!(cards[2].close_date, day("2026-05-01"));
    }

    async fn workspaces_never_see_each_others_data(store) {
        let acme = org("acme", 1);
        let umbrella = org("umbrella", 2);
        install(store, &acme).await;
        install(store, &umbrella).await;
        let deal = open_deal(store, &acme, "Globex rollout").await.state.id;
        let other = umbrella.workspace.id;
        assert!(matches!(store.opportunity(other, deal).await, Err(StoreError::NotFound { .. })));
        assert!(store.opportunity_events(other, deal).await.unwrap().is_empty());
        let page = store.opportunities(other, PageRequest { after: None, limit: 100 }, &DealFilter::default()).await.unwrap();
        assert!(page.items.is_empty());
        assert!(matches!(store.user(other, acme.reps[0]).await, Err(StoreError::NotFound { .. })));
        assert_eq!(store.counts(other).await.unwrap().opportunities, 0);
    }

    async fn deleting_a_workspace_leaves_others_alone(store) {
        let acme = org("acme", 1);
        let umbrella = org("umbrella", 2);
        install(store, &acme).await;
        install(store, &umbrella).await;
        open_deal(store, &acme, "Globex rollout").await;
        open_deal(store, &umbrella, "Umbrella renewal").await;
        store.delete_workspace(acme.workspace.id).await.unwrap();
        assert_eq!(store.counts(acme.workspace.id).await.unwrap(), Counts::default());
        let kept = store.counts(umbrella.workspace.id).await.unwrap();
        assert_eq!((kept.users, kept.opportunities, kept.opportunity_events), (3, 1, 1));
        assert_eq!(store.workspaces().await.unwrap(), vec![umbrella.workspace.clone()]);
    }

    async fn bad_input_names_field_and_value_and_writes_nothing(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let stamp = Stamp::now(acme.reps[0], at("2026-01-05T09:00:00Z"));
        let valid = OpportunityDraft {
            name: Some("Globex rollout".into()),
            account_id: Some(acme.accounts[0].to_string()),
            owner_id: Some(acme.reps[0].to_string()),
            amount: Some("48000".into()),
            close_date: Some("2026-03-31".into()),
            next_step: Some("Discovery call with the COO".into()),
            next_step_due: Some("2026-01-12".into()),
            evidence: qualified_evidence(),
            ..OpportunityDraft::default()
        };
        let cases = [
            ("stage", "demo_done", OpportunityDraft { stage: Some("demo_done".into()), ..valid.clone() }),
            ("amount", "-5", OpportunityDraft { amount: Some("-5".into()), ..valid.clone() }),
            ("amount", "a lot", OpportunityDraft { amount: Some("a lot".into()), ..valid.clone() }),
            ("currency", "XYZ", OpportunityDraft { currency: Some("XYZ".into()), ..valid.clone() }),
            ("close_date", "31/03/2026", OpportunityDraft { close_date: Some("31/03/2026".into()), ..valid.clone() }),
            ("next_step_owner_id", "not-an-id", OpportunityDraft {
                next_step: Some("Call".into()),
                next_step_due: Some("2026-01-10".into()),
                next_step_owner_id: Some("not-an-id".into()),
                ..valid.clone()
            }),
        ];
        for (field, value, draft) in cases {
            let error = commands::create_opportunity(store, &acme.workspace, &process, &draft, stamp).await.unwrap_err();
            let CommandFailed::Refused(opportunity::CommandError::Invalid(errors)) = &error else {
                panic!("{field}: expected field errors, got {error}");
            };
            let found: Vec<_> = errors.iter().map(|e| (e.field(), e.value())).collect();
            assert_eq!(found, [(field, value)]);
            assert!(error.to_string().contains(value), "{error}");
        }
        // A well-formed id that is not an account of this workspace.
        let stranger = AccountId::generate();
        let draft = OpportunityDraft { account_id: Some(stranger.to_string()), ..valid.clone() };
        let error = commands::create_opportunity(store, &acme.workspace, &process, &draft, stamp).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("account_id: `{stranger}` is not accepted: an account of workspace acme")
        );
        assert_eq!(store.counts(acme.workspace.id).await.unwrap().opportunities, 0);
        // A draft whose buyer has shown nothing cannot enter the SAL stage.
        let unqualified = OpportunityDraft { evidence: Default::default(), ..valid.clone() };
        let error = commands::create_opportunity(store, &acme.workspace, &process, &unqualified, stamp).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "opening a deal in stage `qualified` needs: Fit and access to power confirmed \
             (fit_and_access); The buyer states a need we address (stated_need)"
        );
        assert_eq!(store.counts(acme.workspace.id).await.unwrap().opportunities, 0);
        // The valid draft goes through.
        let opp = commands::create_opportunity(store, &acme.workspace, &process, &valid, stamp).await.unwrap();
        assert_eq!(opp.amount, Some(Money::new(4_800_000, Currency::USD)));
    }

    async fn commands_run_against_stored_state(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let id = open_deal(store, &acme, "Globex rollout").await.state.id;
        let stamp = |minutes| Stamp::now(acme.manager, at("2026-02-01T10:00:00Z") + Duration::minutes(minutes));
        let ws = &acme.workspace;
        // A forward move whose criteria do not hold is refused and writes nothing.
        let refused = commands::execute(store, ws, &process, id, Some(1), Command::MoveStage {
            to: "evaluating".parse().unwrap(),
            reason: Some(Note::parse("Budget approved by the CFO").unwrap()),
            next_step: None,
        }, stamp(0)).await;
        assert!(matches!(
            refused,
            Err(CommandFailed::Refused(opportunity::CommandError::CriteriaUnmet { .. }))
        ));
        assert_eq!(store.opportunity_events(ws.id, id).await.unwrap().len(), 1);
        commands::execute(store, ws, &process, id, Some(1), Command::RecordEvidence(
            EvidenceChange::Scored { item: ScoreItem::MeddiccIdentifyPain, value: 2 },
        ), stamp(0)).await.unwrap();
        // A stakeholder must be a contact of the workspace.
        let stranger = ContactId::generate();
        let refused = commands::execute(store, ws, &process, id, None, Command::RecordEvidence(
            EvidenceChange::StakeholderSet(Stakeholder {
                contact_id: stranger,
                role: BuyingRole::Champion,
                engagement: Engagement::Engaged,
            }),
        ), stamp(0)).await;
        assert_eq!(
            refused.unwrap_err().to_string(),
            format!("contact_id: `{stranger}` is not accepted: a contact of workspace acme")
        );
        // A stale expected version is refused with the current one.
        let stale = commands::execute(store, ws, &process, id, Some(1), Command::ChangeAmount(None), stamp(1)).await;
        assert!(matches!(stale, Err(CommandFailed::Store(StoreError::VersionConflict { current: 2 }))));
        // Handing the deal to someone outside the workspace is refused as a field error.
        let stranger = UserId::generate();
        let refused = commands::execute(store, ws, &process, id, None, Command::ChangeOwner(stranger), stamp(2)).await;
        assert_eq!(
            refused.unwrap_err().to_string(),
            format!("owner_id: `{stranger}` is not accepted: a user of workspace acme")
        );
        let lost = commands::execute(store, ws, &process, id, None, Command::CloseLost {
            on: day("2026-02-01"),
            loss_type: LossType::NoDecision,
            reason: Some(Note::parse("Project shelved after reorganisation").unwrap()),
            competitor: None,
        }, stamp(3)).await.unwrap();
        assert_eq!(lost.version, 3);
        let report = integrity::check(store, ws.id).await.unwrap();
        assert!(report.is_consistent(), "{:?}", report.problems);
        assert_eq!((report.opportunities, report.events), (1, 3));
    }

    async fn concurrent_writers_lose_no_update(store) {
        let acme = org("acme", 1);
        install(store, &acme).await;
        let process = Process::default_enterprise();
        let id = open_deal(store, &acme, "Globex rollout").await.state.id;
        const WRITERS: i64 = 8;
        let tasks = (0..WRITERS).map(|writer| {
            let process = process.clone();
            let workspace = acme.workspace.clone();
            let actor = acme.reps[(writer % 2) as usize];
            async move {
                let mut applied = 0;
                let mut refused = 0;
                for round in 0..5 {
                    let current = store.opportunity(workspace.id, id).await.unwrap();
                    let amount = Money::new(100 * (writer * 10 + round + 1), Currency::USD);
                    let stamp = Stamp::now(actor, at("2026-03-01T00:00:00Z"));
                    match commands::execute(store, &workspace, &process, id, Some(current.version), Command::ChangeAmount(Some(amount)), stamp).await {
                        Ok(_) => applied += 1,
                        Err(CommandFailed::Store(StoreError::VersionConflict { .. })) => refused += 1,
                        Err(other) => panic!("writer {writer}: {other}"),
                    }
                }
                (applied, refused)
            }
        });
        let outcomes = futures_util::future::join_all(tasks).await;
        let applied: u32 = outcomes.iter().map(|(a, _)| a).sum();
        let refused: u32 = outcomes.iter().map(|(_, r)| r).sum();
        assert_eq!(applied + refused, (WRITERS * 5) as u32);
        assert!(applied >= 1);
        let events = store.opportunity_events(acme.workspace.id, id).await.unwrap();
        assert_eq!(events.len() as u32, 1 + applied, "one event per applied write");
        let report = integrity::check(store, acme.workspace.id).await.unwrap();
        assert!(report.is_consistent(), "{:?}", report.problems);
    }
}

/// On SQLite the changes waiting for the writer share a transaction. When the database itself
/// fails it, each is answered with that failure at once, not tried again one by one.
#[tokio::test]
async fn a_database_failure_answers_every_change_written_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("failing.db").display());
    let store = pipewise_store::SqliteStore::open(&url).await.unwrap();
    let acme = org("acme", 1);
    install(&store, &acme).await;
    let process = Process::default_enterprise();
    let stamp = Stamp::now(acme.reps[0], at("2026-01-06T09:00:00Z"));
    let mut changes = Vec::new();
    for name in ["Globex", "Initech", "Umbrella"] {
        let deal = open_deal(&store, &acme, name).await.state;
        changes.push(
            opportunity::execute(
                &deal,
                Command::ChangeCloseDate(day("2026-06-30")),
                &process,
                stamp,
            )
            .unwrap(),
        );
    }
    // Each change looks up the webhooks to queue its deliveries for, in a table now gone.
    let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("DROP TABLE webhooks")
        .execute(&mut other)
        .await
        .unwrap();
    let outcomes =
        futures_util::future::join_all(changes.iter().map(|c| store.record(acme.workspace.id, c)))
            .await;
    for outcome in outcomes {
        match outcome {
            Err(StoreError::Shared(error)) => assert!(
                error.to_string().contains("no such table: webhooks"),
                "{error}"
            ),
            other => panic!("expected the transaction's failure, got {other:?}"),
        }
    }
    for change in &changes {
        let stored = store
            .opportunity(acme.workspace.id, change.state.id)
            .await
            .unwrap();
        assert_eq!((stored.version, stored.close_date), (1, day("2026-03-31")));
    }
}

/// A connection that has already read must see what another process commits afterwards.
async fn reads_see_later_commits_from_elsewhere(test: TestStore) {
    let store = &*test.store;
    let acme = org("acme", 1);
    install(store, &acme).await;
    let other = test.reopen().await;
    for round in 1..=3 {
        // Single-row reads on every pooled connection, then a write through the other handle.
        let reads = (0..16).map(|_| async {
            store.workspace(&acme.workspace.slug).await.unwrap();
            store.user(acme.workspace.id, acme.reps[0]).await.unwrap();
            store.counts(acme.workspace.id).await.unwrap();
        });
        futures_util::future::join_all(reads).await;
        open_deal(&*other, &acme, &format!("Deal {round}")).await;
        assert_eq!(
            store.counts(acme.workspace.id).await.unwrap().opportunities,
            round
        );
    }
    drop(other);
    test.remove().await;
}

#[tokio::test]
async fn reads_see_later_commits_from_elsewhere_on_sqlite() {
    reads_see_later_commits_from_elsewhere(TestStore::sqlite().await).await;
}

#[tokio::test]
async fn reads_see_later_commits_from_elsewhere_on_postgres() {
    if let Some(test) = TestStore::postgres().await {
        reads_see_later_commits_from_elsewhere(test).await;
    }
}

/// Several processes may open a fresh database at the same moment (a server and a loader,
/// say); all of them must come up with the schema in place.
#[tokio::test]
async fn a_fresh_sqlite_file_opened_by_many_at_once_is_migrated_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let opens = (0..6).map(|_| pipewise_store::SqliteStore::open(&url));
    for opened in futures_util::future::join_all(opens).await {
        opened.unwrap();
    }
}

#[tokio::test]
async fn a_fresh_postgres_database_opened_by_many_at_once_is_migrated_once() {
    let Some(database) = common::PostgresDatabase::create().await else {
        return;
    };
    let opens = (0..6).map(|_| pipewise_store::PgStore::connect_with(database.options()));
    for opened in futures_util::future::join_all(opens).await {
        opened.unwrap();
    }
    database.drop().await;
}
