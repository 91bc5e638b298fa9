//! `pipewise leads`: the lead funnel of a period as a table, JSON or CSV, and the
//! workspace's lead settings.

use anyhow::Context;
use chrono::Utc;
use pipewise_analytics::leads::{FunnelCounts, LeadFunnelReport};
use pipewise_core::calendar::Period;
use pipewise_core::leads::settings::SHIPPED_TOML;
use pipewise_store::leads::{self, SettingsRefused};

use crate::cli::{LeadSettingsCommand, LeadsCommand, ReportFormat, WorkspaceArgs};
use crate::output::write_json;
use crate::table::{Cell, Table, text, write_aligned};

pub async fn run(command: LeadsCommand) -> anyhow::Result<()> {
    match command {
        LeadsCommand::Funnel {
            target,
            period,
            format,
        } => funnel(target, period, format).await,
        LeadsCommand::Settings(LeadSettingsCommand::Apply { target, by, file }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            let user =
                crate::process::admin(&*store, &workspace, &by, "change lead settings").await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let name = file.display().to_string();
            match leads::apply_settings(&*store, &workspace, &name, &text, user.id, Utc::now())
                .await
            {
                Ok(version) => {
                    println!("Lead settings version {version} is in force.");
                    Ok(())
                }
                Err(SettingsRefused::Invalid(errors)) => Err(anyhow::anyhow!("{errors}")),
                Err(SettingsRefused::Store(error)) => Err(error.into()),
            }
        }
        LeadsCommand::Settings(LeadSettingsCommand::Show { target }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            match store.lead_settings(workspace.id).await? {
                None => println!("# The shipped settings are in force.\n{SHIPPED_TOML}"),
                Some(applied) => {
                    println!(
                        "# Version {}, laid over the shipped settings.",
                        applied.version
                    );
                    println!("{}", applied.text);
                }
            }
            Ok(())
        }
    }
}

async fn funnel(
    target: WorkspaceArgs,
    period: Option<Period>,
    format: ReportFormat,
) -> anyhow::Result<()> {
    let (store, workspace) = crate::process::open(&target).await?;
    let now = Utc::now();
    let calendar = workspace.fiscal_calendar;
    let period = period.unwrap_or_else(|| calendar.quarter_of(now.date_naive()));
    let settings = leads::settings(&*store, &workspace).await?;
    let facts = leads::funnel_facts(&*store, &workspace, &settings, now).await?;
    let report = LeadFunnelReport::of(&facts, calendar, period);
    let mut out = std::io::stdout().lock();
    match format {
        ReportFormat::Json => write_json(&mut out, &report),
        ReportFormat::Csv => groups(&report).write_csv(&mut out),
        ReportFormat::Table => {
            use std::io::Write;
            let dates = report.dates;
            writeln!(
                out,
                "Leads created in {period} ({} to {})",
                dates.start,
                dates.last_day()
            )?;
            writeln!(out)?;
            write_aligned(&mut out, &groups(&report))?;
            let speed = &report.funnel.speed_to_lead;
            writeln!(out)?;
            writeln!(
                out,
                "Speed-to-lead: {} leads entered the sales queue",
                speed.queued
            )?;
            let share = |r: Option<f64>| Cell::Share(r).shown();
            writeln!(
                out,
                "  first attempt in time: {} ({} of {})",
                share(speed.first_in_time.rate),
                speed.first_in_time.numerator,
                speed.first_in_time.denominator
            )?;
            writeln!(
                out,
                "  SLA breach rate: {} ({} of {})",
                share(speed.breach_rate.rate),
                speed.breach_rate.numerator,
                speed.breach_rate.denominator
            )?;
            let median = speed.median_first_response_hours;
            writeln!(
                out,
                "  median first response: {} business hours",
                Cell::Days(median).shown()
            )?;
            Ok(())
        }
    }
}

/// One row per group: the whole, each source, each fit × intent band, each origin and each
/// influencing channel.
fn groups(report: &LeadFunnelReport) -> Table {
    let funnel = &report.funnel;
    let row = |kind: &str, group: &str, c: &FunnelCounts| {
        vec![
            text(kind),
            text(group),
            Cell::Count(c.leads),
            Cell::Count(c.mql),
            Cell::Count(c.sql),
            Cell::Count(c.sal),
            Cell::Share(c.lead_to_mql.rate),
            Cell::Share(c.mql_to_sql.rate),
            Cell::Share(c.sql_to_sal.rate),
            Cell::Share(c.lead_to_sal.rate),
        ]
    };
    let mut rows = vec![row("all", "", &funnel.whole)];
    for (by, groups) in [
        ("source", &funnel.by_source),
        ("band", &funnel.by_band),
        ("origin", &funnel.by_origin),
        ("influence", &funnel.by_influence),
    ] {
        rows.extend(groups.iter().map(|g| row(by, &g.group, &g.counts)));
    }
    Table {
        columns: &[
            "by",
            "group",
            "leads",
            "mql",
            "sql",
            "sal",
            "lead_to_mql",
            "mql_to_sql",
            "sql_to_sal",
            "lead_to_sal",
        ],
        rows,
    }
}
