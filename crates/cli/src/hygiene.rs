//! `pipewise hygiene`: the hygiene report as a table, JSON or CSV.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use chrono::Utc;
use pipewise_core::hygiene::{GroupScore, HygieneRules, RecordScore, Report, Severity};
use pipewise_store::hygiene;

use crate::cli::{HygieneArgs, ReportFormat};
use crate::output::write_json;

pub async fn run(args: HygieneArgs) -> anyhow::Result<()> {
    let rules = match &args.rules {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path.display().to_string();
            HygieneRules::parse(&name, &text).map_err(|errors| anyhow::anyhow!("{errors}"))?
        }
        None => HygieneRules::shipped(),
    };
    let (store, workspace) = crate::process::open(&args.target).await?;
    let as_of = args.as_of.unwrap_or_else(|| Utc::now().date_naive());
    let report = hygiene::report(&*store, &workspace, as_of, &rules).await?;
    // A `from_stage` naming a process or stage the workspace lacks means the rule never
    // applies to that process: say so rather than stay silent.
    for warning in &report.warnings {
        eprintln!("warning: {warning}; the rule does not apply there");
    }
    let users: BTreeMap<String, String> = store
        .users(workspace.id)
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name.to_string()))
        .collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => {
            write_json(&mut out, &report)?;
        }
        ReportFormat::Csv => write_csv(&mut out, &report, &users)?,
        ReportFormat::Table => write_table(
            &mut out,
            &report,
            &rules,
            &users,
            &workspace.slug.to_string(),
            args.limit,
        )?,
    }
    Ok(())
}

fn owner_name(users: &BTreeMap<String, String>, id: Option<String>) -> String {
    id.map(|id| users.get(&id).cloned().unwrap_or(id))
        .unwrap_or_default()
}

fn write_csv(
    out: &mut impl Write,
    report: &Report,
    users: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "rule",
        "severity",
        "record_kind",
        "record_id",
        "record",
        "owner",
        "detail",
        "fix",
    ])?;
    for f in &report.findings {
        csv.write_record([
            f.rule.as_str(),
            f.severity.as_str(),
            f.record_kind.as_str(),
            &f.record_id,
            &f.record_name,
            &owner_name(users, f.owner_id.map(|o| o.to_string())),
            &f.detail,
            &f.fix,
        ])?;
    }
    csv.flush()?;
    Ok(())
}

fn write_table(
    out: &mut impl Write,
    report: &Report,
    rules: &HygieneRules,
    users: &BTreeMap<String, String>,
    workspace: &str,
    limit: usize,
) -> anyhow::Result<()> {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let flagged = report.deals.iter().filter(|r| r.findings > 0).count();
    writeln!(
        out,
        "Hygiene of workspace {workspace} as of {}: {} open deals, {flagged} with findings; \
         {} errors, {} warnings, {} info",
        report.as_of,
        report.deals.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    )?;
    writeln!(
        out,
        "\n{:<26} {:<8} {:>7}  MEANING",
        "RULE", "SEVERITY", "RECORDS"
    )?;
    for rule in rules.enabled() {
        let n = report.findings.iter().filter(|f| f.rule == rule.id).count();
        if n > 0 {
            writeln!(
                out,
                "{:<26} {:<8} {:>7}  {}",
                rule.id.as_str(),
                rule.severity.as_str(),
                n,
                rule.description
            )?;
        }
    }
    group_table(out, "OWNER", &report.owners)?;
    group_table(out, "TEAM", &report.teams)?;
    writeln!(out)?;
    for (what, records) in [
        ("Accounts", &report.accounts),
        ("Contacts", &report.contacts),
    ] {
        let n = records.len().max(1) as f64;
        let mean = |f: fn(&RecordScore) -> f64| records.iter().map(f).sum::<f64>() / n;
        writeln!(
            out,
            "{what}: {}, completeness {:.1}%, consistency {:.1}%, {} with findings",
            records.len(),
            mean(|r| r.completeness),
            mean(|r| r.consistency),
            records.iter().filter(|r| r.findings > 0).count()
        )?;
    }
    let mut shown: Vec<_> = report.findings.iter().collect();
    shown.sort_by_key(|f| std::cmp::Reverse(f.severity));
    writeln!(
        out,
        "\nFINDINGS (most severe first; {} of {}; --format csv or json for all)",
        shown.len().min(limit),
        shown.len()
    )?;
    for f in shown.into_iter().take(limit) {
        writeln!(
            out,
            "{:<8} {:<26} {} [{}]: {}. Fix: {}",
            f.severity.as_str(),
            f.rule.as_str(),
            f.record_name,
            owner_name(users, f.owner_id.map(|o| o.to_string())),
            f.detail,
            f.fix
        )?;
    }
    Ok(())
}

fn group_table(out: &mut impl Write, title: &str, groups: &[GroupScore]) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n{title:<24} {:>5} {:>13} {:>12} {:>8} {:>6} {:>8}",
        "OPEN", "COMPLETENESS", "CONSISTENCY", "RECENCY", "ERRORS", "WARNINGS"
    )?;
    for g in groups {
        writeln!(
            out,
            "{:<24} {:>5} {:>12.1}% {:>11.1}% {:>7}d {:>6} {:>8}",
            g.name,
            g.open_deals,
            g.completeness,
            g.consistency,
            g.recency_days,
            g.errors,
            g.warnings
        )?;
    }
    Ok(())
}
