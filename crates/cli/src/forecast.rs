//! `pipewise forecast`: the period's forecast by four methods (`pipewise_analytics::forecast`)
//! as tables, JSON (as the API returns it) or CSV.

use std::io::Write;

use chrono::Utc;
use pipewise_analytics::FunnelBenchmarks;
use pipewise_analytics::forecast::{self, ForecastReport, ForecastRequest};
use pipewise_analytics::reports::ReportError;
use pipewise_core::money::{Currency, Money};

use crate::cli::{ForecastArgs, ReportFormat};
use crate::output::write_json;
use crate::table::{Cell, Table, text, write_aligned};

pub async fn run(args: ForecastArgs) -> anyhow::Result<()> {
    let (store, workspace) = crate::process::open(&args.target).await?;
    let currency = workspace.corporate_currency;
    let now = Utc::now();
    let request = ForecastRequest {
        period: args.period,
        as_of: args.as_of.unwrap_or_else(|| now.date_naive()),
        now,
    };
    let projection = pipewise_store::analytics::projection(&*store, &workspace).await?;
    let settings = pipewise_store::analytics::report_settings(&*store, &workspace, false).await?;
    let benchmarks = FunnelBenchmarks::shipped();
    let inputs = settings.inputs(&projection, &workspace, &benchmarks);
    let report = forecast::run(&request, &inputs).map_err(|e| match e {
        ReportError::Request { parameter, message } => {
            anyhow::anyhow!("--{}: {message}", parameter.replace('_', "-"))
        }
        other => other.into(),
    })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => write_json(&mut out, &report),
        ReportFormat::Csv => write_csv(&mut out, &report),
        ReportFormat::Table => write_tables(&mut out, &report, currency, args.deals),
    }
}

fn write_tables(
    out: &mut impl Write,
    report: &ForecastReport,
    currency: Currency,
    deals: usize,
) -> anyhow::Result<()> {
    let money = |minor: i64| Money::new(minor, currency).to_string();
    let cell = |minor: i64| Cell::Money(minor, currency);
    let s = &report.scope;
    writeln!(
        out,
        "Forecast {} ({} – {}), as of {} · {}\n",
        s.period, s.from, s.to, s.as_of, s.currency
    )?;
    let quota = match (report.quota, report.attainment) {
        (Some(quota), Some(attainment)) => format!(
            "quota {} · attainment {:.1}%",
            money(quota),
            attainment * 100.0
        ),
        _ => "no company quota for the period".to_owned(),
    };
    writeln!(
        out,
        "Closed won {} ({} deals) · {quota}",
        money(report.won.amount),
        report.won.count
    )?;
    let b = &report.baseline;
    writeln!(
        out,
        "Rates learnt from {} – {} ({}), each period seen {} days in; deal model fitted to {} deal-weeks\n",
        b.from,
        b.to,
        b.periods.join(", "),
        b.point_days,
        b.training_rows
    )?;
    let methods = Table {
        columns: &["method", "forecast", "from_open", "p10", "p50", "p90"],
        rows: report
            .methods
            .iter()
            .map(|m| {
                let range = |pick: fn(&forecast::OutcomeRange) -> i64| {
                    m.range.as_ref().map_or(Cell::Empty, |r| cell(pick(r)))
                };
                vec![
                    text(m.method.as_str()),
                    cell(m.forecast),
                    cell(m.from_open),
                    range(|r| r.p10),
                    range(|r| r.p50),
                    range(|r| r.p90),
                ]
            })
            .collect(),
    };
    write_aligned(out, &methods)?;
    for m in &report.methods {
        writeln!(out, "\n── {} ──\n{}", m.method.as_str(), m.how)?;
        write_aligned(out, &lines_table(m, currency))?;
    }
    let listed = Table {
        columns: &[
            "owner",
            "stage",
            "category",
            "amount",
            "close_date",
            "in_call",
            "p_stage",
            "p_model",
            "main_factor",
        ],
        rows: report
            .deals
            .iter()
            .take(deals)
            .map(|d| {
                vec![
                    text(&d.owner),
                    text(d.stage.as_str()),
                    text(d.category.as_str()),
                    cell(d.amount),
                    text(d.close_date.to_string()),
                    text(if d.in_call { "yes" } else { "no" }),
                    Cell::Share(d.stage_probability),
                    Cell::Share(d.model_probability),
                    text(d.factors.first().map_or(String::new(), |f| {
                        format!("{} ({:+.2})", f.factor, f.log_odds)
                    })),
                ]
            })
            .collect(),
    };
    writeln!(
        out,
        "\nOpen deals due in the period: {} of {}, largest first",
        listed.rows.len(),
        report.deals.len()
    )?;
    write_aligned(out, &listed)
}

fn lines_table(m: &forecast::MethodForecast, currency: Currency) -> Table {
    Table {
        columns: &["line", "deals", "amount", "rate", "expected"],
        rows: m
            .lines
            .iter()
            .map(|l| {
                vec![
                    text(&l.label),
                    Cell::Count(l.count),
                    Cell::Money(l.amount, currency),
                    Cell::Share(l.rate),
                    Cell::Money(l.expected, currency),
                ]
            })
            .collect(),
    }
}

fn write_csv(out: &mut impl Write, report: &ForecastReport) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "method",
        "forecast_minor",
        "line",
        "deals",
        "amount_minor",
        "rate",
        "expected_minor",
    ])?;
    for m in &report.methods {
        for l in &m.lines {
            csv.write_record([
                m.method.as_str().to_owned(),
                m.forecast.to_string(),
                l.label.clone(),
                l.count.to_string(),
                l.amount.to_string(),
                l.rate.map(|r| format!("{r:.6}")).unwrap_or_default(),
                l.expected.to_string(),
            ])?;
        }
    }
    csv.flush()?;
    Ok(())
}
