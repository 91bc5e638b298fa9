//! A generated workspace exported as CSV and imported into an empty one: every deal, every
//! event and every pipeline report, whole and by each deal dimension, comes back the same.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use chrono::{NaiveDate, Utc};
use pipewise_analytics::reports::{ReportName, ReportRequest, run};
use pipewise_analytics::{CoverageMode, Dimension, FunnelBenchmarks, SizeBands};
use pipewise_core::calendar::Period;
use pipewise_core::money::Currency;
use pipewise_core::org::Workspace;
use pipewise_core::process::ProcessSet;
use pipewise_core::text::Slug;
use pipewise_demo::{DemoConfig, Generator};
use pipewise_import::mapping::Mapping;
use pipewise_import::values::DateStyle;
use pipewise_import::{ImportError, Imported, Prepared, Request, Source};
use pipewise_store::Store;
use serde_json::Value;

use support::{all, counts, workspace_with};

async fn demo(store: &dyn Store) -> Workspace {
    let generator = Generator::new(DemoConfig {
        seed: 11,
        opportunities: 300,
        as_of: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        slug: Slug::parse("demo").unwrap(),
    })
    .unwrap();
    let workspace = generator.workspace().clone();
    store.create_workspace(&workspace).await.unwrap();
    for chunk in generator {
        store
            .write_batch(workspace.id, &chunk.unwrap().batch)
            .await
            .unwrap();
    }
    workspace
}

/// A demo workspace exported as CSV, and an empty workspace to import it into.
struct Exported {
    original: Workspace,
    folder: tempfile::TempDir,
    copy: Workspace,
}

impl Exported {
    async fn new(store: &dyn Store) -> Self {
        let original = demo(store).await;
        let folder = tempfile::tempdir().unwrap();
        pipewise_export::export(
            store,
            &original,
            folder.path(),
            pipewise_export::Format::Csv,
        )
        .await
        .unwrap();
        let copy = workspace_with(store, original.fiscal_calendar).await;
        Self {
            original,
            folder,
            copy,
        }
    }

    /// The export as read for the empty workspace.
    async fn prepare(&self, store: &dyn Store) -> Prepared {
        let (processes, mapping) = self.mapping(store).await;
        pipewise_import::prepare(store, &self.copy, &processes, self.request(&mapping))
            .await
            .unwrap()
    }

    /// The export imported into the empty workspace, read and written at once.
    async fn import(&self, store: &dyn Store) -> Result<Imported, ImportError> {
        let (processes, mapping) = self.mapping(store).await;
        let request = self.request(&mapping);
        pipewise_import::import(store, &self.copy, &processes, request, |_| {}).await
    }

    async fn mapping(&self, store: &dyn Store) -> (ProcessSet, Mapping) {
        let text = std::fs::read_to_string(self.folder.path().join("mapping.toml")).unwrap();
        let processes = pipewise_store::processes::current(store, &self.copy)
            .await
            .unwrap();
        let mapping = Mapping::parse("mapping.toml", &text, &processes).unwrap();
        (processes, mapping)
    }

    fn request<'a>(&'a self, mapping: &'a Mapping) -> Request<'a> {
        Request {
            source: Source::Csv,
            folder: self.folder.path(),
            mapping,
            dates: DateStyle::Iso,
        }
    }
}

/// Every pipeline report of `workspace` for two quarters, whole and by each dimension a
/// deal carries, as the API would show them.
async fn reports(store: &dyn Store, workspace: &Workspace) -> Vec<Value> {
    let projection = pipewise_store::analytics::projection(store, workspace)
        .await
        .unwrap();
    let settings = pipewise_store::analytics::report_settings(store, workspace, true)
        .await
        .unwrap();
    let benchmarks = FunnelBenchmarks::shipped();
    let inputs = settings.inputs(&projection, workspace, &benchmarks);
    let mut out = Vec::new();
    for period in ["2026-Q1", "2026-Q2"] {
        for name in [
            ReportName::Outcomes,
            ReportName::Pipeline,
            ReportName::Conversion,
            ReportName::TimeInStage,
            ReportName::Waterfall,
            ReportName::Velocity,
            ReportName::LossMix,
        ] {
            for by in [
                vec![],
                vec![Dimension::Owner],
                vec![Dimension::Manager],
                vec![Dimension::Segment],
                vec![Dimension::Source],
                vec![Dimension::Competitor],
                vec![Dimension::Region],
                vec![Dimension::SizeBand],
            ] {
                let request = ReportRequest {
                    name,
                    period: Some(period.parse::<Period>().unwrap()),
                    as_of: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
                    now: Utc::now(),
                    since: None,
                    process: None,
                    mode: CoverageMode::Enterprise,
                    by,
                    bands: SizeBands::standard(Currency::USD),
                };
                out.push(serde_json::to_value(run(&request, &inputs).unwrap()).unwrap());
            }
        }
    }
    out
}

on_both_backends! {
    async fn an_exported_workspace_imports_into_an_empty_one_with_the_same_numbers(store) {
        let exported = Exported::new(store).await;
        let (original, copy) = (&exported.original, &exported.copy);
        let imported = exported.import(store).await.unwrap();
        let issues = &imported.read.issues;
        assert!(issues.is_empty(), "{:#?}", &issues[..issues.len().min(5)]);

        let (a, b) = (counts(store, original).await, counts(store, copy).await);
        assert_eq!((a.opportunities, a.opportunity_events, a.accounts), (b.opportunities, b.opportunity_events, b.accounts));
        assert!(a.opportunities == 300 && a.opportunity_events > 1_000);
        let deals_a = all(store.all_opportunities(original.id)).await;
        let deals_b = all(store.all_opportunities(copy.id)).await;
        assert_eq!(deals_a, deals_b);

        let (before, after) = (reports(store, original).await, reports(store, copy).await);
        assert_eq!(before.len(), after.len());
        for (a, b) in before.iter().zip(&after) {
            assert_eq!(a, b);
        }
    }

    async fn a_log_whose_deals_are_interleaved_reads_as_one_grouped_by_deal(store) {
        let exported = Exported::new(store).await;
        let grouped = exported.prepare(store).await;
        assert!(grouped.issues.is_empty());

        // The same rows ordered by seq first, so each deal's rows are spread over the file,
        // with the third event of one deal made unreadable.
        let path = exported.folder.path().join("events.csv");
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let header = reader.headers().unwrap().clone();
        let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        rows.sort_by(|a, b| (a[1].parse::<u32>().unwrap(), &a[0]).cmp(&(b[1].parse::<u32>().unwrap(), &b[0])));
        let broken = rows.iter().position(|r| &r[1] == "3").unwrap();
        let deal = rows[broken][0].to_owned();
        rows[broken] = rows[broken].iter().enumerate().map(|(i, f)| if i == 2 { "bogus" } else { f }).collect();
        let mut writer = csv::Writer::from_path(&path).unwrap();
        writer.write_record(&header).unwrap();
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        writer.flush().unwrap();
        let line = csv::Reader::from_path(&path).unwrap().records().map(Result::unwrap)
            .find(|r| &r[2] == "bogus").unwrap().position().unwrap().line();
        assert!(rows[..broken].iter().filter(|r| r[0] == deal).count() == 2 && broken > 2, "the deal's rows are not together");

        let spread = exported.prepare(store).await;
        assert_eq!(spread.issues.len(), 1, "{:#?}", spread.issues);
        let issue = &spread.issues[0];
        assert_eq!((issue.file.as_str(), issue.line, issue.column.as_str(), issue.value.as_str()), ("events.csv", line, "kind", "bogus"));
        let expected: Vec<_> = grouped.opportunities.iter().filter(|d| d.external_id != deal).collect();
        assert_eq!(expected.len(), 299);
        assert_eq!(spread.opportunities.iter().collect::<Vec<_>>(), expected);

        // Imported with writing under way while the log is read, each deal still gets all
        // of its events, and the unreadable one none.
        let imported = exported.import(store).await.unwrap();
        assert_eq!(imported.read.issues, spread.issues);
        let mut original = all(store.all_opportunities(exported.original.id)).await;
        original.retain(|d| d.id.to_string() != deal);
        assert_eq!(all(store.all_opportunities(exported.copy.id)).await, original);
        let (a, b) = (counts(store, &exported.original).await, counts(store, &exported.copy).await);
        let broken_events = grouped.opportunities.iter().find(|d| d.external_id == deal).unwrap().record.events.len();
        assert_eq!(b.opportunity_events, a.opportunity_events - broken_events as u64);
    }

    async fn a_file_missing_a_column_stops_the_import_before_anything_is_written(store) {
        let exported = Exported::new(store).await;
        let path = exported.folder.path().join("contacts.csv");
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let header = reader.headers().unwrap().clone();
        let keep: Vec<usize> = (0..header.len()).filter(|&i| &header[i] != "account_id").collect();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let mut writer = csv::Writer::from_path(&path).unwrap();
        for row in std::iter::once(&header).chain(&rows) {
            writer.write_record(keep.iter().map(|&i| &row[i])).unwrap();
        }
        writer.flush().unwrap();
        let before = counts(store, &exported.copy).await;

        let error = exported.import(store).await.unwrap_err();
        assert_eq!(error.to_string(), "contacts.csv: the header has no column account_id");
        assert_eq!(counts(store, &exported.copy).await, before, "nothing was written");
    }
}
