//! A deal's event log rebuilt from what an export keeps of its past: snapshots of its stage,
//! amount, close date and forecast category taken at each change (Salesforce's
//! OpportunityHistory, HubSpot's stage entry dates), owner changes, and its current fields.
//!
//! Only what the export shows is recorded. Where it is silent, the least is inferred, and
//! each inference is named in [`Rebuilt::inferred`] so the import can report it:
//! - no snapshots at all: the deal is created in its current stage (or, if it is closed, in
//!   the process's first stage) and closed on its close date;
//! - a deal first seen closed: created in the first stage and closed at once;
//! - changes made to a closed deal without reopening it (Salesforce allows editing a won
//!   deal's amount): taken as the amount and date it closed with;
//! - history that stops short of the current fields: the difference is recorded at the last
//!   modification.

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::evidence::Evidence;
use pipewise_core::ids::{AccountId, OpportunityId, UserId};
use pipewise_core::money::Money;
use pipewise_core::opportunity::{
    AmountChanged, CategoryOverridden, Change, CloseDateChanged, ClosedLost, ClosedWon, Created,
    LossType, OpportunityEvent, OwnerChanged, Recorded, Reopened, StageChanged, Status,
};
use pipewise_core::opportunity::{CategoryOverride, Opportunity, apply};
use pipewise_core::process::{ForecastCategory, Process, ProcessVersion, StageKey};
use pipewise_core::text::{Label, Name, Note};

use crate::mapping::StageTarget;

/// The deal's fields at one moment. `None` for amount or close date means the snapshot does
/// not say (the previous value stands); a category of `None` likewise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub stage: StageTarget,
    pub amount: Option<Option<Money>>,
    pub close_date: Option<NaiveDate>,
    pub category: Option<ForecastCategory>,
}

/// A change of owner, as the source's field history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerMove {
    pub at: DateTime<Utc>,
    pub by: UserId,
    /// The previous owner, when the history names one.
    pub from: Option<UserId>,
    pub to: UserId,
}

/// Everything known of one deal.
#[derive(Debug, Clone)]
pub struct DealPast {
    pub id: OpportunityId,
    pub name: Name,
    pub account_id: AccountId,
    pub created_at: DateTime<Utc>,
    pub created_by: UserId,
    pub last_modified: DateTime<Utc>,
    /// The deal's fields now.
    pub owner_id: UserId,
    pub stage: StageTarget,
    pub amount: Option<Money>,
    pub close_date: NaiveDate,
    pub category: Option<ForecastCategory>,
    pub source: Option<Label>,
    pub segment: Option<Label>,
    pub competitor: Option<Label>,
    pub loss_type: LossType,
    pub loss_reason: Option<Note>,
    pub snapshots: Vec<Snapshot>,
    pub owner_moves: Vec<OwnerMove>,
}

/// What to rebuild against.
#[derive(Debug, Clone, Copy)]
pub struct Rebuild<'a> {
    pub process: &'a Process,
    pub version: ProcessVersion,
    pub recorded_at: DateTime<Utc>,
    /// Says where the overrides came from ("Set in Salesforce").
    pub override_reason: &'a Note,
    /// Says why a deal reopened ("Reopened in Salesforce").
    pub reopen_reason: &'a Note,
}

/// A rebuilt deal and what had to be inferred for it.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub recorded: Recorded,
    pub inferred: Vec<&'static str>,
}

pub const NO_HISTORY: &str = "no stage history: created in its current stage";
pub const NO_HISTORY_CLOSED: &str =
    "no stage history: created in the first stage and closed on its close date";
pub const FIRST_SEEN_CLOSED: &str =
    "first seen closed: created in the first stage and closed at once";
pub const CHANGED_AFTER_CLOSE: &str =
    "amount or close date changed after closing: taken as those it closed with";
pub const HISTORY_SHORT: &str =
    "history ends before the current fields: the difference is recorded at the last modification";
pub const OWNER_AFTER_HISTORY: &str =
    "owner changed without a history row: recorded at the last modification";

/// Rebuilds `past` into its event log and state; an error names what cannot be replayed.
pub fn rebuild(past: &DealPast, with: Rebuild<'_>) -> Result<Rebuilt, String> {
    let mut inferred = Vec::new();
    let had_history = !past.snapshots.is_empty();
    let mut timeline = past.snapshots.clone();
    timeline.sort_by_key(|s| s.at);
    let mut owner_moves = past.owner_moves.clone();
    owner_moves.sort_by_key(|m| m.at);
    // The deal as it is now closes the timeline, so history that stops short still ends at
    // the current fields.
    let now = past
        .last_modified
        .max(past.created_at)
        .max(timeline.last().map_or(past.created_at, |s| s.at));
    timeline.push(Snapshot {
        at: now,
        by: past.created_by,
        stage: past.stage.clone(),
        amount: Some(past.amount),
        close_date: Some(past.close_date),
        category: past.category,
    });
    carry_closing_values(&mut timeline, &mut inferred);

    let opening = &timeline[0];
    let stage = match &opening.stage {
        StageTarget::Open(stage) => {
            if !had_history {
                inferred.push(NO_HISTORY);
            }
            stage.clone()
        }
        StageTarget::Won | StageTarget::Lost => {
            inferred.push(if had_history {
                FIRST_SEEN_CLOSED
            } else {
                NO_HISTORY_CLOSED
            });
            with.process
                .stages()
                .first()
                .map(|s| s.key.clone())
                .ok_or("the process has no stages")?
        }
    };
    let owner = owner_moves
        .first()
        .and_then(|m| m.from)
        .unwrap_or(past.owner_id);
    let mut log = Log::new(past, with);
    log.push(
        past.created_at.min(opening.at),
        past.created_by,
        Change::Created(Box::new(Created {
            name: past.name.clone(),
            account_id: past.account_id,
            owner_id: owner,
            process: with.process.key.clone(),
            stage,
            amount: opening.amount.unwrap_or(past.amount),
            close_date: opening.close_date.unwrap_or(past.close_date),
            source: past.source.clone(),
            segment: past.segment.clone(),
            competitor: past.competitor.clone(),
            next_step: None,
            evidence: Evidence::default(),
        })),
    )?;

    // Snapshots and owner moves in time order; a snapshot first when both fall together.
    let mut moves = owner_moves.iter().peekable();
    let last = timeline.len() - 1;
    for (i, snapshot) in timeline.iter().enumerate() {
        while let Some(owner_move) = moves.next_if(|m| m.at < snapshot.at) {
            log.owner(owner_move.at, owner_move.by, owner_move.to)?;
        }
        let before = log.events.len();
        log.snapshot(snapshot)?;
        if i == last && had_history && log.events.len() > before {
            inferred.push(HISTORY_SHORT);
        }
    }
    for owner_move in moves {
        log.owner(owner_move.at, owner_move.by, owner_move.to)?;
    }
    if log.state()?.owner_id != past.owner_id {
        inferred.push(OWNER_AFTER_HISTORY);
        log.owner(now, past.created_by, past.owner_id)?;
    }
    Ok(Rebuilt {
        recorded: log.finish()?,
        inferred,
    })
}

/// A closed deal's later snapshots that keep it closed only correct what it closed with;
/// their amount and close date are moved onto the snapshot that closed it.
fn carry_closing_values(snapshots: &mut [Snapshot], inferred: &mut Vec<&'static str>) {
    let mut i = 0;
    while i < snapshots.len() {
        let closed = |s: &Snapshot| !matches!(s.stage, StageTarget::Open(_));
        if !closed(&snapshots[i]) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < snapshots.len() && snapshots[end].stage == snapshots[i].stage {
            end += 1;
        }
        let last = snapshots[end - 1].clone();
        let closing = &mut snapshots[i];
        let amount = last.amount.or(closing.amount);
        let close_date = last.close_date.or(closing.close_date);
        // Only a value the closing snapshot knew can have been changed after it.
        let changed = |known: bool, differs: bool| known && differs;
        if changed(closing.amount.is_some(), amount != closing.amount)
            || changed(
                closing.close_date.is_some(),
                close_date != closing.close_date,
            )
        {
            inferred.push(CHANGED_AFTER_CLOSE);
        }
        closing.amount = amount;
        closing.close_date = close_date;
        i = end;
    }
}

/// The events being built, applied as they are added so each diff reads the current state.
struct Log<'a> {
    past: &'a DealPast,
    with: Rebuild<'a>,
    events: Vec<OpportunityEvent>,
    state: Option<Opportunity>,
}

impl<'a> Log<'a> {
    fn new(past: &'a DealPast, with: Rebuild<'a>) -> Self {
        Self {
            past,
            with,
            events: Vec::new(),
            state: None,
        }
    }

    fn last_at(&self) -> DateTime<Utc> {
        self.events
            .last()
            .map_or(self.past.created_at, |e| e.effective_at)
    }

    fn state(&self) -> Result<&Opportunity, String> {
        self.state.as_ref().ok_or_else(|| "no events".to_owned())
    }

    /// The events and the state they produce.
    fn finish(self) -> Result<Recorded, String> {
        let state = self.state.ok_or_else(|| "no events".to_owned())?;
        Ok(Recorded {
            state,
            events: self.events,
        })
    }

    fn push(&mut self, at: DateTime<Utc>, by: UserId, change: Change) -> Result<(), String> {
        let event = OpportunityEvent {
            opportunity_id: self.past.id,
            seq: u32::try_from(self.events.len() + 1).map_err(|_| "too many events")?,
            actor_id: by,
            effective_at: at.max(self.last_at()),
            recorded_at: self.with.recorded_at,
            process_version: self.with.version,
            change,
        };
        let next = apply(self.state.take(), &event).map_err(|e| e.to_string())?;
        self.state = Some(next);
        self.events.push(event);
        Ok(())
    }

    fn owner(&mut self, at: DateTime<Utc>, by: UserId, to: UserId) -> Result<(), String> {
        let from = self.state()?.owner_id;
        if from == to {
            return Ok(());
        }
        self.push(at, by, Change::OwnerChanged(OwnerChanged { from, to }))
    }

    /// The events that take the deal from its current state to `snapshot`.
    fn snapshot(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        let (at, by) = (snapshot.at, snapshot.by);
        let deal = self.state()?;
        let close_date = snapshot.close_date.unwrap_or(deal.close_date);
        let target_status = match snapshot.stage {
            StageTarget::Open(_) => Status::Open,
            StageTarget::Won => Status::Won,
            StageTarget::Lost => Status::Lost,
        };
        if deal.status != Status::Open && deal.status != target_status {
            let stage = match &snapshot.stage {
                StageTarget::Open(stage) => stage.clone(),
                _ => deal.stage.clone(),
            };
            self.push(
                at,
                by,
                Change::Reopened(Reopened {
                    stage,
                    close_date,
                    reason: self.with.reopen_reason.clone(),
                }),
            )?;
        }
        let deal = self.state()?;
        if deal.status != Status::Open {
            return Ok(()); // Closed and staying closed: nothing the log can take.
        }
        let (stage_now, amount_now, close_now) = (deal.stage.clone(), deal.amount, deal.close_date);
        if let StageTarget::Open(stage) = &snapshot.stage {
            if *stage != stage_now {
                self.stage(at, by, &stage_now, stage)?;
            }
        }
        if let Some(amount) = snapshot.amount {
            if amount != amount_now {
                self.push(
                    at,
                    by,
                    Change::AmountChanged(AmountChanged {
                        from: amount_now,
                        to: amount,
                    }),
                )?;
            }
        }
        match snapshot.stage {
            StageTarget::Open(_) => {
                if close_date != close_now {
                    self.push(
                        at,
                        by,
                        Change::CloseDateChanged(CloseDateChanged {
                            from: close_now,
                            to: close_date,
                        }),
                    )?;
                }
                self.category(at, by, snapshot.category)
            }
            StageTarget::Won => self.push(at, by, Change::ClosedWon(ClosedWon { on: close_date })),
            StageTarget::Lost => self.push(
                at,
                by,
                Change::ClosedLost(ClosedLost {
                    on: close_date,
                    loss_type: self.past.loss_type,
                    reason: self.past.loss_reason.clone(),
                    competitor: None,
                }),
            ),
        }
    }

    fn stage(
        &mut self,
        at: DateTime<Utc>,
        by: UserId,
        from: &StageKey,
        to: &StageKey,
    ) -> Result<(), String> {
        self.push(
            at,
            by,
            Change::StageChanged(StageChanged {
                from: from.clone(),
                to: to.clone(),
                reason: None,
                next_step: None,
            }),
        )
    }

    /// An override where the source's category differs from the one the stage implies.
    fn category(
        &mut self,
        at: DateTime<Utc>,
        by: UserId,
        source: Option<ForecastCategory>,
    ) -> Result<(), String> {
        let Some(source) = source else { return Ok(()) };
        let deal = self.state()?;
        let implied = self.with.process.category_of(&deal.stage);
        let wanted =
            (source != ForecastCategory::Closed && Some(source) != implied).then_some(source);
        let current = deal.category_override.as_ref().map(|o| o.category);
        if wanted == current {
            return Ok(());
        }
        self.push(
            at,
            by,
            Change::CategoryOverridden(CategoryOverridden {
                from: current,
                to: wanted.map(|category| CategoryOverride {
                    category,
                    reason: self.with.override_reason.clone(),
                }),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use pipewise_core::money::Currency;
    use pipewise_core::process::{ProcessKey, ProcessSet};
    use proptest::prelude::*;

    use super::*;

    fn process() -> Process {
        let set = ProcessSet::shipped();
        set.get(&ProcessKey::parse("enterprise").unwrap())
            .unwrap()
            .clone()
    }

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, d, 9, 0, 0).unwrap()
    }

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, d).unwrap()
    }

    fn usd(major: i64) -> Option<Money> {
        Some(Money::new(major * 100, "USD".parse::<Currency>().unwrap()))
    }

    fn open(key: &str) -> StageTarget {
        StageTarget::Open(StageKey::parse(key).unwrap())
    }

    const ANA: UserId = UserId::from_uuid(uuid::Uuid::from_u128(1));
    const BEN: UserId = UserId::from_uuid(uuid::Uuid::from_u128(2));

    fn snapshot(at: DateTime<Utc>, stage: StageTarget, amount: i64, close: NaiveDate) -> Snapshot {
        Snapshot {
            at,
            by: ANA,
            stage,
            amount: Some(usd(amount)),
            close_date: Some(close),
            category: None,
        }
    }

    fn past(
        stage: StageTarget,
        amount: i64,
        close: NaiveDate,
        snapshots: Vec<Snapshot>,
    ) -> DealPast {
        DealPast {
            id: OpportunityId::from_uuid(uuid::Uuid::from_u128(9)),
            name: Name::parse("Acme rollout").unwrap(),
            account_id: AccountId::from_uuid(uuid::Uuid::from_u128(7)),
            created_at: day(1),
            created_by: ANA,
            last_modified: snapshots.last().map_or(day(1), |s| s.at),
            owner_id: ANA,
            stage,
            amount: usd(amount),
            close_date: close,
            category: None,
            source: None,
            segment: None,
            competitor: None,
            loss_type: LossType::Competition,
            loss_reason: None,
            snapshots,
            owner_moves: Vec::new(),
        }
    }

    fn rebuilt(past: &DealPast) -> Rebuilt {
        let process = process();
        let reason = Note::parse("Set in the source").unwrap();
        rebuild(
            past,
            Rebuild {
                process: &process,
                version: ProcessVersion(1),
                recorded_at: day(28),
                override_reason: &reason,
                reopen_reason: &reason,
            },
        )
        .unwrap()
    }

    /// Each event as (day of January, kind).
    fn kinds(rebuilt: &Rebuilt) -> Vec<(u32, &'static str)> {
        use chrono::Datelike;
        rebuilt
            .recorded
            .events
            .iter()
            .map(|e| (e.effective_at.day(), e.change.kind().as_str()))
            .collect()
    }

    #[test]
    fn each_snapshot_becomes_the_changes_it_shows() {
        let deal = past(
            StageTarget::Won,
            150,
            date(4, 20),
            vec![
                snapshot(day(1), open("qualified"), 100, date(3, 31)),
                snapshot(day(5), open("business_case"), 150, date(3, 31)),
                snapshot(day(9), open("business_case"), 150, date(4, 30)),
                snapshot(day(12), StageTarget::Won, 150, date(4, 20)),
            ],
        );
        let out = rebuilt(&deal);
        assert_eq!(
            kinds(&out),
            vec![
                (1, "created"),
                (5, "stage_changed"),
                (5, "amount_changed"),
                (9, "close_date_changed"),
                (12, "closed_won"),
            ]
        );
        let state = &out.recorded.state;
        assert_eq!(
            (state.status, state.amount, state.close_date),
            (Status::Won, usd(150), date(4, 20))
        );
        assert_eq!(
            state.stage.as_str(),
            "business_case",
            "a won deal keeps the stage it closed from"
        );
        assert!(out.inferred.is_empty());
    }

    #[test]
    fn without_history_an_open_deal_starts_where_it_is_and_a_closed_one_in_the_first_stage() {
        let open_deal = rebuilt(&past(open("evaluating"), 80, date(3, 1), vec![]));
        assert_eq!(kinds(&open_deal), vec![(1, "created")]);
        assert_eq!(open_deal.recorded.state.stage.as_str(), "evaluating");
        assert_eq!(open_deal.inferred, vec![NO_HISTORY]);

        let mut won = past(StageTarget::Won, 80, date(3, 1), vec![]);
        won.last_modified = day(20);
        let won = rebuilt(&won);
        assert_eq!(kinds(&won), vec![(1, "created"), (20, "closed_won")]);
        assert_eq!(won.recorded.state.stage.as_str(), "qualified");
        assert_eq!(won.recorded.state.close_date, date(3, 1));
        assert_eq!(won.inferred, vec![NO_HISTORY_CLOSED]);
    }

    #[test]
    fn a_lost_deal_brought_back_and_won_reopens_between() {
        let deal = past(
            StageTarget::Won,
            100,
            date(2, 20),
            vec![
                snapshot(day(1), open("evaluating"), 100, date(1, 31)),
                snapshot(day(3), StageTarget::Lost, 100, date(1, 3)),
                snapshot(day(10), open("negotiating"), 100, date(2, 28)),
                snapshot(day(15), StageTarget::Won, 100, date(2, 20)),
            ],
        );
        let out = rebuilt(&deal);
        assert_eq!(
            kinds(&out),
            vec![
                (1, "created"),
                (3, "closed_lost"),
                (10, "reopened"),
                (15, "closed_won"),
            ]
        );
        let Change::Reopened(reopened) = &out.recorded.events[2].change else {
            panic!()
        };
        assert_eq!(
            (reopened.stage.as_str(), reopened.close_date),
            ("negotiating", date(2, 28))
        );
        let Change::ClosedLost(lost) = &out.recorded.events[1].change else {
            panic!()
        };
        assert_eq!(lost.loss_type, LossType::Competition);
    }

    #[test]
    fn edits_to_a_closed_deal_become_what_it_closed_with() {
        let deal = past(
            StageTarget::Won,
            120,
            date(1, 12),
            vec![
                snapshot(day(1), open("redlining"), 100, date(1, 31)),
                snapshot(day(10), StageTarget::Won, 100, date(1, 10)),
                snapshot(day(14), StageTarget::Won, 120, date(1, 12)),
            ],
        );
        let out = rebuilt(&deal);
        assert_eq!(
            kinds(&out),
            vec![(1, "created"), (10, "amount_changed"), (10, "closed_won")]
        );
        assert_eq!(out.recorded.state.amount, usd(120));
        assert_eq!(out.recorded.state.close_date, date(1, 12));
        assert_eq!(out.inferred, vec![CHANGED_AFTER_CLOSE]);
    }

    #[test]
    fn history_that_stops_short_is_completed_at_the_last_modification() {
        let mut deal = past(
            open("evaluating"),
            100,
            date(3, 31),
            vec![snapshot(day(1), open("qualified"), 100, date(3, 31))],
        );
        deal.last_modified = day(18);
        let out = rebuilt(&deal);
        assert_eq!(kinds(&out), vec![(1, "created"), (18, "stage_changed")]);
        assert_eq!(out.inferred, vec![HISTORY_SHORT]);
    }

    #[test]
    fn owner_changes_fall_between_the_snapshots_around_them() {
        let mut deal = past(
            open("business_case"),
            100,
            date(3, 31),
            vec![
                snapshot(day(1), open("qualified"), 100, date(3, 31)),
                snapshot(day(6), open("business_case"), 100, date(3, 31)),
            ],
        );
        deal.owner_id = BEN;
        deal.owner_moves = vec![OwnerMove {
            at: day(4),
            by: ANA,
            from: Some(ANA),
            to: BEN,
        }];
        let out = rebuilt(&deal);
        assert_eq!(
            kinds(&out),
            vec![(1, "created"), (4, "owner_changed"), (6, "stage_changed")]
        );
        let Change::Created(created) = &out.recorded.events[0].change else {
            panic!()
        };
        assert_eq!(
            created.owner_id, ANA,
            "the first owner is the one the first move left"
        );
        assert!(out.inferred.is_empty());
    }

    #[test]
    fn a_source_category_unlike_the_stage_is_an_override_until_they_agree() {
        let mut commit = snapshot(day(3), open("qualified"), 100, date(3, 31));
        commit.category = Some(ForecastCategory::Commit);
        let mut back = snapshot(day(8), open("qualified"), 100, date(3, 31));
        back.category = Some(ForecastCategory::Pipeline);
        let deal = past(
            open("qualified"),
            100,
            date(3, 31),
            vec![
                snapshot(day(1), open("qualified"), 100, date(3, 31)),
                commit,
                back,
            ],
        );
        let out = rebuilt(&deal);
        assert_eq!(
            kinds(&out),
            vec![
                (1, "created"),
                (3, "category_overridden"),
                (8, "category_overridden")
            ]
        );
        assert_eq!(out.recorded.state.category_override, None);
        let Change::CategoryOverridden(first) = &out.recorded.events[1].change else {
            panic!()
        };
        assert_eq!(
            first.to.as_ref().map(|o| o.category),
            Some(ForecastCategory::Commit)
        );
    }

    fn any_target() -> impl Strategy<Value = StageTarget> {
        prop_oneof![
            Just(open("qualified")),
            Just(open("business_case")),
            Just(open("evaluating")),
            Just(open("redlining")),
            Just(StageTarget::Won),
            Just(StageTarget::Lost),
        ]
    }

    fn any_snapshot() -> impl Strategy<Value = Snapshot> {
        (
            1u32..28,
            any_target(),
            proptest::option::of(0i64..500),
            proptest::option::of(1u32..28),
        )
            .prop_map(|(d, stage, amount, close)| Snapshot {
                at: day(d),
                by: ANA,
                stage,
                amount: amount.map(usd),
                close_date: close.map(|c| date(2, c)),
                category: None,
            })
    }

    proptest! {
        /// Whatever the history says, the rebuilt log replays and ends at the deal's current
        /// stage, status, amount, close date and owner.
        #[test]
        fn the_rebuilt_log_ends_at_the_current_fields(
            snapshots in proptest::collection::vec(any_snapshot(), 0..8),
            stage in any_target(),
            amount in 0i64..500,
            close in 1u32..28,
            moved in any::<bool>(),
        ) {
            let mut deal = past(stage.clone(), amount, date(3, close), snapshots);
            deal.last_modified = day(27);
            if moved {
                deal.owner_id = BEN;
            }
            let out = rebuilt(&deal);
            let state = &out.recorded.state;
            let replayed = pipewise_core::opportunity::replay(&out.recorded.events).unwrap();
            prop_assert_eq!(replayed.as_ref(), Some(state));
            let status = match &stage {
                StageTarget::Open(key) => {
                    prop_assert_eq!(&state.stage, key);
                    Status::Open
                }
                StageTarget::Won => Status::Won,
                StageTarget::Lost => Status::Lost,
            };
            prop_assert_eq!(state.status, status);
            prop_assert_eq!(state.amount, usd(amount));
            prop_assert_eq!(state.close_date, date(3, close));
            prop_assert_eq!(state.owner_id, deal.owner_id);
        }
    }
}
