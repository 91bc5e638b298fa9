//! Reports as tables: one table for the whole and one per slice, all with the same columns,
//! written aligned for reading or as one CSV (slice columns first).

use std::io::Write;

use pipewise_analytics::reports::{
    ConversionReport, CoverageReport, DiagnosisReport, LossMix, OutcomesView, Report, Sliced,
    StageTimes,
};
use pipewise_analytics::{Coverage, Dimension, Flow, Pipeline, Problem, Tally, Waterfall};
use pipewise_core::money::{Currency, Money};
use pipewise_core::process::ForecastCategory;

use crate::table::{Cell, Table, text, write_aligned};

/// A report ready to write.
pub struct Rendered {
    title: String,
    /// Lines shown before the tables (the verdict of a diagnosis).
    lead: Vec<String>,
    whole: Table,
    by: Vec<Dimension>,
    slices: Vec<(Vec<String>, Table)>,
    /// Lines shown after the whole's table.
    notes: Vec<String>,
}

impl Rendered {
    pub fn write_table(&self, out: &mut impl Write) -> anyhow::Result<()> {
        writeln!(out, "{}\n", self.title)?;
        for line in &self.lead {
            writeln!(out, "{line}")?;
        }
        if !self.lead.is_empty() {
            writeln!(out)?;
        }
        write_aligned(out, &self.whole)?;
        for note in &self.notes {
            writeln!(out, "\n{note}")?;
        }
        for (key, table) in &self.slices {
            let heading: Vec<String> = self
                .by
                .iter()
                .zip(key)
                .map(|(d, v)| format!("{}: {v}", d.as_str().replace('-', " ")))
                .collect();
            writeln!(out, "\n── {} ──", heading.join(" · "))?;
            write_aligned(out, table)?;
        }
        Ok(())
    }

    pub fn write_csv(&self, out: &mut impl Write) -> anyhow::Result<()> {
        let mut csv = csv::Writer::from_writer(out);
        let dimensions: Vec<&str> = self.by.iter().map(|d| d.as_str()).collect();
        csv.write_record(dimensions.iter().chain(self.whole.columns))?;
        let all = vec!["(all)".to_owned(); self.by.len()];
        let tables = std::iter::once((&all, &self.whole))
            .chain(self.slices.iter().map(|(key, table)| (key, table)));
        for (key, table) in tables {
            for row in &table.rows {
                csv.write_record(key.iter().cloned().chain(row.iter().map(Cell::raw)))?;
            }
        }
        csv.flush()?;
        Ok(())
    }
}

/// Builds the tables of a report.
pub fn of(report: &Report, currency: Currency) -> Rendered {
    let money = |minor: i64| Cell::Money(minor, currency);
    let tally = |t: Tally| [Cell::Count(t.count), money(t.amount)];
    match report {
        Report::Outcomes(r) => {
            let table = |o: &OutcomesView| outcomes_table(o, currency);
            let s = &r.scope;
            let mut notes = Vec::new();
            if let Some(coverage) = r.outcomes.required_coverage_by_count {
                notes.push(format!(
                    "Required pipeline coverage at the slippage-adjusted close rate: {coverage:.1}×"
                ));
            }
            Rendered {
                title: format!(
                    "Outcomes of qualified deals closed in {} ({} to {}), amounts in {}",
                    s.period, s.from, s.to, s.currency
                ),
                lead: Vec::new(),
                whole: table(&r.outcomes),
                by: s.by.clone(),
                slices: slices(&r.slices, &s.by, table),
                notes,
            }
        }
        Report::Pipeline(r) => Rendered {
            title: format!("Open pipeline at the end of {}", r.scope.as_of),
            lead: Vec::new(),
            whole: pipeline_table(&r.pipeline),
            by: r.scope.by.clone(),
            slices: slices(&r.slices, &r.scope.by, pipeline_table),
            notes: Vec::new(),
        },
        Report::Snapshots(r) => {
            let table = |s: &pipewise_analytics::reports::Snapshots| {
                let mut rows = Vec::new();
                for week in &s.weeks {
                    for row in pipeline_table(&week.pipeline).rows {
                        rows.push(
                            std::iter::once(text(week.week_ending.to_string()))
                                .chain(row)
                                .collect(),
                        );
                    }
                }
                Table {
                    columns: &["week_ending", "category", "deals", "amount_minor"],
                    rows,
                }
            };
            Rendered {
                title: format!(
                    "Open pipeline at the end of each week of {}",
                    r.scope.period
                ),
                lead: Vec::new(),
                whole: table(&r.snapshots),
                by: r.scope.by.clone(),
                slices: slices(&r.slices, &r.scope.by, table),
                notes: Vec::new(),
            }
        }
        Report::Conversion(r) => conversion(r),
        Report::TimeInStage(r) => {
            let table = |t: &StageTimes| Table {
                columns: &[
                    "stage",
                    "completed",
                    "median_days",
                    "p75_days",
                    "open",
                    "aging",
                ],
                rows: t
                    .stages
                    .iter()
                    .map(|s| {
                        vec![
                            text(s.stage.to_string()),
                            Cell::Count(s.completed as u64),
                            Cell::Days(s.median_days),
                            Cell::Days(s.p75_days),
                            Cell::Count(s.open as u64),
                            Cell::Count(s.aging as u64),
                        ]
                    })
                    .collect(),
            };
            Rendered {
                title: format!(
                    "Time in stage, {} process: visits that ended in {}; open deals at the end of {} (aging: longer than the P75)",
                    r.process.name, r.scope.period, r.scope.as_of
                ),
                lead: Vec::new(),
                whole: table(&r.stages),
                by: r.scope.by.clone(),
                slices: slices(&r.slices, &r.scope.by, table),
                notes: Vec::new(),
            }
        }
        Report::Waterfall(r) => {
            let table = |w: &Waterfall| Table {
                columns: &["line", "deals", "amount_minor"],
                rows: [
                    ("start", w.start),
                    ("+ created", w.created),
                    ("+ pulled in", w.pulled_in),
                    ("+ reopened", w.reopened),
                    ("− pushed out", w.pushed_out),
                    ("± amount changes", w.amount_changes),
                    ("− won", w.won),
                    ("− lost", w.lost),
                    ("= end", w.end),
                ]
                .into_iter()
                .map(|(line, t)| std::iter::once(text(line)).chain(tally(t)).collect())
                .collect(),
            };
            let s = &r.scope;
            Rendered {
                title: format!(
                    "Open pipeline due in {} ({} to {}), from the end of {} to the end of {}, amounts in {}",
                    s.period, s.from, s.to, r.since, s.as_of, s.currency
                ),
                lead: Vec::new(),
                whole: table(&r.waterfall),
                by: s.by.clone(),
                slices: slices(&r.slices, &s.by, table),
                notes: Vec::new(),
            }
        }
        Report::Velocity(r) => {
            let table = |f: &Flow| Table {
                columns: &["metric", "value"],
                rows: vec![
                    vec![
                        text("qualified pipeline created, deals"),
                        Cell::Count(f.qualified_created.count),
                    ],
                    vec![
                        text("qualified pipeline created"),
                        money(f.qualified_created.amount),
                    ],
                    vec![text("wins"), Cell::Count(f.sales_cycle.won)],
                    vec![
                        text("sales cycle, median days"),
                        Cell::Days(f.sales_cycle.median_days),
                    ],
                    vec![
                        text("sales cycle, mean days"),
                        Cell::Days(f.sales_cycle.mean_days),
                    ],
                    vec![
                        text("open qualified deals"),
                        Cell::Count(f.velocity.qualified_open),
                    ],
                    vec![text("win rate"), Cell::Share(f.velocity.win_rate)],
                    vec![
                        text("average win"),
                        f.velocity
                            .average_won
                            .map_or(Cell::Empty, |a| money(a.round() as i64)),
                    ],
                    vec![
                        text("velocity per day"),
                        f.velocity
                            .per_day
                            .map_or(Cell::Empty, |v| money(v.round() as i64)),
                    ],
                ],
            };
            let s = &r.scope;
            Rendered {
                title: format!("Velocity, {} ({} to {})", s.period, s.from, s.to),
                lead: Vec::new(),
                whole: table(&r.flow),
                by: s.by.clone(),
                slices: slices(&r.slices, &s.by, table),
                notes: Vec::new(),
            }
        }
        Report::LossMix(r) => {
            let table = |m: &LossMix| {
                let mut rows = vec![
                    vec![
                        text("no_decision"),
                        Cell::Empty,
                        Cell::Count(m.no_decision.lost.count),
                        money(m.no_decision.lost.amount),
                        Cell::Share(m.no_decision.share_by_count),
                    ],
                    vec![
                        text("competition"),
                        Cell::Empty,
                        Cell::Count(m.competition.lost.count),
                        money(m.competition.lost.amount),
                        Cell::Share(m.competition.share_by_count),
                    ],
                ];
                for c in &m.by_competitor {
                    rows.push(vec![
                        text("competition"),
                        text(c.competitor.clone()),
                        Cell::Count(c.lost.count),
                        money(c.lost.amount),
                        Cell::Empty,
                    ]);
                }
                Table {
                    columns: &[
                        "loss",
                        "competitor",
                        "deals",
                        "amount_minor",
                        "share_by_count",
                    ],
                    rows,
                }
            };
            Rendered {
                title: format!(
                    "Losses of qualified deals closed in {}: {} deals",
                    r.scope.period, r.mix.lost.count
                ),
                lead: Vec::new(),
                whole: table(&r.mix),
                by: r.scope.by.clone(),
                slices: slices(&r.slices, &r.scope.by, table),
                notes: vec![
                    "No decision → discovery and business value; competition → differentiation and validation."
                        .to_owned(),
                ],
            }
        }
        Report::Coverage(r) => coverage(r, currency),
        Report::Diagnosis(r) => diagnosis(r),
    }
}

fn slices<M>(
    slices: &[Sliced<M>],
    by: &[Dimension],
    table: impl Fn(&M) -> Table,
) -> Vec<(Vec<String>, Table)> {
    slices
        .iter()
        .map(|s| {
            let key = s.key(by).into_iter().map(str::to_owned).collect();
            (key, table(&s.value))
        })
        .collect()
}

fn outcomes_table(o: &OutcomesView, currency: Currency) -> Table {
    let money = |minor: i64| Cell::Money(minor, currency);
    let mut rows: Vec<Vec<Cell>> = [
        ("won", o.outcomes.won),
        ("lost_to_competition", o.outcomes.lost_to_competition),
        ("lost_to_no_decision", o.outcomes.lost_to_no_decision),
        ("excluded", o.outcomes.excluded),
        ("slipped", o.outcomes.slipped),
    ]
    .into_iter()
    .map(|(line, t)| {
        vec![
            text(line),
            Cell::Count(t.count),
            money(t.amount),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]
    })
    .collect();
    for (line, r) in [
        ("close_rate", o.close_rate),
        ("win_rate", o.win_rate),
        (
            "slippage_adjusted_close_rate",
            o.slippage_adjusted_close_rate,
        ),
    ] {
        rows.push(vec![
            text(line),
            Cell::Count(r.numerator.count),
            money(r.numerator.amount),
            Cell::Count(r.denominator.count),
            money(r.denominator.amount),
            Cell::Share(r.by_count),
            Cell::Share(r.by_amount),
        ]);
    }
    Table {
        columns: &[
            "line",
            "deals",
            "amount_minor",
            "of_deals",
            "of_amount_minor",
            "by_count",
            "by_amount",
        ],
        rows,
    }
}

fn pipeline_table(pipeline: &Pipeline) -> Table {
    // One row per category and currency.
    let mut rows = Vec::new();
    for category in [
        ForecastCategory::Commit,
        ForecastCategory::BestCase,
        ForecastCategory::Pipeline,
        ForecastCategory::Omitted,
    ] {
        let Some(totals) = pipeline.categories.get(&category) else {
            continue;
        };
        if totals.amounts.is_empty() {
            rows.push(vec![
                text(category.as_str()),
                Cell::Count(totals.count),
                Cell::Empty,
            ]);
        }
        for (i, (currency, minor)) in totals.amounts.iter().enumerate() {
            // The deal count on each category's first row only, so the column adds up.
            let deals = if i == 0 {
                Cell::Count(totals.count)
            } else {
                Cell::Empty
            };
            rows.push(vec![
                text(category.as_str()),
                deals,
                Cell::Money(*minor, *currency),
            ]);
        }
    }
    Table {
        columns: &["category", "deals", "amount_minor"],
        rows,
    }
}

fn conversion(r: &ConversionReport) -> Rendered {
    let table = |c: &pipewise_analytics::reports::Conversions| {
        // The documented (next-stage) transitions first, then every other one.
        let ordered = c
            .conversions
            .iter()
            .filter(|v| v.conversion.documented)
            .chain(c.conversions.iter().filter(|v| !v.conversion.documented));
        Table {
            columns: &[
                "from",
                "to",
                "documented",
                "entered",
                "reached",
                "still_open",
                "rate",
            ],
            rows: ordered
                .map(|v| {
                    let c = &v.conversion;
                    vec![
                        text(c.from.to_string()),
                        text(c.to.clone()),
                        text(if c.documented { "yes" } else { "no" }),
                        Cell::Count(c.entered),
                        Cell::Count(c.reached),
                        Cell::Count(c.still_open),
                        Cell::Share(v.rate),
                    ]
                })
                .collect(),
        }
    };
    Rendered {
        title: format!(
            "Conversion of {} deals that entered each stage in {}",
            r.process.name, r.scope.period
        ),
        lead: Vec::new(),
        whole: table(&r.conversions),
        by: r.scope.by.clone(),
        slices: slices(&r.slices, &r.scope.by, table),
        notes: Vec::new(),
    }
}

fn coverage(r: &CoverageReport, currency: Currency) -> Rendered {
    let money = |minor: i64| Cell::Money(minor, currency);
    let table = |c: &Coverage| {
        let line = |name: &str, t: Tally| {
            vec![
                text(name),
                Cell::Count(t.count),
                money(t.amount),
                Cell::Empty,
            ]
        };
        let amount = |name: &str, minor: Option<i64>| {
            vec![
                text(name),
                Cell::Empty,
                minor.map_or(Cell::Empty, money),
                Cell::Empty,
            ]
        };
        let smb = c.mode == pipewise_analytics::CoverageMode::Smb;
        Table {
            columns: &["line", "deals", "amount_minor", "coverage"],
            rows: vec![
                amount("target", (c.target > 0).then_some(c.target)),
                line("won", c.won),
                line("commit", c.commit),
                line("best case", c.best_case),
                line(
                    if smb {
                        "pipeline"
                    } else {
                        "pipeline (not counted)"
                    },
                    c.pipeline,
                ),
                vec![
                    text("coverage"),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Times(c.ratio),
                ],
                amount("required pipeline", c.required_pipeline),
            ],
        }
    };
    let s = &r.scope;
    let mut notes = vec![format!(
        "Goal 3.0×: {} of pipeline.",
        Money::new(r.pipeline_for_3x, currency)
    )];
    let year = &r.trailing_year;
    if let Some(rate) = year.close_rate_by_amount {
        notes.push(format!(
            "Required pipeline = (target − won) / close rate {:.1}% by amount over {} to {}.",
            rate * 100.0,
            year.from,
            year.to
        ));
    }
    if let (Some(stack), Some(average)) = (&r.target_stack, year.average_win) {
        notes.push(format!(
            "Still needed: {} wins at an average win of {}, from {} qualified deals at a close rate of {:.1}% by count.",
            stack.wins,
            Money::new(average, currency),
            stack.entries.first().copied().unwrap_or(0),
            stack.chained_conversion * 100.0
        ));
    }
    Rendered {
        title: format!(
            "Coverage of the {} target ({} to {}), {} mode, at the end of {}",
            s.period,
            s.from,
            s.to,
            match r.coverage.mode {
                pipewise_analytics::CoverageMode::Smb => "SMB",
                pipewise_analytics::CoverageMode::Enterprise => "enterprise",
            },
            s.as_of
        ),
        lead: Vec::new(),
        whole: table(&r.coverage),
        by: s.by.clone(),
        slices: slices(&r.slices, &s.by, table),
        notes,
    }
}

fn diagnosis(r: &DiagnosisReport) -> Rendered {
    let problems: Vec<&str> = r
        .diagnosis
        .problems
        .iter()
        .map(|p| match p {
            Problem::Pipeline => "pipeline problem",
            Problem::Conversion => "conversion problem",
            Problem::Capacity => "capacity problem",
        })
        .collect();
    let mut lead = vec![if problems.is_empty() {
        "No problem found".to_owned()
    } else {
        format!("A {}", problems.join(" and a "))
    }];
    lead.extend(
        r.diagnosis
            .reasons
            .iter()
            .map(|reason| format!("  - {reason}")),
    );
    if let (Some(leak), Some(focus)) = (&r.diagnosis.leaking_step, &r.diagnosis.focus) {
        lead.push(format!(
            "Leaking most: {} → {}. {focus}",
            leak.from, leak.to
        ));
    }
    let rows = r
        .steps
        .iter()
        .map(|s| {
            let guardrail = s.guardrail.as_ref();
            vec![
                text(s.from.clone()),
                text(s.to.clone()),
                Cell::Share(s.baseline),
                Cell::Share(s.target.map(|(low, _)| low)),
                Cell::Share(s.target.map(|(_, high)| high)),
                Cell::Share(s.actual),
                Cell::Share(s.shortfall()),
                Cell::Days(guardrail.and_then(|g| g.value)),
                Cell::Days(guardrail.and_then(|g| g.limit)),
                text(if guardrail.is_some_and(|g| g.breached()) {
                    "over"
                } else {
                    ""
                }),
            ]
        })
        .collect();
    Rendered {
        title: format!(
            "Diagnosis of {} ({} to {}) against {} to {}; coverage of the quarter in progress; guardrail: P75 days in the step's first stage",
            r.scope.period, r.scope.from, r.scope.to, r.baseline.from, r.baseline.to
        ),
        lead,
        whole: Table {
            columns: &[
                "from",
                "to",
                "baseline",
                "target_low",
                "target_high",
                "actual",
                "shortfall",
                "p75_days",
                "p75_days_limit",
                "guardrail",
            ],
            rows,
        },
        by: Vec::new(),
        slices: Vec::new(),
        notes: r
            .steps
            .iter()
            .filter(|s| s.shortfall().is_some_and(|x| x > 0.0))
            .filter_map(|s| {
                s.action
                    .as_ref()
                    .map(|a| format!("{} → {} is below target: {a}", s.from, s.to))
            })
            .chain(r.warnings.iter().map(|w| format!("Warning: {w}")))
            .collect(),
    }
}
