//! The lead funnel (DESIGN §4): Lead → MQL → SQL → SAL conversion of the leads created in a
//! period, speed-to-lead and its breaches, and conversion by source, by fit × intent band,
//! by origin and by influence.
//!
//! Leads are counted as a cohort: those created in the period, each at the furthest step it
//! ever reached, so a lead that was SQL and was later disqualified still counts as having
//! reached SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pipewise_core::calendar::{DateRange, FiscalCalendar, Period};
use pipewise_core::crm::{Lead, LeadStatus};
use pipewise_core::leads::attribution;
use pipewise_core::leads::scoring::Band;
use pipewise_core::leads::settings::LeadSettings;
use pipewise_core::leads::speed::{Attempt, DeadlineState, Response};
use pipewise_core::stats::nearest_rank;
use serde::Serialize;

/// What the funnel reads of one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadFacts {
    pub created_at: DateTime<Utc>,
    pub source: Option<String>,
    /// The furthest funnel step reached: Lead 0, MQL 1, SQL 2, SAL 3.
    pub reached: u8,
    /// None until someone assesses the lead's fit.
    pub fit: Option<Band>,
    pub intent: Band,
    /// How the sales response went, for a lead that entered the sales queue.
    pub response: Option<Response>,
    /// The channel that booked its first meeting.
    pub origin: Option<String>,
    /// The other channels that engaged it.
    pub influence: Vec<String>,
}

impl LeadFacts {
    /// The facts of `lead`, given every status its history records, the calls, e-mails and
    /// meetings logged on it, and the settings. Its intent band is the one it had when it
    /// entered the sales queue (or, never queued, now).
    pub fn of(
        lead: &Lead,
        statuses: &[LeadStatus],
        attempts: &[Attempt],
        settings: &LeadSettings,
        now: DateTime<Utc>,
    ) -> Self {
        let reached = statuses
            .iter()
            .chain(std::iter::once(&lead.status))
            .filter_map(|s| s.funnel_step())
            .max()
            .unwrap_or(0);
        let rubric = &settings.rubric;
        let fit = (!lead.evidence.fit.is_empty()).then(|| rubric.fit(&lead.evidence.fit).band);
        let scored_at = lead.queued_at.unwrap_or(now).min(now);
        let intent = rubric.intent(&lead.evidence.signals, scored_at).score.band;
        let response = lead
            .queued_at
            .map(|queued| settings.response(queued, attempts, now));
        let credit = attribution::of_lead(lead, rubric, now);
        Self {
            origin: credit.origin.map(|c| c.as_str().to_owned()),
            influence: credit
                .influence
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            created_at: lead.created_at,
            source: lead.source.as_ref().map(|s| s.as_str().to_owned()),
            reached,
            fit,
            intent,
            response,
        }
    }
}

/// A rate of counts with what it is made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CountRate {
    pub numerator: u64,
    pub denominator: u64,
    /// None when the denominator is zero.
    pub rate: Option<f64>,
}

impl CountRate {
    pub fn of(numerator: u64, denominator: u64) -> Self {
        let rate = (denominator > 0).then(|| numerator as f64 / denominator as f64);
        Self {
            numerator,
            denominator,
            rate,
        }
    }
}

/// How many of a group of leads reached each step, and the step-to-step rates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FunnelCounts {
    pub leads: u64,
    pub mql: u64,
    pub sql: u64,
    pub sal: u64,
    pub lead_to_mql: CountRate,
    pub mql_to_sql: CountRate,
    pub sql_to_sal: CountRate,
    pub lead_to_sal: CountRate,
}

impl FunnelCounts {
    fn of<'a>(leads: impl Iterator<Item = &'a LeadFacts>) -> Self {
        let mut reached = [0u64; 4];
        for lead in leads {
            for step in reached
                .iter_mut()
                .take(usize::from(lead.reached.min(3)) + 1)
            {
                *step += 1;
            }
        }
        let [leads, mql, sql, sal] = reached;
        Self {
            leads,
            mql,
            sql,
            sal,
            lead_to_mql: CountRate::of(mql, leads),
            mql_to_sql: CountRate::of(sql, mql),
            sql_to_sal: CountRate::of(sal, sql),
            lead_to_sal: CountRate::of(sal, leads),
        }
    }
}

/// How fast sales responded to the leads that entered the queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SpeedToLead {
    /// Leads that entered the sales queue.
    pub queued: u64,
    /// First attempts made in time, of the queued leads whose first deadline is decided
    /// (made, or passed).
    pub first_in_time: CountRate,
    /// Leads with a deadline missed or met late, of those with a deadline decided.
    pub breach_rate: CountRate,
    /// Median (nearest rank) business hours from queueing to the first attempt.
    pub median_first_response_hours: Option<f64>,
}

/// A group of leads sharing a value: a source, or a fit and intent band.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FunnelGroup {
    /// The source, or `fit high × intent medium` (`unassessed` when fit is not assessed).
    pub group: String,
    #[serde(flatten)]
    pub counts: FunnelCounts,
}

/// The lead funnel of a fiscal period.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LeadFunnelReport {
    #[schemars(with = "String")]
    pub period: Period,
    /// The period's days: from `start` to the day before `end`.
    pub dates: DateRange,
    #[serde(flatten)]
    pub funnel: LeadFunnel,
}

impl LeadFunnelReport {
    /// The funnel of the leads created in `period` of `calendar`.
    pub fn of(leads: &[LeadFacts], calendar: FiscalCalendar, period: Period) -> Self {
        let dates = calendar.range(period);
        Self {
            period,
            dates,
            funnel: funnel(leads, dates),
        }
    }
}

/// The lead funnel of a range of days.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LeadFunnel {
    pub whole: FunnelCounts,
    pub speed_to_lead: SpeedToLead,
    pub by_source: Vec<FunnelGroup>,
    pub by_band: Vec<FunnelGroup>,
    /// By the channel that booked the first meeting (`(none)`: no meeting booked yet).
    pub by_origin: Vec<FunnelGroup>,
    /// Per channel, the leads it influenced without being their origin; a lead counts once
    /// under each channel that influenced it, so these groups overlap.
    pub by_influence: Vec<FunnelGroup>,
}

/// The funnel of the leads created in `range`.
pub fn funnel(leads: &[LeadFacts], range: DateRange) -> LeadFunnel {
    let in_period: Vec<&LeadFacts> = leads
        .iter()
        .filter(|l| range.contains(l.created_at.date_naive()))
        .collect();
    let grouped = |keys: &dyn Fn(&LeadFacts) -> Vec<String>| {
        let mut groups: BTreeMap<String, Vec<&LeadFacts>> = BTreeMap::new();
        for lead in &in_period {
            for key in keys(lead) {
                groups.entry(key).or_default().push(lead);
            }
        }
        groups
            .into_iter()
            .map(|(group, members)| FunnelGroup {
                group,
                counts: FunnelCounts::of(members.into_iter()),
            })
            .collect()
    };
    let or_none = |v: &Option<String>| vec![v.clone().unwrap_or_else(|| "(none)".to_owned())];
    let by_source = grouped(&|l| or_none(&l.source));
    let by_band = grouped(&|l| {
        let fit = l.fit.map_or("unassessed", |b| b.as_str());
        vec![format!("fit {fit} × intent {}", l.intent)]
    });
    let by_origin = grouped(&|l| or_none(&l.origin));
    let by_influence = grouped(&|l| l.influence.clone());
    LeadFunnel {
        whole: FunnelCounts::of(in_period.iter().copied()),
        speed_to_lead: speed(&in_period),
        by_source,
        by_band,
        by_origin,
        by_influence,
    }
}

fn speed(leads: &[&LeadFacts]) -> SpeedToLead {
    let responses: Vec<&Response> = leads.iter().filter_map(|l| l.response.as_ref()).collect();
    let decided = |state: DeadlineState| state != DeadlineState::Pending;
    let first_decided: Vec<&&Response> = responses
        .iter()
        .filter(|r| decided(r.first.state))
        .collect();
    let in_time = first_decided
        .iter()
        .filter(|r| r.first.state == DeadlineState::Met)
        .count();
    let any_decided: Vec<&&Response> = responses
        .iter()
        .filter(|r| decided(r.first.state) || decided(r.second.state))
        .collect();
    let breached = any_decided.iter().filter(|r| r.breached).count();
    let mut hours: Vec<f64> = responses
        .iter()
        .filter_map(|r| r.first_response)
        .map(|d| d.num_seconds() as f64 / 3600.0)
        .collect();
    hours.sort_by(f64::total_cmp);
    SpeedToLead {
        queued: responses.len() as u64,
        first_in_time: CountRate::of(in_time as u64, first_decided.len() as u64),
        breach_rate: CountRate::of(breached as u64, any_decided.len() as u64),
        median_first_response_hours: nearest_rank(&hours, 50),
    }
}
