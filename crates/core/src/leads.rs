//! Leads on their way to qualified pipeline: the lifecycle and its dispositions, fit and
//! intent scores with their evidence, the routing matrix and assignment, speed-to-lead
//! deadlines, data standards on entry and channel attribution. Settings come from
//! `leads.toml` with a workspace's own file laid over it.

pub mod assessment;
pub mod attribution;
pub mod conversion;
pub mod intake;
pub mod lifecycle;
pub mod routing;
pub mod scoring;
pub mod settings;
pub mod speed;

#[cfg(test)]
mod tests;
