//! Webhooks: subscriptions to deal events and record changes, their deliveries, and the
//! retry policy. Sending and signing are the server's; what to retry, when, and when to give
//! up is decided here.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::crm::changes::{CrmKind, RecordAction, RecordChange};
use crate::ids::{UserId, WebhookId};
use crate::opportunity::EventKind;
use crate::validation::InvalidValue;

/// Attempts per delivery before it is given up as failed.
pub const MAX_ATTEMPTS: u32 = 10;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::hours(1);
/// Deliveries failed in a row after which a subscription is disabled.
pub const DISABLE_AFTER_FAILED_DELIVERIES: u32 = 3;

/// Where events are sent: an absolute `http` or `https` URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        let host = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        match host {
            Some(host)
                if !host.is_empty()
                    && text.len() <= 2000
                    && !text.contains(char::is_whitespace) =>
            {
                Ok(Self(text.to_owned()))
            }
            _ => Err(InvalidValue::new(
                text,
                "an http:// or https:// URL with a host, such as https://crm-sync.example.com/pipewise",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an event is about: a deal, or a CRM record of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Opportunity,
    Record(CrmKind),
}

impl Subject {
    pub fn as_str(&self) -> &'static str {
        match self {
            Subject::Opportunity => "opportunity",
            Subject::Record(kind) => kind.as_str(),
        }
    }

    fn parse(word: &str) -> Option<Self> {
        if word == "opportunity" {
            return Some(Subject::Opportunity);
        }
        word.parse().ok().map(Subject::Record)
    }
}

/// The type of an event a webhook delivers, written `subject.kind`: a deal event such as
/// `opportunity.stage_changed`, or a record change such as `account.changed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Deal(EventKind),
    Record(CrmKind, RecordAction),
}

impl EventType {
    pub fn subject(&self) -> Subject {
        match self {
            EventType::Deal(_) => Subject::Opportunity,
            EventType::Record(kind, _) => Subject::Record(*kind),
        }
    }

    /// The type of a change to a CRM record.
    pub fn of_change(change: &RecordChange) -> Self {
        EventType::Record(change.record_kind, change.action)
    }

    fn kind(&self) -> &'static str {
        match self {
            EventType::Deal(kind) => kind.as_str(),
            EventType::Record(_, action) => action.as_str(),
        }
    }
}

/// What an event type or pattern must look like, for error messages.
const EVENT_TYPE_HELP: &str = "an event type such as opportunity.stage_changed or account.changed, \
     or every type of one subject such as contact.*; subjects are opportunity, account, \
     contact, lead, activity and target";

impl FromStr for EventType {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        let refused = || InvalidValue::new(text, EVENT_TYPE_HELP);
        let (subject, kind) = text.trim().split_once('.').ok_or_else(refused)?;
        match Subject::parse(subject).ok_or_else(refused)? {
            Subject::Opportunity => kind.parse().map(EventType::Deal),
            Subject::Record(record) => kind.parse().map(|a| EventType::Record(record, a)),
        }
        .map_err(|_| refused())
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.subject().as_str(), self.kind())
    }
}

/// One entry of a subscription's list: an event type, or every type of one subject
/// (`account.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventPattern {
    Type(EventType),
    Every(Subject),
}

impl EventPattern {
    pub fn matches(&self, event: EventType) -> bool {
        match self {
            EventPattern::Type(wanted) => *wanted == event,
            EventPattern::Every(subject) => *subject == event.subject(),
        }
    }
}

impl FromStr for EventPattern {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        match text.trim().strip_suffix(".*") {
            Some(subject) => Subject::parse(subject)
                .map(EventPattern::Every)
                .ok_or_else(|| InvalidValue::new(text, EVENT_TYPE_HELP)),
            None => text.parse().map(EventPattern::Type),
        }
    }
}

impl fmt::Display for EventPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventPattern::Type(event) => event.fmt(f),
            EventPattern::Every(subject) => write!(f, "{}.*", subject.as_str()),
        }
    }
}

/// Event types and patterns travel as their text.
macro_rules! as_text {
    ($($name:ident),+) => {$(
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "description": EVENT_TYPE_HELP })
            }
        }
    )+};
}
as_text!(EventType, EventPattern);

/// Which events a subscription wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum EventFilter {
    /// Every type.
    #[schemars(with = "String")]
    All(AllEvents),
    Patterns(Vec<EventPattern>),
}

/// The word for every type of event: `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllEvents;

impl Serialize for AllEvents {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("*")
    }
}

impl EventFilter {
    /// Stored as `*` or as `,pattern,pattern,`.
    pub fn to_stored(&self) -> String {
        match self {
            EventFilter::All(_) => "*".to_owned(),
            EventFilter::Patterns(patterns) => {
                let words: Vec<String> = patterns.iter().map(ToString::to_string).collect();
                format!(",{},", words.join(","))
            }
        }
    }

    /// Reads what [`to_stored`](Self::to_stored) wrote; a bare kind (`stage_changed`) is a
    /// deal event type, as subscriptions made before record changes were sent list them.
    pub fn from_stored(text: &str) -> Result<Self, InvalidValue> {
        if text == "*" {
            return Ok(EventFilter::All(AllEvents));
        }
        text.split(',')
            .filter(|w| !w.is_empty())
            .map(|word| match word.contains('.') {
                true => word.parse(),
                false => word
                    .parse()
                    .map(|kind| EventPattern::Type(EventType::Deal(kind))),
            })
            .collect::<Result<Vec<EventPattern>, _>>()
            .map(EventFilter::Patterns)
    }

    pub fn wants(&self, event: EventType) -> bool {
        match self {
            EventFilter::All(_) => true,
            EventFilter::Patterns(patterns) => patterns.iter().any(|p| p.matches(event)),
        }
    }
}

/// A subscription to a workspace's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: WebhookUrl,
    pub events: EventFilter,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    /// Deliveries given up in a row; a success sets it back to 0.
    pub failed_deliveries: u32,
    /// Set when deliveries kept failing; nothing is sent to a disabled subscription.
    pub disabled_at: Option<DateTime<Utc>>,
}

text_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Not yet accepted by the receiver; tried again at `next_attempt_at`.
        Pending = "pending",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Given up after every attempt failed.
        Failed = "failed",
    }
}

/// One event to send to one subscription, and how its sending went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Delivery {
    pub webhook_id: WebhookId,
    /// The deal or record the event is about.
    pub record_id: Uuid,
    /// The deal event's sequence number, or the record's version after the change.
    pub seq: u32,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status: Option<u16>,
    /// What went wrong at the last attempt, if anything.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Accepted { status: u16 },
    /// It answered otherwise, or not at all.
    Refused { status: Option<u16>, error: String },
}

impl Delivery {
    /// The delivery after `attempt` at `now`: delivered, retried after a doubling wait
    /// (`base`, `2 × base`, … up to [`MAX_BACKOFF`]), or failed after [`MAX_ATTEMPTS`].
    pub fn after(&self, attempt: Attempt, now: DateTime<Utc>, base: Duration) -> Delivery {
        let attempts = self.attempts + 1;
        let mut next = Delivery {
            attempts,
            last_attempt_at: Some(now),
            ..self.clone()
        };
        match attempt {
            Attempt::Accepted { status } => {
                next.status = DeliveryStatus::Delivered;
                next.last_status = Some(status);
                next.last_error = None;
            }
            Attempt::Refused { status, error } => {
                next.last_status = status;
                next.last_error = Some(error);
                if attempts >= MAX_ATTEMPTS {
                    next.status = DeliveryStatus::Failed;
                } else {
                    let doubled = base * 2_i32.saturating_pow(attempts.saturating_sub(1).min(30));
                    next.next_attempt_at = now + doubled.min(MAX_BACKOFF);
                }
            }
        }
        next
    }
}

impl Webhook {
    /// The subscription after one of its deliveries ended as `status` at `now`: failures
    /// in a row are counted, and past [`DISABLE_AFTER_FAILED_DELIVERIES`] it is disabled.
    pub fn after_delivery(&self, status: DeliveryStatus, now: DateTime<Utc>) -> Webhook {
        let mut next = self.clone();
        match status {
            DeliveryStatus::Delivered => next.failed_deliveries = 0,
            DeliveryStatus::Failed => {
                next.failed_deliveries += 1;
                if next.failed_deliveries >= DISABLE_AFTER_FAILED_DELIVERIES {
                    next.disabled_at.get_or_insert(now);
                }
            }
            DeliveryStatus::Pending => {}
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn pending() -> Delivery {
        Delivery {
            webhook_id: WebhookId::from_parts(1, [1; 10]),
            record_id: Uuid::now_v7(),
            seq: 4,
            event_type: EventType::Deal(EventKind::StageChanged),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: t0(),
            last_attempt_at: None,
            last_status: None,
            last_error: None,
            created_at: t0(),
        }
    }

    fn refused() -> Attempt {
        Attempt::Refused {
            status: Some(503),
            error: "the receiver answered 503".into(),
        }
    }

    #[test]
    fn waits_double_up_to_an_hour_and_the_tenth_failure_gives_up() {
        let base = Duration::seconds(30);
        let mut delivery = pending();
        let mut waits = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let now = delivery.next_attempt_at;
            delivery = delivery.after(refused(), now, base);
            if delivery.status == DeliveryStatus::Pending {
                waits.push((delivery.next_attempt_at - now).num_seconds());
            }
        }
        // 30 s, 1, 2, 4, 8, 16, 32 min, then capped at 60 min.
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(delivery.status, DeliveryStatus::Failed);
        assert_eq!(delivery.attempts, 10);
        assert_eq!(delivery.last_status, Some(503));
        let delivered = pending().after(Attempt::Accepted { status: 204 }, t0(), base);
        assert_eq!(
            (delivered.status, delivered.last_error),
            (DeliveryStatus::Delivered, None)
        );
    }

    #[test]
    fn three_failed_deliveries_in_a_row_disable_a_subscription() {
        let hook = Webhook {
            id: WebhookId::from_parts(1, [1; 10]),
            url: WebhookUrl::parse("https://hooks.example.com/pw").unwrap(),
            events: EventFilter::All(AllEvents),
            created_by: UserId::from_parts(1, [3; 10]),
            created_at: t0(),
            failed_deliveries: 0,
            disabled_at: None,
        };
        let two = hook
            .after_delivery(DeliveryStatus::Failed, t0())
            .after_delivery(DeliveryStatus::Failed, t0());
        assert_eq!((two.failed_deliveries, two.disabled_at), (2, None));
        assert_eq!(
            two.after_delivery(DeliveryStatus::Delivered, t0())
                .failed_deliveries,
            0
        );
        let three = two.after_delivery(DeliveryStatus::Failed, t0());
        assert_eq!(three.disabled_at, Some(t0()));
    }

    #[test]
    fn event_types_read_back_and_patterns_match_their_subject() {
        let stage = EventType::Deal(EventKind::StageChanged);
        let account = EventType::Record(CrmKind::Account, RecordAction::Changed);
        assert_eq!(stage.to_string(), "opportunity.stage_changed");
        assert_eq!(account.to_string(), "account.changed");
        for kind in EventKind::ALL {
            let event = EventType::Deal(*kind);
            assert_eq!(event.to_string().parse::<EventType>().unwrap(), event);
        }
        for kind in CrmKind::ALL {
            for action in RecordAction::ALL {
                let event = EventType::Record(*kind, *action);
                assert_eq!(event.to_string().parse::<EventType>().unwrap(), event);
            }
        }
        for refused in [
            "stage_changed",
            "account.stage_changed",
            "deal.created",
            "account.",
            "*",
        ] {
            assert!(refused.parse::<EventType>().is_err(), "{refused}");
        }
        let contacts: EventPattern = "contact.*".parse().unwrap();
        assert_eq!(
            contacts,
            EventPattern::Every(Subject::Record(CrmKind::Contact))
        );
        assert!(contacts.matches(EventType::Record(CrmKind::Contact, RecordAction::Created)));
        assert!(!contacts.matches(EventType::Record(CrmKind::Account, RecordAction::Created)));
        assert!("deal.*".parse::<EventPattern>().is_err());
    }

    #[test]
    fn filters_and_urls_read_back_and_refuse_what_they_should() {
        let filter = EventFilter::Patterns(vec![
            "opportunity.stage_changed".parse().unwrap(),
            "opportunity.closed_won".parse().unwrap(),
            "lead.*".parse().unwrap(),
        ]);
        assert_eq!(
            filter.to_stored(),
            ",opportunity.stage_changed,opportunity.closed_won,lead.*,"
        );
        assert_eq!(
            EventFilter::from_stored(&filter.to_stored()).unwrap(),
            filter
        );
        assert!(filter.wants(EventType::Deal(EventKind::ClosedWon)));
        assert!(!filter.wants(EventType::Deal(EventKind::ClosedLost)));
        assert!(filter.wants(EventType::Record(CrmKind::Lead, RecordAction::Changed)));
        assert!(!filter.wants(EventType::Record(CrmKind::Target, RecordAction::Deleted)));
        assert_eq!(
            EventFilter::from_stored("*").unwrap(),
            EventFilter::All(AllEvents)
        );
        assert!(
            EventFilter::All(AllEvents)
                .wants(EventType::Record(CrmKind::Target, RecordAction::Deleted))
        );
        assert_eq!(
            EventFilter::from_stored(",stage_changed,closed_won,").unwrap(),
            EventFilter::Patterns(vec![
                EventPattern::Type(EventType::Deal(EventKind::StageChanged)),
                EventPattern::Type(EventType::Deal(EventKind::ClosedWon)),
            ])
        );
        assert!(WebhookUrl::parse("ftp://example.com").is_err());
        assert!(WebhookUrl::parse("https://").is_err());
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/hook").is_ok());
    }
}
