//! One deal's life, from creation to close (or to the end of the history), produced as
//! commands run through the domain's `open`/`execute`: generated histories obey exactly the
//! rules that user input does.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipewise_core::crm::{Account, Activity, ActivityKind, Contact, Lead, LeadStatus};
use pipewise_core::evidence::Evidence;
use pipewise_core::ids::{ActivityId, LeadId, OpportunityId, UserId};
use pipewise_core::keys::SignalKey;
use pipewise_core::leads::lifecycle::{Disposition, Nurture};
use pipewise_core::leads::scoring::{IntentSignal, LeadEvidence};
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{
    self, Command, Created, FieldChange, LossType, NextStep, Opportunity, Recorded, Stamp,
};
use pipewise_core::process::{DealContext, ForecastCategory, Process};
use pipewise_core::text::{Email, Note, WebDomain};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::evidence::{self, Action};
use crate::model::{self, Segment, Source, log_normal, poisson, weighted};
use crate::names;
use crate::world::{World, label, millis, name};
use crate::{DemoError, Truth};

/// What the generator knows about one deal, and the records it produced.
pub struct DealOutput {
    pub recorded: Recorded,
    pub truth: Truth,
    pub activities: Vec<Activity>,
    pub leads: Vec<Lead>,
}

const PRODUCTS: &[&str] = &[
    "Analytics platform",
    "Reporting suite",
    "Forecasting add-on",
    "Data connectors",
];
/// Indices of the process stages SMB deals may skip (evaluating, shortlisted).
const SKIPPABLE: [usize; 2] = [2, 3];
/// Index of the first Commit stage (negotiating).
const FIRST_COMMIT_STAGE: usize = 4;

/// How the deal ends, decided when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Won,
    Lost(LossType),
}

/// Something planned to happen at a moment in the deal's life.
#[derive(Debug, Clone)]
enum Planned {
    /// To the stage at this index of the process.
    Move {
        to: usize,
        backward: bool,
    },
    SetAmount,
    ReviseAmount(f64),
    UpdateNextStep {
        stage: usize,
    },
    Push,
    ChangeOwner,
    CompetitorAppears,
    OverrideToBestCase,
    Close(Ending),
    Reopen {
        stage: usize,
    },
}

pub fn simulate(
    world: &World,
    process: &Process,
    rng: &mut ChaCha8Rng,
    created_at: DateTime<Utc>,
) -> Result<DealOutput, DemoError> {
    let segment = weighted(rng, &Segment::ALL.map(|s| (s, s.deal_share())));
    let pool = &world.accounts_by_segment[segment as usize];
    let account = pool
        .choose(rng)
        .and_then(|i| world.accounts.get(*i))
        .or_else(|| world.accounts.first())
        .ok_or_else(|| DemoError::Model("the demo world has no accounts".into()))?;
    let segment = account.segment;
    let owner = match account.account.owner_id {
        Some(owner) if rng.random_bool(0.9) => owner,
        _ => world.reps_by_segment[segment as usize]
            .choose(rng)
            .copied()
            .unwrap_or(world.vp),
    };
    let source = weighted(rng, &Source::mix(segment));
    let max_threads = (account.contacts.len() as u32).clamp(1, model::MAX_THREADS);
    let threads = (1 + poisson(rng, segment.extra_threads())).min(max_threads);
    let engaged: Vec<&Contact> = account
        .contacts
        .choose_multiple(rng, threads as usize)
        .filter_map(|i| world.contacts.get(*i))
        .collect();
    let competitor = rng.random_bool(model::COMPETITOR_SHARE).then(|| {
        names::COMPETITORS
            .choose(rng)
            .copied()
            .unwrap_or("Initrode")
    });
    let pushes = poisson(rng, segment.push_propensity());
    let win_probability =
        model::win_probability(segment, source, threads, pushes, competitor.is_some());
    let won = rng.random_bool(win_probability);
    let last = process.stages().len() - 1;

    let (ending, furthest) = if won {
        (Ending::Won, last)
    } else {
        let loss = weighted(rng, &model::LOSS_MIX);
        let loss_type: LossType = loss.parse().map_err(DemoError::model)?;
        let furthest = match loss_type {
            LossType::Disqualified | LossType::Duplicate => 0,
            _ => {
                let weights: Vec<(usize, f64)> = model::furthest_stage_weights(loss)
                    .into_iter()
                    .enumerate()
                    .collect();
                weighted(rng, &weights)
            }
        };
        (Ending::Lost(loss_type), furthest)
    };
    let path: Vec<usize> = (0..=furthest)
        .filter(|i| {
            i == &furthest || !SKIPPABLE.contains(i) || !rng.random_bool(segment.skip_chance())
        })
        .collect();
    // A small share of deals are lost to indecision, then reopened when the buyer returns.
    let detour = match ending {
        Ending::Won if rng.random_bool(model::WON_AFTER_REOPEN) => {
            Some(rng.random_range(0..path.len() - 1))
        }
        Ending::Lost(LossType::NoDecision) if rng.random_bool(model::LOST_AFTER_REOPEN) => {
            Some(path.len() - 1)
        }
        _ => None,
    };

    let durations: Vec<Duration> = path
        .iter()
        .enumerate()
        .map(|(position, &stage)| {
            let days = match ending {
                Ending::Lost(LossType::Disqualified) => rng.random_range(1.0..10.0),
                Ending::Lost(LossType::Duplicate) => rng.random_range(0.1..3.0),
                _ => {
                    let typical = f64::from(process.stages()[stage].typical_days) * segment.pace();
                    let stalls =
                        ending == Ending::Lost(LossType::NoDecision) && position == path.len() - 1;
                    let factor = if stalls { model::STALL_FACTOR } else { 1.0 };
                    log_normal(rng, typical, model::DURATION_SPREAD) * factor
                }
            };
            days_to_duration(days.max(0.5))
        })
        .collect();

    let mut plan: Vec<(DateTime<Utc>, Planned)> = Vec::new();
    let mut entered = created_at;
    let mut entries = Vec::with_capacity(path.len());
    for (position, (&stage, &duration)) in path.iter().zip(&durations).enumerate() {
        if position > 0 {
            plan.push((
                entered,
                Planned::Move {
                    to: stage,
                    backward: false,
                },
            ));
        }
        entries.push(entered);
        if stage == 2 && rng.random_bool(0.35) {
            plan.push((
                entered + Duration::hours(1),
                Planned::ReviseAmount(rng.random_range(0.8..1.3)),
            ));
        }
        if stage == FIRST_COMMIT_STAGE && rng.random_bool(0.5) {
            plan.push((
                entered + Duration::hours(1),
                Planned::ReviseAmount(rng.random_range(0.85..0.98)),
            ));
        }
        if stage >= FIRST_COMMIT_STAGE && rng.random_bool(model::COMMIT_OVERRIDE) {
            plan.push((entered + Duration::days(2), Planned::OverrideToBestCase));
        }
        let refreshes = duration.num_days() / 21;
        for k in 1..=refreshes {
            plan.push((
                entered + duration * (k as i32) / (refreshes as i32 + 1),
                Planned::UpdateNextStep { stage },
            ));
        }
        entered += duration;
        if detour == Some(position) {
            plan.push((entered, Planned::Close(Ending::Lost(LossType::NoDecision))));
            entered += Duration::days(rng.random_range(30..120));
            plan.push((entered, Planned::Reopen { stage }));
            if position == path.len() - 1 {
                // Reopened, then stalled again before the final loss.
                entered += durations[position];
            }
        }
    }
    let closed_at = entered;
    plan.push((closed_at, Planned::Close(ending)));
    let life = closed_at - created_at;

    let amount_known = !rng.random_bool(model::NO_AMOUNT_AT_START);
    if !amount_known {
        if let Some(&second) = entries.get(1) {
            plan.push((second + Duration::hours(2), Planned::SetAmount));
        }
    }
    if path.len() > 2 && path[1..].iter().any(|&s| s >= 2) && rng.random_bool(model::BACKWARD_MOVE)
    {
        let position = path.iter().position(|&s| s >= 2).unwrap_or(1).max(1);
        let (entry, duration) = (entries[position], durations[position]);
        plan.push((
            entry + duration * 3 / 10,
            Planned::Move {
                to: path[position - 1],
                backward: true,
            },
        ));
        plan.push((
            entry + duration * 6 / 10,
            Planned::Move {
                to: path[position],
                backward: false,
            },
        ));
    }
    for _ in 0..pushes {
        plan.push((created_at + random_within(rng, life), Planned::Push));
    }
    if rng.random_bool(model::OWNER_CHANGE) {
        plan.push((created_at + random_within(rng, life), Planned::ChangeOwner));
    }
    let competitor_at_start = competitor.is_some() && rng.random_bool(0.7);
    if competitor.is_some() && !competitor_at_start {
        let when = entries.get(1).copied().unwrap_or(created_at + life / 2);
        plan.push((when + Duration::hours(3), Planned::CompetitorAppears));
    }
    plan.sort_by_key(|(at, _)| *at);

    let (median, spread, step) = segment.amount();
    let dollars = (log_normal(rng, median, spread) / step as f64)
        .round()
        .max(1.0) as i64
        * step;
    let amount = Money::new(dollars * 100, Currency::USD);
    let product = PRODUCTS
        .choose(rng)
        .copied()
        .unwrap_or("Analytics platform");
    let full_cycle: f64 = process
        .stages()
        .iter()
        .map(|s| f64::from(s.typical_days))
        .sum::<f64>()
        * segment.pace();
    let expected_close = (created_at
        + days_to_duration(
            full_cycle * rng.random_range(model::EXPECTED_CYCLE.0..model::EXPECTED_CYCLE.1),
        ))
    .date_naive();
    let id = OpportunityId::from_parts(millis(created_at), rng.random());
    let created = Created {
        name: name(&format!("{}: {product}", account.account.name))?,
        account_id: account.account.id,
        owner_id: owner,
        process: process.key.clone(),
        stage: process.stages()[0].key.clone(),
        amount: amount_known.then_some(amount),
        close_date: expected_close,
        source: Some(label(source.label())?),
        segment: Some(label(segment.label())?),
        competitor: match competitor {
            Some(c) if competitor_at_start => Some(label(c)?),
            _ => None,
        },
        // Qualification needs a dated next step and the buyer's evidence.
        next_step: Some(next_step(rng, 0, owner, created_at)?),
        evidence: opening_evidence(process, &engaged, rng, created_at)?,
    };
    let opened = opportunity::open(id, created, process, Stamp::now(owner, created_at))
        .map_err(|e| DemoError::rejected(id, e))?;

    let mut life = Life {
        world,
        process,
        engaged: &engaged,
        segment,
        state: opened.state,
        events: opened.events,
        amount,
        competitor,
    };
    for (at, step) in plan {
        if at > world.history_end {
            break;
        }
        life.catch_up_on_missed_close_dates(rng, at)?;
        life.run(rng, at, step)?;
    }
    if life.state.status == opportunity::Status::Open {
        life.catch_up_on_missed_close_dates(rng, world.history_end)?;
    }
    let end = closed_at.min(world.history_end);
    let mut activities = activities(rng, &life.state, &engaged, created_at, end)?;
    let leads = if source == Source::Inbound {
        inbound_leads(
            rng,
            world,
            &account.account,
            &life.state,
            engaged.first().copied(),
            created_at,
        )?
    } else {
        Vec::new()
    };
    activities.extend(lead_calls(&leads, world.history_end)?);
    Ok(DealOutput {
        recorded: Recorded {
            state: life.state,
            events: life.events,
        },
        truth: Truth {
            win_probability,
            won,
        },
        activities,
        leads,
    })
}

/// The deal as it unfolds: runs planned steps as commands through the domain.
struct Life<'a> {
    world: &'a World,
    process: &'a Process,
    /// The buyer's people working on the deal.
    engaged: &'a [&'a Contact],
    segment: Segment,
    state: Opportunity,
    events: Vec<opportunity::OpportunityEvent>,
    /// The amount the deal would have if known.
    amount: Money,
    competitor: Option<&'static str>,
}

impl Life<'_> {
    /// Records what the buyer has shown so that a forward move to `to` (or, with `None`,
    /// closing won) meets its criteria, as a rep does before moving the deal.
    fn prepare_forward(
        &mut self,
        rng: &mut ChaCha8Rng,
        at: DateTime<Utc>,
        to: Option<usize>,
    ) -> Result<(), DemoError> {
        let to = to.map(|i| self.process.stages()[i].key.clone());
        let required = self
            .process
            .forward_requirements(Some(&self.state.stage), to.as_ref());
        let ctx = DealContext {
            deal: &self.state,
            today: at.date_naive(),
        };
        let unmet = self.process.unmet(&required, ctx);
        let owner = self.state.owner_id;
        for criterion in unmet.iter().filter_map(|u| self.process.criterion(&u.key)) {
            for step in evidence::meet(self.process, criterion, self.engaged, rng, at)? {
                let command = match step {
                    Action::Record(change) => Command::RecordEvidence(change),
                    Action::SetAmount => Command::ChangeAmount(Some(self.amount)),
                    Action::SetNextStep => Command::ChangeField(FieldChange::NextStep(Some(
                        next_step(rng, 0, owner, at)?,
                    ))),
                    Action::SetCompetitor => Command::ChangeField(FieldChange::Competitor(Some(
                        label(self.competitor.unwrap_or("Initrode"))?,
                    ))),
                };
                self.execute(at, owner, command)?;
            }
        }
        Ok(())
    }

    fn execute(
        &mut self,
        at: DateTime<Utc>,
        actor: UserId,
        command: Command,
    ) -> Result<(), DemoError> {
        let at = at.max(self.state.updated_at);
        let recorded =
            opportunity::execute(&self.state, command, self.process, Stamp::now(actor, at))
                .map_err(|e| DemoError::rejected(self.state.id, e))?;
        self.state = recorded.state;
        self.events.extend(recorded.events);
        Ok(())
    }

    /// Reps push a close date once it has passed with the deal still open: most within a
    /// week, some only weeks later.
    fn catch_up_on_missed_close_dates(
        &mut self,
        rng: &mut ChaCha8Rng,
        until: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        while self.state.status == opportunity::Status::Open {
            let missed = self.state.close_date;
            let delay = if rng.random_bool(model::PROMPT_PUSH) {
                rng.random_range(0..7)
            } else {
                rng.random_range(7..45)
            };
            let Some(when) = missed
                .and_hms_opt(10, 0, 0)
                .map(|t| t.and_utc() + Duration::days(delay + 1))
            else {
                return Ok(());
            };
            if when >= until {
                return Ok(());
            }
            let new_date = self.pushed_date(rng, when.date_naive());
            self.execute(
                when,
                self.state.owner_id,
                Command::ChangeCloseDate(new_date),
            )?;
        }
        Ok(())
    }

    fn pushed_date(&self, rng: &mut ChaCha8Rng, from: NaiveDate) -> NaiveDate {
        let days =
            rng.random_range(model::PUSH_DAYS.0..model::PUSH_DAYS.1) * self.segment.pace().max(0.5);
        from.max(self.state.close_date) + Duration::days(days.round() as i64)
    }

    fn run(
        &mut self,
        rng: &mut ChaCha8Rng,
        at: DateTime<Utc>,
        step: Planned,
    ) -> Result<(), DemoError> {
        let owner = self.state.owner_id;
        let open = self.state.status == opportunity::Status::Open;
        match step {
            Planned::Move { to, backward }
                if open && self.state.stage != self.process.stages()[to].key =>
            {
                let reason = if backward {
                    Some(names::backward_reason(rng))
                } else {
                    rng.random_bool(model::MOVE_WITH_REASON)
                        .then(|| names::advance_reason(to, rng))
                };
                let next = rng
                    .random_bool(model::MOVE_WITH_NEXT_STEP)
                    .then(|| next_step(rng, to, owner, at))
                    .transpose()?;
                let forward = self.process.position(&self.state.stage) < Some(to);
                if forward {
                    self.prepare_forward(rng, at, Some(to))?;
                }
                let command = Command::MoveStage {
                    to: self.process.stages()[to].key.clone(),
                    reason: reason.map(note).transpose()?,
                    next_step: next,
                };
                self.execute(at, owner, command)
            }
            Planned::SetAmount if open => {
                self.execute(at, owner, Command::ChangeAmount(Some(self.amount)))
            }
            Planned::ReviseAmount(factor) if open => {
                let Some(current) = self.state.amount else {
                    return Ok(());
                };
                let step = self.segment.amount().2 * 100;
                let revised = ((current.minor as f64 * factor) / step as f64)
                    .round()
                    .max(1.0) as i64
                    * step;
                self.amount = Money::new(revised, current.currency);
                self.execute(at, owner, Command::ChangeAmount(Some(self.amount)))
            }
            Planned::UpdateNextStep { stage } if open => {
                let next = next_step(rng, stage, owner, at)?;
                self.execute(
                    at,
                    owner,
                    Command::ChangeField(FieldChange::NextStep(Some(next))),
                )
            }
            Planned::Push if open => {
                let new_date = self.pushed_date(rng, at.date_naive());
                self.execute(at, owner, Command::ChangeCloseDate(new_date))
            }
            Planned::ChangeOwner => {
                let colleagues: Vec<UserId> = self
                    .world
                    .team_of(owner)
                    .map(|t| t.reps.iter().copied().filter(|r| *r != owner).collect())
                    .unwrap_or_default();
                match colleagues.choose(rng) {
                    Some(&next) => self.execute(at, self.world.vp, Command::ChangeOwner(next)),
                    None => Ok(()),
                }
            }
            Planned::CompetitorAppears => match self.competitor {
                Some(c) => self.execute(
                    at,
                    owner,
                    Command::ChangeField(FieldChange::Competitor(Some(label(c)?))),
                ),
                None => Ok(()),
            },
            Planned::OverrideToBestCase if open => {
                let command = Command::OverrideCategory {
                    to: Some(ForecastCategory::BestCase),
                    reason: Some(note(
                        "Procurement timeline unclear; keeping it out of Commit",
                    )?),
                };
                self.execute(at, owner, command)
            }
            Planned::Close(Ending::Won) if open => {
                if self.state.amount.is_none() {
                    self.execute(at, owner, Command::ChangeAmount(Some(self.amount)))?;
                }
                self.prepare_forward(rng, at, None)?;
                self.execute(
                    at,
                    owner,
                    Command::CloseWon {
                        on: at.date_naive(),
                    },
                )
            }
            Planned::Close(Ending::Lost(loss_type)) if open => {
                let competitor = match loss_type {
                    LossType::Competition => Some(self.competitor.unwrap_or("Initrode")),
                    _ => None,
                };
                let reason = names::loss_reason(loss_type.as_str(), competitor.unwrap_or(""), rng);
                let command = Command::CloseLost {
                    on: at.date_naive(),
                    loss_type,
                    reason: Some(note(&reason)?),
                    competitor: competitor.map(label).transpose()?,
                };
                self.execute(at, owner, command)
            }
            Planned::Reopen { stage } if !open => {
                let command = Command::Reopen {
                    stage: Some(self.process.stages()[stage].key.clone()),
                    close_date: (at + Duration::days(rng.random_range(30..75))).date_naive(),
                    reason: note("Buyer came back with a new budget")?,
                };
                self.execute(at, owner, command)
            }
            _ => Ok(()),
        }
    }
}

/// The evidence a deal is opened with: what met the SAL stage's entry criteria.
fn opening_evidence(
    process: &Process,
    engaged: &[&Contact],
    rng: &mut ChaCha8Rng,
    at: DateTime<Utc>,
) -> Result<Evidence, DemoError> {
    let first = &process.stages()[0].key;
    let mut evidence = Evidence::default();
    for key in process.forward_requirements(None, Some(first)) {
        let Some(criterion) = process.criterion(&key) else {
            continue;
        };
        for step in evidence::meet(process, criterion, engaged, rng, at)? {
            if let Action::Record(change) = step {
                evidence = evidence.with(&change).map_err(DemoError::Model)?;
            }
        }
    }
    Ok(evidence)
}

fn next_step(
    rng: &mut ChaCha8Rng,
    stage: usize,
    owner: UserId,
    at: DateTime<Utc>,
) -> Result<NextStep, DemoError> {
    Ok(NextStep {
        text: note(names::next_step(stage, rng))?,
        owner_id: owner,
        due: (at + Duration::days(rng.random_range(3..15))).date_naive(),
    })
}

/// Calls, e-mails and meetings over the deal's open life, touching every engaged contact.
fn activities(
    rng: &mut ChaCha8Rng,
    deal: &Opportunity,
    engaged: &[&Contact],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Activity>, DemoError> {
    let span = (until - from).max(Duration::hours(1));
    let count = (1 + span.num_days() / 9).clamp(engaged.len() as i64, 14) as usize;
    let mut activities = Vec::with_capacity(count);
    for i in 0..count {
        let occurred_at = from + random_within(rng, span);
        let kind = weighted(
            rng,
            &[
                (ActivityKind::Email, 0.45),
                (ActivityKind::Call, 0.30),
                (ActivityKind::Meeting, 0.20),
                (ActivityKind::Note, 0.05),
            ],
        );
        let (subjects, outcomes): (&[&str], &[&str]) = match kind {
            ActivityKind::Email => (
                &["Follow-up", "Proposal sent", "Recap and next steps"],
                &["sent", "replied"],
            ),
            ActivityKind::Call => (
                &["Discovery call", "Check-in call", "Pricing call"],
                &["connected", "no answer", "left voicemail"],
            ),
            ActivityKind::Meeting => (
                &["Demo", "Workshop", "Executive briefing"],
                &["held", "no-show"],
            ),
            ActivityKind::Note => (&["Deal review notes"], &["logged"]),
        };
        let subject = subjects.choose(rng).copied().unwrap_or("Follow-up");
        let contact = engaged.get(i).or_else(|| engaged.choose(rng)).map(|c| c.id);
        activities.push(Activity {
            version: 1,
            id: ActivityId::from_parts(millis(occurred_at), rng.random()),
            kind,
            occurred_at,
            user_id: deal.owner_id,
            account_id: Some(deal.account_id),
            contact_id: contact,
            lead_id: None,
            opportunity_id: Some(deal.id),
            subject: name(subject)?,
            outcome: outcomes.choose(rng).map(|o| label(o)).transpose()?,
        });
    }
    activities.sort_by_key(|a| a.id);
    Ok(activities)
}

/// The lead an inbound deal came from, and leads from the same campaigns that did not convert.
fn inbound_leads(
    rng: &mut ChaCha8Rng,
    world: &World,
    account: &Account,
    deal: &Opportunity,
    contact: Option<&Contact>,
    created_at: DateTime<Utc>,
) -> Result<Vec<Lead>, DemoError> {
    let lead_at = created_at - Duration::days(rng.random_range(3..21));
    let mut leads = vec![Lead {
        version: 1,
        id: LeadId::from_parts(millis(lead_at), rng.random()),
        name: contact.map_or_else(|| name("Unknown buyer"), |c| Ok(c.name.clone()))?,
        email: contact.and_then(|c| c.email.clone()),
        company: Some(account.name.clone()),
        source: Some(label("inbound")?),
        status: LeadStatus::Sal,
        owner_id: Some(deal.owner_id),
        account_id: Some(deal.account_id),
        opportunity_id: Some(deal.id),
        created_at: lead_at,
        title: contact.and_then(|c| c.title.clone()),
        phone: None,
        website: account.domain.clone(),
        region: account.region.clone(),
        segment: account.segment.clone(),
        product_line: None,
        nurture: None,
        disposition: Some(Disposition::QualifiedNeedsConfirmed),
        queued_at: Some(lead_at + Duration::hours(2)),
        evidence: inbound_evidence(LeadStatus::Sal, lead_at)?,
        routing_issue: None,
    }];
    for _ in 0..model::EXTRA_LEADS_PER_INBOUND_DEAL {
        // From the same campaigns: within a month either side of the converted lead.
        let at = (lead_at - Duration::days(30) + random_within(rng, Duration::days(60)))
            .min(world.history_end);
        let (first, last) = names::person(rng);
        let (company, domain) = names::company(rng);
        let status = weighted(
            rng,
            &[
                (LeadStatus::New, 0.15),
                (LeadStatus::Working, 0.20),
                (LeadStatus::Mql, 0.20),
                (LeadStatus::Sql, 0.10),
                (LeadStatus::Disqualified, 0.35),
            ],
        );
        let email = format!("{}.{}@{domain}", names::slug(&first), names::slug(&last));
        leads.push(Lead {
            version: 1,
            id: LeadId::from_parts(millis(at), rng.random()),
            name: name(&format!("{first} {last}"))?,
            email: Some(Email::parse(&email).map_err(DemoError::model)?),
            company: Some(name(&company)?),
            source: Some(label(
                ["inbound", "event", "webinar"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("inbound"),
            )?),
            status,
            owner_id: Some(deal.owner_id),
            account_id: None,
            opportunity_id: None,
            created_at: at,
            // Picked without drawing, so the rest of the history stays as it was generated.
            title: Some(label(
                names::CONTACT_TITLES[first.len() % names::CONTACT_TITLES.len()].0,
            )?),
            phone: None,
            website: WebDomain::parse(&domain).ok(),
            region: account.region.clone(),
            segment: account.segment.clone(),
            product_line: None,
            // Half the leads not worked to a decision wait in nurture.
            nurture: (status == LeadStatus::Mql && last.len() % 2 == 0).then_some(Nurture::Paused),
            disposition: match status {
                LeadStatus::New => None,
                LeadStatus::Working => Some(Disposition::Attempting),
                LeadStatus::Mql if last.len() % 2 == 0 => Some(Disposition::NoTimeline),
                LeadStatus::Mql => Some(Disposition::MarketingQualified),
                LeadStatus::Disqualified if first.len() % 3 == 0 => {
                    Some(Disposition::NotAFitWrongRole)
                }
                LeadStatus::Disqualified => Some(Disposition::NotAFitProfile),
                LeadStatus::Sql | LeadStatus::Sal => Some(Disposition::QualifiedNeedsConfirmed),
            },
            queued_at: matches!(status, LeadStatus::Mql | LeadStatus::Sql)
                .then(|| at + Duration::hours(3)),
            evidence: inbound_evidence(status, at)?,
            routing_issue: None,
        });
    }
    Ok(leads)
}

/// Hours from queueing to the first call, picked by a lead's id without drawing: most
/// within a business day, some late.
const FIRST_CALL_HOURS: [i64; 8] = [1, 2, 3, 5, 8, 20, 30, 52];

/// Hours from queueing to the second call on a lead the first did not reach: mostly within
/// three business days, some never made (none).
const SECOND_CALL_HOURS: [Option<i64>; 4] = [Some(26), Some(48), Some(70), None];

/// The calls on each queued lead: a first one, which reached leads that went on to SQL or
/// SAL, and for the others usually a second one, unanswered too.
fn lead_calls(leads: &[Lead], history_end: DateTime<Utc>) -> Result<Vec<Activity>, DemoError> {
    let mut calls = Vec::new();
    for lead in leads {
        let (Some(queued), Some(owner)) = (lead.queued_at, lead.owner_id) else {
            continue;
        };
        let bytes = lead.id.as_uuid().into_bytes();
        let pick = usize::from(bytes[15]);
        let reached = matches!(lead.status, LeadStatus::Sql | LeadStatus::Sal);
        let first = queued + Duration::hours(FIRST_CALL_HOURS[pick % FIRST_CALL_HOURS.len()]);
        let second = SECOND_CALL_HOURS[(pick / 8) % SECOND_CALL_HOURS.len()]
            .map(|hours| (queued + Duration::hours(hours)).max(first + Duration::hours(1)))
            .filter(|_| !reached);
        for (n, at) in [Some(first), second].into_iter().flatten().enumerate() {
            if at > history_end {
                continue;
            }
            let mut random = [0u8; 10];
            random.copy_from_slice(&bytes[6..16]);
            random[9] ^= n as u8;
            calls.push(Activity {
                id: ActivityId::from_parts(millis(at), random),
                version: 1,
                kind: ActivityKind::Call,
                occurred_at: at,
                user_id: owner,
                account_id: lead.account_id,
                contact_id: None,
                lead_id: Some(lead.id),
                opportunity_id: None,
                subject: name(if n == 0 { "First call" } else { "Second call" })?,
                outcome: Some(label(if reached { "connected" } else { "no answer" })?),
            });
        }
    }
    Ok(calls)
}

/// The intent signals behind a demo lead's status, in the shipped rubric's terms.
fn inbound_evidence(
    status: LeadStatus,
    created_at: DateTime<Utc>,
) -> Result<LeadEvidence, DemoError> {
    let signals: &[(&str, i64)] = match status {
        LeadStatus::New | LeadStatus::Working => &[("brochure_download", 0)],
        LeadStatus::Disqualified => &[("case_study_view", 0)],
        LeadStatus::Mql => &[("pricing_guide_download", 0), ("product_page_visit", 1)],
        LeadStatus::Sql | LeadStatus::Sal => &[
            ("pricing_guide_download", 0),
            ("demo_request", 1),
            ("meeting_booked", 2),
        ],
    };
    let signals = signals
        .iter()
        .map(|(key, hours)| {
            Ok(IntentSignal {
                signal: SignalKey::parse(key).map_err(DemoError::model)?,
                at: created_at + Duration::hours(*hours),
                evidence: None,
                channel: None,
            })
        })
        .collect::<Result<_, DemoError>>()?;
    Ok(LeadEvidence {
        signals,
        ..LeadEvidence::default()
    })
}

fn note(text: &str) -> Result<Note, DemoError> {
    Note::parse(text).map_err(DemoError::model)
}

fn days_to_duration(days: f64) -> Duration {
    Duration::seconds((days * 86_400.0).round() as i64)
}

fn random_within(rng: &mut ChaCha8Rng, span: Duration) -> Duration {
    Duration::seconds(rng.random_range(0..span.num_seconds().max(1)))
}
