//! `pipewise forecast`: the period's forecast by four methods (`pipewise_analytics::forecast`)
//! as tables, JSON (as the API returns it) or CSV.

use std::collections::HashMap;
use std::io::Write;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use pipewise_analytics::FunnelBenchmarks;
use pipewise_analytics::forecast::{
    self, BacktestReport, BacktestRequest, Comparison, ForecastReport, ForecastRequest, Snapshot,
};
use pipewise_core::forecast::{CallLine, Submission, SubmissionKind};
use pipewise_core::ids::{OpportunityId, SnapshotId, UserId};
use pipewise_core::money::{Currency, Money};
use pipewise_core::org::{User, Workspace};
use pipewise_core::text::{Email, Note};
use pipewise_store::Store;
use pipewise_store::forecasts::{self, SubmitFailed};

use crate::cli::{ForecastArgs, ForecastCommand, ForecastShow, ReportFormat, WorkspaceArgs};
use crate::output::write_json;
use crate::table::{Cell, Table, text, write_aligned};

pub async fn run(args: ForecastArgs) -> anyhow::Result<()> {
    match args.command {
        None => show(args.show).await,
        Some(ForecastCommand::Call {
            target,
            period,
            rep,
            by,
            include,
            exclude,
            note,
        }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            let users = store.users(workspace.id).await?;
            let rep_id = person(&users, "--rep", &rep)?;
            let by_id = match &by {
                Some(by) => person(&users, "--by", by)?,
                None => rep_id,
            };
            let mut notes: HashMap<OpportunityId, Note> = note.into_iter().collect();
            let lines: Vec<CallLine> = include
                .iter()
                .map(|id| (id, true))
                .chain(exclude.iter().map(|id| (id, false)))
                .map(|(id, include)| CallLine {
                    opportunity_id: *id,
                    include,
                    note: notes.remove(id),
                })
                .collect();
            if let Some(id) = notes.keys().next() {
                bail!("--note: {id} is neither --include nor --exclude");
            }
            let submitted = forecasts::call(
                &*store,
                &workspace,
                period,
                rep_id,
                lines,
                by_id,
                Utc::now(),
            )
            .await
            .map_err(|e| refused(e, &flags_of_call(&include, &exclude)))?;
            println!(
                "Call of {rep} for {period} recorded: {} deals named.",
                match &submitted.kind {
                    SubmissionKind::Call { lines } => lines.len(),
                    SubmissionKind::Adjustment { .. } => 0,
                }
            );
            Ok(())
        }
        Some(ForecastCommand::Adjust {
            target,
            period,
            subject,
            by,
            amount,
            note,
        }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            let users = store.users(workspace.id).await?;
            let subject_id = person(&users, "--for", &subject)?;
            let by_id = person(&users, "--by", &by)?;
            let amount = Money::parse_non_negative(&amount, workspace.corporate_currency)
                .map_err(|e| anyhow::anyhow!("--amount: {e}"))?;
            forecasts::adjust(
                &*store,
                &workspace,
                period,
                subject_id,
                amount,
                note,
                by_id,
                Utc::now(),
            )
            .await
            .map_err(|e| refused(e, &HashMap::new()))?;
            println!("Number of {subject} for {period} adjusted to {amount} by {by}.");
            Ok(())
        }
        Some(ForecastCommand::Backtest {
            target,
            periods,
            as_of,
            format,
        }) => backtest(target, periods, as_of, format).await,
        Some(ForecastCommand::Snapshot { target, period }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            let now = Utc::now();
            let request = ForecastRequest {
                period,
                as_of: now.date_naive(),
                now,
            };
            let report = forecast_of(&*store, &workspace, &request).await?;
            let snapshot = Snapshot::of(&report, now);
            let id = SnapshotId::generate();
            store.record_snapshot(workspace.id, id, &snapshot).await?;
            println!(
                "Snapshot {id} of {}: {}",
                snapshot.period,
                summary(&snapshot, workspace.corporate_currency)
            );
            Ok(())
        }
        Some(ForecastCommand::Snapshots {
            target,
            period,
            format,
        }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            let snapshots = store.snapshots(workspace.id, period).await?;
            let mut out = std::io::stdout().lock();
            if format == ReportFormat::Json {
                let listed: Vec<forecast::Listed> = snapshots
                    .iter()
                    .map(|(id, snapshot)| forecast::Listed {
                        id: *id,
                        snapshot: snapshot.clone(),
                    })
                    .collect();
                return write_json(&mut out, &listed);
            }
            let currency = workspace.corporate_currency;
            let rows = snapshots
                .iter()
                .map(|(id, s)| {
                    let mut row = vec![
                        text(id.to_string()),
                        text(s.taken_at.format("%Y-%m-%d %H:%M").to_string()),
                        Cell::Money(s.won, currency),
                    ];
                    row.extend(s.methods.iter().map(|m| Cell::Money(m.forecast, currency)));
                    row
                })
                .collect();
            let table = Table {
                columns: &[
                    "snapshot",
                    "taken_at",
                    "won",
                    "deal_call",
                    "category_weighted",
                    "stage_weighted",
                    "deal_model",
                ],
                rows,
            };
            match format {
                ReportFormat::Csv => table.write_csv(&mut out),
                _ => write_aligned(&mut out, &table),
            }
        }
        Some(ForecastCommand::Compare {
            target,
            from,
            to,
            format,
        }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            let earlier = store
                .snapshot(workspace.id, from)
                .await
                .with_context(|| format!("--from: no snapshot {from}"))?;
            let later = store
                .snapshot(workspace.id, to)
                .await
                .with_context(|| format!("--to: no snapshot {to}"))?;
            if earlier.period != later.period {
                bail!(
                    "--to: snapshot {to} is of {}, not {} like --from",
                    later.period,
                    earlier.period
                );
            }
            let comparison = forecast::compare(&earlier, &later);
            let mut out = std::io::stdout().lock();
            let currency = workspace.corporate_currency;
            match format {
                ReportFormat::Json => write_json(&mut out, &comparison),
                ReportFormat::Csv => deal_changes(&comparison, currency).write_csv(&mut out),
                ReportFormat::Table => write_comparison(&mut out, &comparison, currency),
            }
        }
        Some(ForecastCommand::History {
            target,
            period,
            format,
        }) => {
            let (store, workspace) = crate::process::open(&target).await?;
            let users = store.users(workspace.id).await?;
            let names: HashMap<UserId, String> =
                users.iter().map(|u| (u.id, u.name.to_string())).collect();
            let submissions = store.submissions(workspace.id, period).await?;
            let mut out = std::io::stdout().lock();
            let table = || history_table(&submissions, &names, workspace.corporate_currency);
            match format {
                ReportFormat::Json => write_json(&mut out, &submissions),
                ReportFormat::Csv => table().write_csv(&mut out),
                ReportFormat::Table => write_aligned(&mut out, &table()),
            }
        }
    }
}

/// The person with this e-mail in the workspace.
fn person(users: &[User], flag: &str, email: &Email) -> anyhow::Result<UserId> {
    users
        .iter()
        .find(|u| u.email == *email)
        .map(|u| u.id)
        .ok_or_else(|| anyhow::anyhow!("{flag}: {email} is not a person of this workspace"))
}

/// Which flag gave each line of a call, to name it in errors.
fn flags_of_call(include: &[OpportunityId], exclude: &[OpportunityId]) -> HashMap<usize, String> {
    include
        .iter()
        .map(|id| format!("--include {id}"))
        .chain(exclude.iter().map(|id| format!("--exclude {id}")))
        .enumerate()
        .collect()
}

/// A refused submission, each problem named by the flag that caused it.
fn refused(failed: SubmitFailed, lines: &HashMap<usize, String>) -> anyhow::Error {
    match failed {
        SubmitFailed::Invalid(errors) => {
            let problems: Vec<String> = errors
                .iter()
                .map(|e| {
                    let field = e.field();
                    let flag = field
                        .strip_prefix("lines[")
                        .and_then(|rest| rest.split_once(']'))
                        .and_then(|(i, rest)| {
                            let line = lines.get(&i.parse::<usize>().ok()?)?;
                            Some(match rest {
                                ".note" => format!("{line} (--note)"),
                                _ => line.clone(),
                            })
                        })
                        .unwrap_or_else(|| match field {
                            "rep" => "--rep".to_owned(),
                            "subject_id" => "--for".to_owned(),
                            "submitted_by" => "--by".to_owned(),
                            other => format!("--{other}"),
                        });
                    format!("{flag}: expected {}", e.expected())
                })
                .collect();
            anyhow::anyhow!("{}", problems.join("; "))
        }
        SubmitFailed::Store(e) => e.into(),
    }
}

fn history_table(
    submissions: &[Submission],
    names: &HashMap<UserId, String>,
    currency: Currency,
) -> Table {
    let name = |u: &UserId| names.get(u).cloned().unwrap_or_else(|| u.to_string());
    let mut rows = Vec::new();
    for s in submissions {
        let head = |kind: &str| {
            vec![
                text(s.submitted_at.format("%Y-%m-%d %H:%M").to_string()),
                text(name(&s.submitted_by)),
                text(kind),
                text(name(&s.subject_id)),
            ]
        };
        match &s.kind {
            SubmissionKind::Call { lines } if lines.is_empty() => {
                let mut row = head("call");
                row.extend([Cell::Empty, Cell::Empty, text("categories stand")]);
                rows.push(row);
            }
            SubmissionKind::Call { lines } => {
                for line in lines {
                    let mut row = head("call");
                    row.extend([
                        text(line.opportunity_id.to_string()),
                        text(if line.include { "in" } else { "out" }),
                        text(
                            line.note
                                .as_ref()
                                .map_or(String::new(), ToString::to_string),
                        ),
                    ]);
                    rows.push(row);
                }
            }
            SubmissionKind::Adjustment { amount, note } => {
                let mut row = head("adjustment");
                row.extend([
                    Cell::Empty,
                    Cell::Money(amount.minor, currency),
                    text(note.to_string()),
                ]);
                rows.push(row);
            }
        }
    }
    Table {
        columns: &[
            "submitted_at",
            "by",
            "kind",
            "whose",
            "deal",
            "call",
            "note",
        ],
        rows,
    }
}

/// The forecast of `request` from the stored log, calls and adjustments.
async fn forecast_of(
    store: &dyn Store,
    workspace: &Workspace,
    request: &ForecastRequest,
) -> anyhow::Result<ForecastReport> {
    let projection = pipewise_store::analytics::projection(store, workspace).await?;
    let settings = pipewise_store::analytics::report_settings(store, workspace, false).await?;
    let benchmarks = FunnelBenchmarks::shipped();
    let inputs = settings.inputs(&projection, workspace, &benchmarks);
    let submissions = forecasts::submitted_for(store, workspace, request).await?;
    forecast::run(request, &inputs, &submissions).map_err(crate::report::refused)
}

fn summary(snapshot: &Snapshot, currency: Currency) -> String {
    let money = |minor: i64| Money::new(minor, currency).to_string();
    let methods: Vec<String> = snapshot
        .methods
        .iter()
        .map(|m| format!("{} {}", m.method.as_str(), money(m.forecast)))
        .collect();
    format!("won {}; {}", money(snapshot.won), methods.join(", "))
}

fn change_cells(c: &forecast::Change, currency: Currency) -> [Cell; 3] {
    [
        Cell::Money(c.from, currency),
        Cell::Money(c.to, currency),
        Cell::Money(c.change, currency),
    ]
}

fn write_comparison(
    out: &mut impl Write,
    c: &Comparison,
    currency: Currency,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "Forecast {}: {} → {}\n",
        c.period,
        c.from.format("%Y-%m-%d %H:%M"),
        c.to.format("%Y-%m-%d %H:%M")
    )?;
    let mut rows = vec![{
        let mut row = vec![text("closed won")];
        row.extend(change_cells(&c.won, currency));
        row
    }];
    for m in &c.methods {
        let mut row = vec![text(m.method.as_str())];
        row.extend(change_cells(&m.change, currency));
        rows.push(row);
    }
    write_aligned(
        out,
        &Table {
            columns: &["number", "from", "to", "change"],
            rows,
        },
    )?;
    if !c.people.is_empty() {
        writeln!(out, "\nPeople whose number moved")?;
        let rows = c
            .people
            .iter()
            .map(|p| {
                let mut row = vec![text(&p.name)];
                row.extend(change_cells(&p.change, currency));
                row
            })
            .collect();
        write_aligned(
            out,
            &Table {
                columns: &["person", "from", "to", "change"],
                rows,
            },
        )?;
    }
    writeln!(out, "\nDeals added, removed or changed, largest first")?;
    write_aligned(out, &deal_changes(c, currency))
}

fn deal_changes(c: &Comparison, currency: Currency) -> Table {
    let describe = |d: Option<&forecast::DealAtSnapshot>| match d {
        None => [Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty],
        Some(d) => [
            text(format!("{} / {}", d.stage, d.category.as_str())),
            Cell::Money(d.amount, currency),
            text(d.close_date.to_string()),
            text(if d.in_call { "in" } else { "out" }),
        ],
    };
    Table {
        columns: &[
            "deal",
            "owner",
            "change",
            "was",
            "was_amount",
            "was_due",
            "was_call",
            "now",
            "amount",
            "due",
            "call",
        ],
        rows: c
            .deals
            .iter()
            .map(|d| {
                let mut row = vec![
                    text(d.opportunity_id.to_string()),
                    text(&d.owner),
                    text(d.change),
                ];
                row.extend(describe(d.from.as_ref()));
                row.extend(describe(d.to.as_ref()));
                row
            })
            .collect(),
    }
}

async fn backtest(
    target: WorkspaceArgs,
    periods: u16,
    as_of: Option<NaiveDate>,
    format: ReportFormat,
) -> anyhow::Result<()> {
    let (store, workspace) = crate::process::open(&target).await?;
    let currency = workspace.corporate_currency;
    let now = Utc::now();
    let request = BacktestRequest {
        periods: usize::from(periods),
        as_of: as_of.unwrap_or_else(|| now.date_naive()),
        now,
    };
    let projection = pipewise_store::analytics::projection(&*store, &workspace).await?;
    let settings = pipewise_store::analytics::report_settings(&*store, &workspace, false).await?;
    let benchmarks = FunnelBenchmarks::shipped();
    let inputs = settings.inputs(&projection, &workspace, &benchmarks);
    let quarters = request.quarters(workspace.fiscal_calendar);
    let submissions = forecasts::submitted_in(&*store, &workspace, &quarters).await?;
    let report = forecast::backtest(&request, &inputs, &submissions)?;
    let mut out = std::io::stdout().lock();
    match format {
        ReportFormat::Json => write_json(&mut out, &report),
        ReportFormat::Csv => backtest_rows(&report, currency).write_csv(&mut out),
        ReportFormat::Table => write_backtest(&mut out, &report),
    }
}

fn backtest_rows(report: &BacktestReport, currency: Currency) -> Table {
    let mut rows = Vec::new();
    for period in &report.periods {
        for week in &period.weeks {
            for number in &week.forecasts {
                rows.push(vec![
                    text(&period.period),
                    Cell::Count(u64::from(week.week)),
                    text(week.day.to_string()),
                    text(number.method.as_str()),
                    Cell::Money(number.forecast, currency),
                    Cell::Money(period.actual, currency),
                ]);
            }
        }
    }
    Table {
        columns: &["period", "week", "day", "method", "forecast", "actual"],
        rows,
    }
}

fn write_backtest(out: &mut impl Write, report: &BacktestReport) -> anyhow::Result<()> {
    let periods: Vec<&str> = report.periods.iter().map(|p| p.period.as_str()).collect();
    writeln!(
        out,
        "Backtest of {} as of {}: each method's forecast at the end of every week against what was booked\n",
        periods.join(", "),
        report.as_of
    )?;
    let weeks = report
        .accuracy
        .iter()
        .map(|a| a.by_week.len())
        .max()
        .unwrap_or(0);
    let mut rows = Vec::new();
    for w in 0..weeks {
        let mut row = vec![Cell::Count(w as u64 + 1)];
        for a in &report.accuracy {
            row.push(a.by_week.get(w).map_or(Cell::Empty, |week| {
                text(format!(
                    "{:.1}% (bias {:+.1}%)",
                    week.mean_absolute_error * 100.0,
                    week.bias * 100.0
                ))
            }));
        }
        rows.push(row);
    }
    let mut overall = vec![text("all")];
    for a in &report.accuracy {
        overall.push(match (a.mean_absolute_error, a.bias) {
            (Some(e), Some(b)) => text(format!("{:.1}% (bias {:+.1}%)", e * 100.0, b * 100.0)),
            _ => Cell::Empty,
        });
    }
    rows.push(overall);
    // The accuracy comes in the methods' order.
    let columns = &[
        "week",
        "deal_call",
        "category_weighted",
        "stage_weighted",
        "deal_model",
    ];
    writeln!(
        out,
        "Error by week of the quarter: |forecast − booked| / booked, and its bias"
    )?;
    write_aligned(out, &Table { columns, rows })?;
    if let Some(best) = report.most_accurate {
        writeln!(out, "\nMost accurate over these periods: {}", best.as_str())?;
    }
    for c in &report.calibration {
        writeln!(
            out,
            "\n── calibration: {} ({} deal-weeks, Brier {}, log loss {}) ──",
            c.method.as_str(),
            c.deals,
            c.brier.map_or("—".to_owned(), |b| format!("{b:.4}")),
            c.log_loss.map_or("—".to_owned(), |l| format!("{l:.4}")),
        )?;
        let buckets = Table {
            columns: &["bucket", "deals", "predicted", "won"],
            rows: c
                .buckets
                .iter()
                .map(|b| {
                    vec![
                        text(format!("{:.0}–{:.0}%", b.from * 100.0, b.to * 100.0)),
                        Cell::Count(b.deals),
                        Cell::Share(Some(b.predicted)),
                        Cell::Share(Some(b.won)),
                    ]
                })
                .collect(),
        };
        write_aligned(out, &buckets)?;
        for alert in &c.alerts {
            writeln!(out, "! {alert}")?;
        }
    }
    Ok(())
}

async fn show(args: ForecastShow) -> anyhow::Result<()> {
    let (store, workspace) = crate::process::open(&args.target).await?;
    let currency = workspace.corporate_currency;
    let now = Utc::now();
    let request = ForecastRequest {
        period: args.period,
        as_of: args.as_of.unwrap_or_else(|| now.date_naive()),
        now,
    };
    let report = forecast_of(&*store, &workspace, &request).await?;
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
    if !report.people.is_empty() {
        writeln!(
            out,
            "\nCalls by person: own (single), with their reports (cumulative), and the number that stands"
        )?;
        let people = Table {
            columns: &[
                "person",
                "won",
                "single",
                "cumulative",
                "adjusted",
                "forecast",
                "upside",
                "called",
            ],
            rows: report
                .people
                .iter()
                .map(|p| {
                    vec![
                        text(format!("{}{}", "  ".repeat(p.depth), p.name)),
                        cell(p.won),
                        cell(p.single),
                        cell(p.cumulative),
                        p.adjustment
                            .as_ref()
                            .map_or(Cell::Empty, |a| cell(a.amount)),
                        cell(p.forecast),
                        cell(p.upside),
                        text(p.called_at.map_or("categories".to_owned(), |at| {
                            at.format("%Y-%m-%d").to_string()
                        })),
                    ]
                })
                .collect(),
        };
        write_aligned(out, &people)?;
        for p in &report.people {
            if let Some(a) = &p.adjustment {
                writeln!(
                    out,
                    "  {} adjusted by {} on {}: {}",
                    p.name,
                    a.by,
                    a.at.format("%Y-%m-%d"),
                    a.note
                )?;
            }
        }
    }
    if !report.gaps.is_empty() {
        writeln!(
            out,
            "\nBottom-up (the call) against top-down (each category at its historical conversion)"
        )?;
        let gaps = Table {
            columns: &[
                "level",
                "name",
                "bottom_up",
                "top_down",
                "gap",
                "ratio",
                "flag",
            ],
            rows: report
                .gaps
                .iter()
                .map(|g| {
                    vec![
                        text(g.level),
                        text(&g.name),
                        cell(g.bottom_up),
                        cell(g.top_down),
                        cell(g.gap),
                        Cell::Times(g.ratio),
                        text(match (g.flag, g.called) {
                            (Some(forecast::Flag::Sandbagging), _) => "sandbagging?",
                            (Some(forecast::Flag::HappyEars), _) => "happy ears?",
                            (None, false) => "no call",
                            (None, true) => "",
                        }),
                    ]
                })
                .collect(),
        };
        write_aligned(out, &gaps)?;
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
