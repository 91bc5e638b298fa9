//! Pipeline analytics: a columnar, in-memory projection of the opportunity event log that is
//! built once from the store and then updated event by event, and the numbers read from it.
//!
//! Pure: the caller streams events in ([`Projection::apply`]); nothing here reads a database.

mod diagnosis;
mod plan;
mod projection;

pub use diagnosis::{Diagnosis, FunnelPart, Health, Problem, StepBenchmark, diagnose};
pub use plan::{TargetStack, pipeline_for_coverage, target_stack};
pub use projection::{
    CategoryTotals, Conversion, Coverage, CoverageMode, DealState, Dimension, NO_VALUE, Outcomes,
    Pipeline, Projection, ProjectionError, Ratio, SalesCycle, SliceContext, StageTime, Tally,
    Velocity, Waterfall, required_coverage,
};
