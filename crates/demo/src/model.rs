//! The generating model: every number that shapes the demo history, in one place. The docs
//! (docs/demo-data.md) describe the same model in words.

use rand::Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

/// The three customer segments, each with its own deal size, speed and odds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Smb,
    MidMarket,
    Enterprise,
}

impl Segment {
    pub const ALL: [Segment; 3] = [Segment::Smb, Segment::MidMarket, Segment::Enterprise];

    pub fn label(self) -> &'static str {
        match self {
            Segment::Smb => "SMB",
            Segment::MidMarket => "Mid-Market",
            Segment::Enterprise => "Enterprise",
        }
    }

    /// Share of accounts in the segment.
    pub fn account_share(self) -> f64 {
        match self {
            Segment::Smb => 0.45,
            Segment::MidMarket => 0.35,
            Segment::Enterprise => 0.20,
        }
    }

    /// Share of opportunities in the segment.
    pub fn deal_share(self) -> f64 {
        match self {
            Segment::Smb => 0.50,
            Segment::MidMarket => 0.32,
            Segment::Enterprise => 0.18,
        }
    }

    /// Median deal size in US dollars, the spread of its log-normal distribution, and the step
    /// amounts are rounded to.
    pub fn amount(self) -> (f64, f64, i64) {
        match self {
            Segment::Smb => (12_000.0, 0.5, 500),
            Segment::MidMarket => (48_000.0, 0.5, 1_000),
            Segment::Enterprise => (180_000.0, 0.6, 5_000),
        }
    }

    /// Multiplier on each stage's typical duration: SMB buyers move fastest.
    pub fn pace(self) -> f64 {
        match self {
            Segment::Smb => 0.35,
            Segment::MidMarket => 0.7,
            Segment::Enterprise => 1.3,
        }
    }

    /// Mean number of engaged buyer contacts beyond the first.
    pub fn extra_threads(self) -> f64 {
        match self {
            Segment::Smb => 0.6,
            Segment::MidMarket => 1.2,
            Segment::Enterprise => 2.0,
        }
    }

    /// Mean number of close-date pushes a deal is prone to.
    pub fn push_propensity(self) -> f64 {
        match self {
            Segment::Smb => 0.4,
            Segment::MidMarket => 0.7,
            Segment::Enterprise => 1.1,
        }
    }

    /// Log-odds of winning before the deal's own attributes are counted.
    pub fn base_log_odds(self) -> f64 {
        match self {
            Segment::Smb => -0.1,
            Segment::MidMarket => -0.35,
            Segment::Enterprise => -0.6,
        }
    }

    /// Chance that each of the two middle stages (evaluating, shortlisted) is skipped: SMB
    /// buyers often go straight from a business case to choosing a vendor.
    pub fn skip_chance(self) -> f64 {
        match self {
            Segment::Smb => 0.45,
            Segment::MidMarket => 0.08,
            Segment::Enterprise => 0.02,
        }
    }

    /// Employee bands (as stored words) and their shares within the segment.
    pub fn employee_bands(self) -> &'static [(&'static str, f64)] {
        match self {
            Segment::Smb => &[("1-10", 0.1), ("11-50", 0.45), ("51-200", 0.45)],
            Segment::MidMarket => &[("201-500", 0.6), ("501-1000", 0.4)],
            Segment::Enterprise => &[("1001-5000", 0.5), ("5001-10000", 0.3), ("10001+", 0.2)],
        }
    }
}

/// Where a deal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Inbound,
    Outbound,
    Partner,
    Event,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Inbound => "inbound",
            Source::Outbound => "outbound",
            Source::Partner => "partner",
            Source::Event => "event",
        }
    }

    /// Sources and their shares of a segment's deals.
    pub fn mix(segment: Segment) -> [(Source, f64); 4] {
        match segment {
            Segment::Smb => [
                (Source::Inbound, 0.55),
                (Source::Outbound, 0.25),
                (Source::Partner, 0.10),
                (Source::Event, 0.10),
            ],
            Segment::MidMarket => [
                (Source::Inbound, 0.40),
                (Source::Outbound, 0.35),
                (Source::Partner, 0.15),
                (Source::Event, 0.10),
            ],
            Segment::Enterprise => [
                (Source::Inbound, 0.20),
                (Source::Outbound, 0.50),
                (Source::Partner, 0.20),
                (Source::Event, 0.10),
            ],
        }
    }

    pub fn log_odds(self) -> f64 {
        match self {
            Source::Inbound => 0.3,
            Source::Outbound => -0.3,
            Source::Partner => 0.4,
            Source::Event => 0.0,
        }
    }
}

/// Log-odds per engaged buyer contact beyond two: multi-threaded deals win more.
pub const THREAD_LOG_ODDS: f64 = 0.40;
/// Log-odds per close-date push the deal is prone to: slipping deals win less.
pub const PUSH_LOG_ODDS: f64 = -0.45;
/// Log-odds when a named competitor is in the deal.
pub const COMPETITOR_LOG_ODDS: f64 = -0.35;
/// Most engaged buyer contacts on one deal.
pub const MAX_THREADS: u32 = 6;
/// Share of deals with a named competitor.
pub const COMPETITOR_SHARE: f64 = 0.55;

/// The true chance that a deal with these attributes is won: a logistic model.
pub fn win_probability(
    segment: Segment,
    source: Source,
    threads: u32,
    pushes: u32,
    competitor: bool,
) -> f64 {
    let log_odds = segment.base_log_odds()
        + source.log_odds()
        + THREAD_LOG_ODDS * (f64::from(threads) - 2.0)
        + PUSH_LOG_ODDS * f64::from(pushes)
        + if competitor { COMPETITOR_LOG_ODDS } else { 0.0 };
    1.0 / (1.0 + (-log_odds).exp())
}

/// How lost deals were lost: `(loss type word, share)`.
pub const LOSS_MIX: [(&str, f64); 4] = [
    ("no_decision", 0.45),
    ("competition", 0.40),
    ("disqualified", 0.12),
    ("duplicate", 0.03),
];

/// For deals lost to competition or to no decision: share by the furthest stage reached
/// (index into the process, 0 = qualified). Competition bites mid-funnel; indecision early.
pub fn furthest_stage_weights(loss_type: &str) -> [f64; 6] {
    match loss_type {
        "competition" => [0.08, 0.17, 0.30, 0.27, 0.12, 0.06],
        _ => [0.30, 0.30, 0.20, 0.12, 0.05, 0.03],
    }
}

/// Deals lost to no decision linger: their last stage lasts this many times longer.
pub const STALL_FACTOR: f64 = 2.2;
/// Spread of stage durations around their typical length (log-normal σ).
pub const DURATION_SPREAD: f64 = 0.45;
/// Share of won deals that were first lost to no decision, then reopened and won.
pub const WON_AFTER_REOPEN: f64 = 0.03;
/// Share of deals lost to no decision that were reopened once and lost again.
pub const LOST_AFTER_REOPEN: f64 = 0.03;
/// Share of deals reaching evaluation that step back one stage once.
pub const BACKWARD_MOVE: f64 = 0.06;
/// Share of moves recorded with a reason, and with a next step.
pub const MOVE_WITH_REASON: f64 = 0.8;
pub const MOVE_WITH_NEXT_STEP: f64 = 0.85;
/// Share of deals opened without an amount (set once the business case is built).
pub const NO_AMOUNT_AT_START: f64 = 0.15;
/// Share of deals handed to another rep mid-way.
pub const OWNER_CHANGE: f64 = 0.03;
/// Share of Commit-stage deals a rep overrides down to Best Case.
pub const COMMIT_OVERRIDE: f64 = 0.04;
/// Reps expect a deal to close after this share of the typical full cycle; deals that stall
/// or skip nothing miss that date and get pushed.
pub const EXPECTED_CYCLE: (f64, f64) = (0.9, 1.3);
/// Days a pushed close date moves out, before scaling by the segment's pace.
pub const PUSH_DAYS: (f64, f64) = (21.0, 60.0);
/// Share of missed close dates reps push within a week; the rest stay stale for a while.
pub const PROMPT_PUSH: f64 = 0.75;
/// Leads that did not become opportunities, per inbound opportunity.
pub const EXTRA_LEADS_PER_INBOUND_DEAL: u32 = 3;

pub fn log_normal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    LogNormal::new(median.ln(), sigma).map_or(median, |d| d.sample(rng))
}

pub fn poisson(rng: &mut impl Rng, mean: f64) -> u32 {
    // The cap keeps a rare draw from producing an absurd history.
    Poisson::new(mean).map_or(0, |d| d.sample(rng).min(8.0) as u32)
}

/// Picks an item by weight.
pub fn weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random::<f64>() * total;
    for (item, weight) in items {
        if pick < *weight {
            return *item;
        }
        pick -= weight;
    }
    items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win_probability_is_the_logistic_of_summed_log_odds() {
        // Mid-Market, event-sourced, two threads, no pushes, no competitor: just the base.
        let p = win_probability(Segment::MidMarket, Source::Event, 2, 0, false);
        assert!((p - 1.0 / (1.0 + 0.35_f64.exp())).abs() < 1e-12);
        // Each attribute moves the odds in its documented direction.
        let base = win_probability(Segment::Enterprise, Source::Outbound, 2, 1, true);
        assert!(win_probability(Segment::Enterprise, Source::Outbound, 4, 1, true) > base);
        assert!(win_probability(Segment::Enterprise, Source::Outbound, 2, 3, true) < base);
        assert!(win_probability(Segment::Enterprise, Source::Outbound, 2, 1, false) > base);
    }

    #[test]
    fn shares_sum_to_one() {
        let sum = |values: &mut dyn Iterator<Item = f64>| values.sum::<f64>();
        assert!((sum(&mut Segment::ALL.iter().map(|s| s.account_share())) - 1.0).abs() < 1e-9);
        assert!((sum(&mut Segment::ALL.iter().map(|s| s.deal_share())) - 1.0).abs() < 1e-9);
        assert!((sum(&mut LOSS_MIX.iter().map(|(_, w)| *w)) - 1.0).abs() < 1e-9);
        for segment in Segment::ALL {
            assert!((sum(&mut Source::mix(segment).iter().map(|(_, w)| *w)) - 1.0).abs() < 1e-9);
            assert!(
                (sum(&mut segment.employee_bands().iter().map(|(_, w)| *w)) - 1.0).abs() < 1e-9
            );
        }
        for loss in ["competition", "no_decision"] {
            assert!((sum(&mut furthest_stage_weights(loss).into_iter()) - 1.0).abs() < 1e-9);
        }
    }
}
