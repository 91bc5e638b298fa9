//! Pipeline analytics: a columnar, in-memory projection of the opportunity event log that is
//! built once from the store and then updated event by event, and the numbers read from it.
//!
//! Pure: the caller streams events in ([`Projection::apply`]); nothing here reads a database.

mod benchmarks;
mod diagnosis;
pub mod forecast;
pub mod leads;
mod plan;
mod projection;
pub mod reports;

pub use benchmarks::{FunnelBenchmarks, StepSetting};
pub use diagnosis::{Diagnosis, FunnelPart, Guardrail, Health, Problem, StepBenchmark, diagnose};
pub use plan::{TargetStack, pipeline_for_coverage, target_stack};
pub use projection::{
    CategoryHistory, CategoryHistoryRow, CategoryTotals, Conversion, Coverage, CoverageMode,
    DealState, Dimension, Flow, NO_VALUE, OpenDeal, OpenFilter, Outcomes, Pipeline, Projection,
    ProjectionError, Ratio, SalesCycle, SizeBands, Slice, SliceContext, Slicing, StageTime,
    StageWins, Tally, Velocity, Waterfall, required_coverage,
};
pub(crate) use projection::{Facts, Observation};
