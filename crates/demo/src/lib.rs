//! A deterministic generator of a realistic sales organisation and its deal history, at any
//! scale: the same seed, size and date always give the same records.
//!
//! Deal outcomes depend on deal attributes through a known model (see [`model`] and
//! `docs/demo-data.md`), and every generated change goes through the domain's command
//! function, so histories obey the sales process exactly as user input must.

mod deal;
mod evidence;
pub mod model;
mod names;
mod world;

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate};
use pipewise_core::crm::{Target, TargetOwner};
use pipewise_core::ids::{OpportunityId, TargetId};
use pipewise_core::money::Money;
use pipewise_core::opportunity::{CommandError, Status};
use pipewise_core::org::{User, Workspace};
use pipewise_core::process::Process;
use pipewise_core::text::Slug;
use pipewise_store::Batch;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::Segment;
use crate::world::{QUARTERS, World};

pub const DEFAULT_SEED: u64 = 7;
/// About 25 reps' worth of deals over eight quarters.
pub const DEFAULT_OPPORTUNITIES: usize = 6_000;
/// Opportunities per batch (one transaction each).
pub const DEALS_PER_BATCH: usize = 5_000;
/// Accounts (with their contacts) per batch.
const ACCOUNTS_PER_BATCH: usize = 20_000;
/// Quotas are whole multiples of $5,000 (in cents).
const QUOTA_STEP: i64 = 500_000;
/// Yearly growth in the number of new deals.
const YEARLY_GROWTH: f64 = 1.3;

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub seed: u64,
    /// Number of opportunities; the organisation and market grow with it.
    pub opportunities: usize,
    /// The last day of the history: "today" in the demo.
    pub as_of: NaiveDate,
    pub slug: Slug,
}

/// What the generator knows about a deal that its records do not say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    /// The model's chance that the deal is won, fixed when it was created.
    pub win_probability: f64,
    /// Whether it ends won. For a deal still open at the end of the history, or lost to no
    /// decision but due to be reopened, that lies in the future.
    pub won: bool,
}

/// One batch of records, with the truth about its opportunities.
#[derive(Debug, Clone, Default)]
pub struct Chunk {
    pub batch: Batch,
    pub truths: Vec<(OpportunityId, Truth)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo model error: {0}")]
    Model(String),
    #[error("the rules refused a generated change to opportunity {id}: {error}")]
    Rejected {
        id: OpportunityId,
        error: CommandError,
    },
}

impl DemoError {
    fn model(error: impl fmt::Display) -> Self {
        DemoError::Model(error.to_string())
    }

    fn rejected(id: OpportunityId, error: CommandError) -> Self {
        DemoError::Rejected { id, error }
    }
}

enum Phase {
    People,
    Accounts { next: usize },
    Deals { next: usize },
    Targets,
    Done,
}

/// Yields the demo workspace's records as [`Chunk`]s: people first, then accounts, then
/// deals oldest first, then quotas.
pub struct Generator {
    config: DemoConfig,
    world: World,
    process: Process,
    phase: Phase,
    /// Won amounts (minor units) per segment, for setting quotas.
    won_by_segment: HashMap<Segment, i64>,
}

impl Generator {
    pub fn new(config: DemoConfig) -> Result<Self, DemoError> {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let scale = (config.opportunities as f64 / DEFAULT_OPPORTUNITIES as f64).max(1.0 / 8.0);
        let world = World::build(&mut rng, &config.slug, scale, config.as_of)?;
        Ok(Self {
            config,
            world,
            process: Process::default_enterprise(),
            phase: Phase::People,
            won_by_segment: HashMap::new(),
        })
    }

    pub fn workspace(&self) -> &Workspace {
        &self.world.workspace
    }

    pub fn users(&self) -> &[User] {
        &self.world.users
    }

    /// Number of opportunities that will be generated.
    pub fn opportunities(&self) -> usize {
        self.config.opportunities
    }

    /// When deal `index` (of all, oldest first) was created: deal creation grows steadily
    /// over the history, and the times are spread evenly along that growth curve.
    fn created_at(&self, index: usize, rng: &mut ChaCha8Rng) -> DateTime<chrono::Utc> {
        let span = (self.world.history_end - self.world.history_start).num_seconds() as f64;
        let years = span / (365.25 * 86_400.0);
        let growth = YEARLY_GROWTH.ln();
        let u = (index as f64 + rng.random::<f64>()) / self.config.opportunities as f64;
        let fraction = (1.0 + u * ((growth * years).exp() - 1.0)).ln() / (growth * years);
        self.world.history_start + Duration::seconds((fraction * span) as i64)
    }

    fn deals(&mut self, first: usize) -> Result<Chunk, DemoError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        // Each batch draws from its own stream, so batches do not depend on one another.
        rng.set_stream(1 + (first / DEALS_PER_BATCH) as u64);
        let end = (first + DEALS_PER_BATCH).min(self.config.opportunities);
        let mut chunk = Chunk::default();
        for index in first..end {
            let created_at = self.created_at(index, &mut rng);
            let deal = deal::simulate(&self.world, &self.process, &mut rng, created_at)?;
            let state = &deal.recorded.state;
            if state.status == Status::Won {
                let segment = self
                    .world
                    .team_of(state.owner_id)
                    .map_or(Segment::Smb, |t| t.segment);
                *self.won_by_segment.entry(segment).or_default() +=
                    state.amount.map_or(0, |m| m.minor);
            }
            chunk.truths.push((state.id, deal.truth));
            chunk.batch.activities.extend(deal.activities);
            chunk.batch.leads.extend(deal.leads);
            chunk.batch.opportunities.push(deal.recorded);
        }
        Ok(chunk)
    }

    /// Quotas per rep for every quarter of the history and the next one, set a little above
    /// what the rep's segment delivered per rep and quarter; team and company targets are
    /// their sums.
    fn targets(&self) -> Vec<Target> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(0);
        let currency = self.world.workspace.corporate_currency;
        let mut targets = Vec::new();
        for period in self.world.quarters() {
            let start = self.world.calendar.range(period).start;
            let millis = world::millis(start.and_time(chrono::NaiveTime::MIN).and_utc())
                .saturating_sub(86_400_000);
            let mut company_total = 0;
            for team in &self.world.teams {
                let reps = self.world.reps_by_segment[team.segment as usize]
                    .len()
                    .max(1) as f64;
                let won = *self.won_by_segment.get(&team.segment).unwrap_or(&0) as f64;
                let per_rep_quarter = won / reps / f64::from(QUARTERS);
                let mut team_total = 0;
                for rep in &team.reps {
                    let stretch = rng.random_range(1.05..1.30);
                    let quota = ((per_rep_quarter * stretch / QUOTA_STEP as f64).round() as i64)
                        .max(2)
                        * QUOTA_STEP;
                    team_total += quota;
                    targets.push(Target {
                        version: 1,
                        id: TargetId::from_parts(millis, rng.random()),
                        owner: TargetOwner::User(*rep),
                        period,
                        amount: Money::new(quota, currency),
                    });
                }
                company_total += team_total;
                targets.push(Target {
                    version: 1,
                    id: TargetId::from_parts(millis, rng.random()),
                    owner: TargetOwner::Team(team.team.id),
                    period,
                    amount: Money::new(team_total, currency),
                });
            }
            targets.push(Target {
                version: 1,
                id: TargetId::from_parts(millis, rng.random()),
                owner: TargetOwner::Workspace,
                period,
                amount: Money::new(company_total, currency),
            });
        }
        targets
    }
}

impl Iterator for Generator {
    type Item = Result<Chunk, DemoError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.phase {
            Phase::People => {
                self.phase = Phase::Accounts { next: 0 };
                let batch = Batch {
                    teams: self.world.teams.iter().map(|t| t.team.clone()).collect(),
                    users: self.world.users.clone(),
                    ..Batch::default()
                };
                Some(Ok(Chunk {
                    batch,
                    truths: Vec::new(),
                }))
            }
            Phase::Accounts { next } => {
                let end = (next + ACCOUNTS_PER_BATCH).min(self.world.accounts.len());
                self.phase = if end == self.world.accounts.len() {
                    Phase::Deals { next: 0 }
                } else {
                    Phase::Accounts { next: end }
                };
                let infos = &self.world.accounts[next..end];
                let batch = Batch {
                    accounts: infos.iter().map(|a| a.account.clone()).collect(),
                    contacts: infos
                        .iter()
                        .flat_map(|a| &a.contacts)
                        .filter_map(|i| self.world.contacts.get(*i).cloned())
                        .collect(),
                    ..Batch::default()
                };
                Some(Ok(Chunk {
                    batch,
                    truths: Vec::new(),
                }))
            }
            Phase::Deals { next } if next < self.config.opportunities => {
                self.phase = Phase::Deals {
                    next: next + DEALS_PER_BATCH,
                };
                Some(self.deals(next))
            }
            Phase::Deals { .. } => {
                self.phase = Phase::Targets;
                self.next()
            }
            Phase::Targets => {
                self.phase = Phase::Done;
                let batch = Batch {
                    targets: self.targets(),
                    ..Batch::default()
                };
                Some(Ok(Chunk {
                    batch,
                    truths: Vec::new(),
                }))
            }
            Phase::Done => None,
        }
    }
}
