//! The warehouse tables, as CSV: what an analytics warehouse fed from the CRM would hold.
//!
//! - `history.csv`: one row per state-changing event (created, stage, amount, close date,
//!   category override, owner, won, lost, reopened), with the deal's state after it;
//! - `opportunities.csv`: one row per deal, its latest values;
//! - `stages.csv`: each stage of each process, its position in the process in force, whether
//!   it is qualified (at or after the SAL stage) and its forecast category;
//! - `users.csv`, `targets.csv`, and `meta.json` (fiscal calendar, default process, as-of day).
//!
//! Rows are derived by replaying each deal's events with `pipewise_core`'s `apply`, not from
//! the projection, so the export does not depend on its internals.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use pipewise_core::crm::TargetOwner;
use pipewise_core::money::Money;
use pipewise_core::opportunity::{Change, Opportunity, OpportunityEvent, Status, apply};
use pipewise_core::org::Workspace;
use pipewise_core::process::{ForecastCategory, ProcessKey, ProcessSet, StageKey};
use pipewise_store::Store;

/// What the history needs to know of a stage, as the projection resolves it: the latest
/// version that has the stage defines it.
struct StageInfo {
    category: ForecastCategory,
    qualified: bool,
}

fn stage_infos(versions: &[ProcessSet]) -> HashMap<(ProcessKey, StageKey), StageInfo> {
    let mut infos = HashMap::new();
    for set in versions {
        for process in set.processes() {
            for stage in process.stages() {
                infos.insert(
                    (process.key.clone(), stage.key.clone()),
                    StageInfo {
                        category: process.category_of_phase(stage.phase),
                        qualified: process.is_qualified(&stage.key),
                    },
                );
            }
        }
    }
    infos
}

/// Whether an event changes a number the suite reads (the rest only advance the deal).
fn changes_state(change: &Change) -> bool {
    !matches!(
        change,
        Change::FieldChanged(_) | Change::EvidenceRecorded(_)
    )
}

fn writer(dir: &Path, name: &str) -> anyhow::Result<csv::Writer<BufWriter<File>>> {
    let path = dir.join(name);
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(csv::Writer::from_writer(BufWriter::with_capacity(
        1 << 20,
        file,
    )))
}

fn money(amount: Option<Money>) -> (String, String) {
    match amount {
        Some(m) => (m.minor.to_string(), m.currency.code().to_owned()),
        None => (String::new(), String::new()),
    }
}

fn date(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub async fn run(
    store: &dyn Store,
    workspace: &Workspace,
    out: &Path,
    as_of: NaiveDate,
) -> anyhow::Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let versions = crate::process_versions(store, workspace).await?;
    let current = pipewise_store::processes::current(store, workspace)
        .await
        .context("reading the process in force")?;
    let infos = stage_infos(&versions);

    // Stages: every stage any version defined, positioned in the process in force.
    let mut stages = writer(out, "stages.csv")?;
    stages.write_record(["process", "stage", "position", "qualified", "category"])?;
    let mut keys: Vec<&(ProcessKey, StageKey)> = infos.keys().collect();
    keys.sort();
    for key in keys {
        let (process, stage) = key;
        let position = current
            .get(process)
            .and_then(|p| p.position(stage))
            .map_or(String::new(), |p| p.to_string());
        let info = &infos[key];
        stages.write_record([
            process.as_str(),
            stage.as_str(),
            &position,
            if info.qualified { "true" } else { "false" },
            info.category.as_str(),
        ])?;
    }
    stages.flush()?;

    let mut users = writer(out, "users.csv")?;
    users.write_record(["id", "name"])?;
    for user in store.users(workspace.id).await.context("reading users")? {
        users.write_record([user.id.to_string(), user.name.to_string()])?;
    }
    users.flush()?;

    let calendar = workspace.fiscal_calendar;
    let mut targets = writer(out, "targets.csv")?;
    targets.write_record([
        "owner_kind",
        "owner_id",
        "period",
        "start_date",
        "end_date",
        "amount_minor",
        "currency",
    ])?;
    for target in store
        .targets(workspace.id)
        .await
        .context("reading targets")?
    {
        let (kind, owner) = match target.owner {
            TargetOwner::Workspace => ("workspace", String::new()),
            TargetOwner::User(id) => ("user", id.to_string()),
            TargetOwner::Team(id) => ("team", id.to_string()),
        };
        let range = calendar.range(target.period);
        targets.write_record([
            kind.to_owned(),
            owner,
            target.period.to_string(),
            date(range.start),
            date(range.end),
            target.amount.minor.to_string(),
            target.amount.currency.code().to_owned(),
        ])?;
    }
    targets.flush()?;

    let meta = serde_json::json!({
        "workspace": workspace.slug.to_string(),
        "as_of": date(as_of),
        "fiscal_start_month": calendar.start_month(),
        "currency": workspace.corporate_currency.code(),
        "default_process": current.default_process().key.as_str(),
    });
    std::fs::write(out.join("meta.json"), serde_json::to_string_pretty(&meta)?)
        .context("cannot write meta.json")?;

    let mut history = writer(out, "history.csv")?;
    history.write_record([
        "opportunity_id",
        "seq",
        "effective_at",
        "process",
        "stage",
        "status",
        "loss_type",
        "category",
        "amount_minor",
        "currency",
        "close_date",
        "owner_id",
    ])?;
    let mut opportunities = writer(out, "opportunities.csv")?;
    opportunities.write_record([
        "opportunity_id",
        "process",
        "segment",
        "source",
        "competitor",
        "owner_id",
        "stage",
        "status",
        "amount_minor",
        "currency",
        "close_date",
    ])?;
    let write_deal = |w: &mut csv::Writer<BufWriter<File>>, o: &Opportunity| {
        let (amount, currency) = money(o.amount);
        let label = |l: &Option<pipewise_core::text::Label>| {
            l.as_ref().map_or(String::new(), |l| l.to_string())
        };
        w.write_record([
            o.id.to_string(),
            o.process.to_string(),
            label(&o.segment),
            label(&o.source),
            label(&o.competitor),
            o.owner_id.to_string(),
            o.stage.to_string(),
            o.status.as_str().to_owned(),
            amount,
            currency,
            date(o.close_date),
        ])
    };

    let (mut deals, mut rows, mut events_read) = (0u64, 0u64, 0u64);
    let mut state: Option<Opportunity> = None;
    let mut events = store.event_log_without_evidence(workspace.id);
    while let Some(event) = events.try_next().await.context("reading the event log")? {
        events_read += 1;
        let previous = match state.take() {
            Some(o) if o.id == event.opportunity_id => Some(o),
            Some(o) => {
                write_deal(&mut opportunities, &o)?;
                deals += 1;
                None
            }
            None => None,
        };
        let next = replay_one(previous, &event)?;
        if changes_state(&event.change) {
            let info = infos
                .get(&(next.process.clone(), next.stage.clone()))
                .with_context(|| {
                    format!(
                        "event {} of {}: stage `{}` is in no version of process `{}`",
                        event.seq, event.opportunity_id, next.stage, next.process
                    )
                })?;
            let category = match (&next.status, &next.category_override) {
                (Status::Won, _) => ForecastCategory::Closed,
                (Status::Lost, _) => ForecastCategory::Omitted,
                (Status::Open, Some(o)) => o.category,
                (Status::Open, None) => info.category,
            };
            let (amount, currency) = money(next.amount);
            history.write_record([
                next.id.to_string(),
                event.seq.to_string(),
                event.effective_at.timestamp_micros().to_string(),
                next.process.to_string(),
                next.stage.to_string(),
                next.status.as_str().to_owned(),
                next.loss
                    .as_ref()
                    .map_or(String::new(), |l| l.loss_type.as_str().to_owned()),
                category.as_str().to_owned(),
                amount,
                currency,
                date(next.close_date),
                next.owner_id.to_string(),
            ])?;
            rows += 1;
        }
        state = Some(next);
    }
    if let Some(o) = state {
        write_deal(&mut opportunities, &o)?;
        deals += 1;
    }
    history.flush()?;
    opportunities.flush()?;
    println!(
        "export: {deals} opportunities, {events_read} events read (evidence aside), {rows} history rows, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The state after `event`. Evidence events are not read, so `seq` may skip numbers: the
/// state is advanced past the skipped ones (they change nothing exported) before applying.
fn replay_one(
    previous: Option<Opportunity>,
    event: &OpportunityEvent,
) -> anyhow::Result<Opportunity> {
    let previous = previous.map(|mut o| {
        o.version = event.seq.saturating_sub(1).max(o.version);
        o
    });
    apply(previous, event).with_context(|| "replaying the event log".to_owned())
}
