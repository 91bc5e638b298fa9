//! Speed-to-lead: from the moment a lead is queued, a first attempt is due within one business
//! day and a second within three; a lead whose attempts all went unanswered is then dispositioned
//! "Attempted – no reply". Deadlines are counted in business hours (`calendar::business`).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::calendar::business::BusinessCalendar;
use crate::crm::{Activity, ActivityKind};

/// The response windows, in business days from queueing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SpeedToLead {
    pub first_attempt_days: u32,
    pub second_attempt_days: u32,
}

impl Default for SpeedToLead {
    fn default() -> Self {
        Self {
            first_attempt_days: 1,
            second_attempt_days: 3,
        }
    }
}

/// A call or e-mail to reach the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The lead answered: a conversation, a reply, a meeting booked.
    pub connected: bool,
}

/// Outcomes of a call or e-mail that mean the lead answered.
const CONNECTED_OUTCOMES: [&str; 5] = [
    "connected",
    "replied",
    "answered",
    "meeting booked",
    "meeting_booked",
];

impl Attempt {
    /// A call, e-mail or meeting logged on the lead is an attempt; it reached the lead if it
    /// was a meeting or its outcome says so (`connected`, `replied`, `meeting booked`…).
    /// Notes are not attempts.
    pub fn from_activity(activity: &Activity) -> Option<Attempt> {
        let connected = match activity.kind {
            ActivityKind::Note => return None,
            ActivityKind::Meeting => true,
            ActivityKind::Call | ActivityKind::Email => {
                activity.outcome.as_ref().is_some_and(|o| {
                    CONNECTED_OUTCOMES
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(o.as_str().trim()))
                })
            }
        };
        Some(Attempt {
            at: activity.occurred_at,
            connected,
        })
    }
}

text_enum! {
    /// Where an attempt stands against its deadline.
    pub enum DeadlineState {
        /// Made in time.
        Met = "met",
        /// Made after its deadline.
        Late = "late",
        /// Not made yet, still in time.
        Pending = "pending",
        /// Not made and past its deadline.
        Missed = "missed",
        /// Not needed: an earlier attempt reached the lead.
        NotNeeded = "not_needed",
    }
}

impl DeadlineState {
    pub fn is_breach(self) -> bool {
        matches!(self, DeadlineState::Late | DeadlineState::Missed)
    }
}

/// One attempt's deadline and how it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Deadline {
    pub due: DateTime<Utc>,
    pub made_at: Option<DateTime<Utc>>,
    pub state: DeadlineState,
}

/// A queued lead's response against the windows at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Response {
    pub queued_at: DateTime<Utc>,
    pub first: Deadline,
    pub second: Deadline,
    /// When the next attempt is due; none once both are made or the lead was reached.
    pub next_due: Option<DateTime<Utc>>,
    /// A deadline was missed or met late.
    pub breached: bool,
    /// Both attempts made, none answered and the window closed: disposition the lead
    /// `attempted_no_reply`.
    pub no_reply: bool,
    /// Business time from queueing to the first attempt.
    #[schemars(with = "Option<i64>")]
    #[serde(serialize_with = "seconds")]
    pub first_response: Option<Duration>,
}

fn seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    d.map(|d| d.num_seconds()).serialize(s)
}

/// A queued lead's deadlines and the attempts made on it: what its [`Response`] is worked out
/// from, none of which changes as time passes, so a queue keeps it and asks [`Clock::at`]
/// how it stands at each look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    queued_at: DateTime<Utc>,
    first_due: DateTime<Utc>,
    second_due: DateTime<Utc>,
    /// Attempts since queueing, the earliest first.
    made: Vec<Attempt>,
    /// Business time from queueing to the earliest attempt.
    first_response: Option<Duration>,
}

impl SpeedToLead {
    /// How the attempts made on a lead queued at `queued_at` stand at `now`. Attempts before
    /// queueing do not count, nor those logged for after `now`.
    pub fn response(
        &self,
        calendar: &BusinessCalendar,
        queued_at: DateTime<Utc>,
        attempts: &[Attempt],
        now: DateTime<Utc>,
    ) -> Response {
        self.clock(calendar, queued_at, attempts).at(now)
    }

    /// The deadlines of a lead queued at `queued_at`, with the attempts made since.
    pub fn clock(
        &self,
        calendar: &BusinessCalendar,
        queued_at: DateTime<Utc>,
        attempts: &[Attempt],
    ) -> Clock {
        let mut made: Vec<Attempt> = attempts
            .iter()
            .copied()
            .filter(|a| a.at >= queued_at)
            .collect();
        made.sort_by_key(|a| a.at);
        Clock {
            queued_at,
            first_due: calendar.add_days(queued_at, self.first_attempt_days),
            second_due: calendar.add_days(queued_at, self.second_attempt_days),
            first_response: made.first().map(|a| calendar.between(queued_at, a.at)),
            made,
        }
    }
}

impl Clock {
    /// How the lead's attempts stand against its deadlines at `now`.
    pub fn at(&self, now: DateTime<Utc>) -> Response {
        let made = &self.made[..self.made.partition_point(|a| a.at <= now)];
        let deadline = |due: DateTime<Utc>, attempt: Option<&Attempt>| {
            let state = match attempt {
                Some(a) if a.at <= due => DeadlineState::Met,
                Some(_) => DeadlineState::Late,
                None if now <= due => DeadlineState::Pending,
                None => DeadlineState::Missed,
            };
            Deadline {
                due,
                made_at: attempt.map(|a| a.at),
                state,
            }
        };
        let first = deadline(self.first_due, made.first());
        let reached_first = made.first().is_some_and(|a| a.connected);
        let mut second = deadline(self.second_due, made.get(1));
        if reached_first {
            second.state = DeadlineState::NotNeeded;
            second.made_at = None;
        }
        let next_due = [first, second]
            .into_iter()
            .find(|d| matches!(d.state, DeadlineState::Pending | DeadlineState::Missed))
            .map(|d| d.due);
        Response {
            queued_at: self.queued_at,
            first,
            second,
            next_due,
            breached: first.state.is_breach() || second.state.is_breach(),
            no_reply: made.len() >= 2 && !made.iter().any(|a| a.connected) && now > second.due,
            // The earliest attempt, if it is made by `now`.
            first_response: self.first_response.filter(|_| !made.is_empty()),
        }
    }
}

/// The work queue: leads with an attempt still to make, the most urgent (earliest due) first,
/// then the longest waiting.
pub fn queue<I>(leads: impl IntoIterator<Item = (I, Response)>) -> Vec<(I, Response)> {
    let mut waiting: Vec<(I, Response)> = leads
        .into_iter()
        .filter(|(_, r)| r.next_due.is_some())
        .collect();
    waiting.sort_by_key(|(_, r)| (r.next_due, r.queued_at));
    waiting
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn attempt(text: &str, connected: bool) -> Attempt {
        Attempt {
            at: at(text),
            connected,
        }
    }

    // Monday to Friday 09:00–17:00 UTC. 2026-12-07 is a Monday.
    const QUEUED: &str = "2026-12-07T10:00:00Z";

    fn response(attempts: &[Attempt], now: &str) -> Response {
        SpeedToLead::default().response(&BusinessCalendar::default(), at(QUEUED), attempts, at(now))
    }

    #[test]
    fn no_first_attempt_within_one_business_day_is_a_breach() {
        let waiting = response(&[], "2026-12-08T09:59:00Z");
        assert_eq!(waiting.first.due, at("2026-12-08T10:00:00Z"));
        assert_eq!(waiting.first.state, DeadlineState::Pending);
        assert!(!waiting.breached);
        assert_eq!(waiting.next_due, Some(at("2026-12-08T10:00:00Z")));

        let late = response(&[], "2026-12-08T10:01:00Z");
        assert_eq!(late.first.state, DeadlineState::Missed);
        assert!(late.breached);
    }

    #[test]
    fn a_late_first_attempt_stays_a_breach() {
        let r = response(
            &[attempt("2026-12-08T11:00:00Z", false)],
            "2026-12-08T12:00:00Z",
        );
        assert_eq!(r.first.state, DeadlineState::Late);
        assert!(r.breached);
        // Queued Monday 10:00, attempted Tuesday 11:00: 7 + 2 business hours.
        assert_eq!(r.first_response, Some(Duration::hours(9)));
        // The second attempt is due three business days after queueing: Thursday 10:00.
        assert_eq!(r.next_due, Some(at("2026-12-10T10:00:00Z")));
    }

    #[test]
    fn two_unanswered_attempts_lead_to_attempted_no_reply_once_the_window_closes() {
        let attempts = [
            attempt("2026-12-07T15:00:00Z", false),
            attempt("2026-12-09T09:30:00Z", false),
        ];
        let open = response(&attempts, "2026-12-10T09:00:00Z");
        assert!(!open.no_reply && !open.breached && open.next_due.is_none());
        let closed = response(&attempts, "2026-12-10T10:30:00Z");
        assert!(closed.no_reply);
    }

    #[test]
    fn reaching_the_lead_on_the_first_attempt_ends_the_clock() {
        let r = response(
            &[attempt("2026-12-07T10:20:00Z", true)],
            "2026-12-20T00:00:00Z",
        );
        assert_eq!(r.second.state, DeadlineState::NotNeeded);
        assert!(!r.breached && !r.no_reply && r.next_due.is_none());
        assert_eq!(r.first_response, Some(Duration::minutes(20)));
    }

    #[test]
    fn a_kept_clock_counts_an_attempt_only_once_its_time_has_come() {
        // An unanswered call logged ahead, for Monday 11:00, and one that reached the lead
        // on Tuesday 09:30; an attempt from before queueing does not count.
        let attempts = [
            attempt("2026-12-08T09:30:00Z", true),
            attempt("2026-12-07T11:00:00Z", false),
            attempt("2026-12-04T16:00:00Z", true),
        ];
        let clock =
            SpeedToLead::default().clock(&BusinessCalendar::default(), at(QUEUED), &attempts);

        let before = clock.at(at("2026-12-07T10:30:00Z"));
        assert_eq!(before.first.state, DeadlineState::Pending);
        assert_eq!((before.first.made_at, before.first_response), (None, None));
        assert_eq!(before.next_due, Some(at("2026-12-08T10:00:00Z")));

        let after_call = clock.at(at("2026-12-07T12:00:00Z"));
        assert_eq!(after_call.first.state, DeadlineState::Met);
        assert_eq!(after_call.first_response, Some(Duration::hours(1)));
        assert_eq!(after_call.second.state, DeadlineState::Pending);
        assert_eq!(after_call.next_due, Some(at("2026-12-10T10:00:00Z")));

        let reached = clock.at(at("2026-12-08T10:00:00Z"));
        assert_eq!(reached.second.state, DeadlineState::Met);
        assert_eq!(reached.second.made_at, Some(at("2026-12-08T09:30:00Z")));
        assert!(reached.next_due.is_none() && !reached.breached);
        // Each moment answers as a clock made at that moment does.
        for now in [
            "2026-12-07T10:30:00Z",
            "2026-12-07T12:00:00Z",
            "2026-12-08T10:00:00Z",
        ] {
            assert_eq!(clock.at(at(now)), response(&attempts, now));
        }
    }

    #[test]
    fn calls_e_mails_and_meetings_are_attempts_and_their_outcome_says_who_was_reached() {
        use crate::ids::{ActivityId, LeadId, UserId};
        use crate::text::{Label, Name};
        let activity = |kind, outcome: Option<&str>| Activity {
            id: ActivityId::from_parts(1, [1; 10]),
            version: 1,
            kind,
            occurred_at: at(QUEUED),
            user_id: UserId::from_parts(1, [2; 10]),
            account_id: None,
            contact_id: None,
            lead_id: Some(LeadId::from_parts(1, [3; 10])),
            opportunity_id: None,
            subject: Name::parse("First touch").unwrap(),
            outcome: outcome.map(|o| Label::parse(o).unwrap()),
        };
        let reached =
            |kind, outcome| Attempt::from_activity(&activity(kind, outcome)).map(|a| a.connected);
        assert_eq!(reached(ActivityKind::Call, Some("Connected")), Some(true));
        assert_eq!(
            reached(ActivityKind::Email, Some("meeting booked")),
            Some(true)
        );
        assert_eq!(reached(ActivityKind::Call, Some("no answer")), Some(false));
        assert_eq!(reached(ActivityKind::Email, None), Some(false));
        assert_eq!(reached(ActivityKind::Meeting, None), Some(true));
        assert_eq!(reached(ActivityKind::Note, Some("connected")), None);
    }

    #[test]
    fn the_queue_puts_the_earliest_due_first_and_leaves_out_finished_leads() {
        let cal = BusinessCalendar::default();
        let sla = SpeedToLead::default();
        let now = at("2026-12-08T12:00:00Z");
        let queued = |q: &str, attempts: &[Attempt]| sla.response(&cal, at(q), attempts, now);
        let leads = vec![
            ("fresh", queued("2026-12-08T11:00:00Z", &[])),
            ("overdue", queued("2026-12-04T16:00:00Z", &[])),
            (
                "done",
                queued(
                    "2026-12-07T09:00:00Z",
                    &[attempt("2026-12-07T09:05:00Z", true)],
                ),
            ),
            (
                "second",
                queued(
                    "2026-12-07T09:00:00Z",
                    &[attempt("2026-12-07T09:05:00Z", false)],
                ),
            ),
        ];
        let order: Vec<&str> = queue(leads).into_iter().map(|(id, _)| id).collect();
        assert_eq!(order, ["overdue", "fresh", "second"]);
    }
}
