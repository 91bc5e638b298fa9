//! Which channels get credit for a lead: the origin is the channel that booked the first
//! meeting; every other channel that engaged the lead before it converted is an influence.
//! No channel is credited for merely being the last touch.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::scoring::Rubric;
use crate::crm::Lead;
use crate::text::Label;

text_enum! {
    /// What a touch achieved.
    pub enum TouchKind {
        /// The lead engaged: replied, attended, downloaded, visited.
        Engagement = "engagement",
        /// A first meeting or discovery call was booked through this channel.
        MeetingBooked = "meeting_booked",
    }
}

/// A channel reaching the lead: a campaign, a sequence, an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Touch {
    pub channel: Label,
    pub kind: TouchKind,
    pub at: DateTime<Utc>,
}

/// The credit for one lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Attribution {
    /// The channel that booked the first meeting; none until a meeting is booked.
    pub origin: Option<Label>,
    /// The other channels that engaged the lead, in the order they first did.
    pub influence: Vec<Label>,
}

/// The credit for the touches made up to `until` (when the lead converted, or now).
pub fn attribute(touches: &[Touch], until: DateTime<Utc>) -> Attribution {
    let mut counted: Vec<&Touch> = touches.iter().filter(|t| t.at <= until).collect();
    counted.sort_by_key(|t| t.at);
    let origin = counted
        .iter()
        .find(|t| t.kind == TouchKind::MeetingBooked)
        .map(|t| t.channel.clone());
    let mut influence: Vec<Label> = Vec::new();
    for touch in counted {
        if Some(&touch.channel) != origin.as_ref() && !influence.contains(&touch.channel) {
            influence.push(touch.channel.clone());
        }
    }
    Attribution { origin, influence }
}

/// The credit for `lead` up to `until`: its source is its first engagement, when it came in;
/// each signal with a channel is a touch by that channel, one that shows readiness (a demo
/// asked for, a meeting booked) a meeting booked through it.
pub fn of_lead(lead: &Lead, rubric: &Rubric, until: DateTime<Utc>) -> Attribution {
    let arrival = lead.source.iter().map(|source| Touch {
        channel: source.clone(),
        kind: TouchKind::Engagement,
        at: lead.created_at,
    });
    let signals = lead.evidence.signals.iter().filter_map(|signal| {
        let readiness = rubric
            .signals
            .get(&signal.signal)
            .is_some_and(|d| d.readiness);
        Some(Touch {
            channel: signal.channel.clone()?,
            kind: if readiness {
                TouchKind::MeetingBooked
            } else {
                TouchKind::Engagement
            },
            at: signal.at,
        })
    });
    let touches: Vec<Touch> = arrival.chain(signals).collect();
    attribute(&touches, until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(channel: &str, kind: TouchKind, day: u32) -> Touch {
        let at = format!("2026-03-{day:02}T12:00:00Z").parse().unwrap();
        Touch {
            channel: Label::parse(channel).unwrap(),
            kind,
            at,
        }
    }

    fn label(text: &str) -> Label {
        Label::parse(text).unwrap()
    }

    #[test]
    fn prospecting_that_booked_the_meeting_is_the_origin_and_later_marketing_an_influence() {
        let touches = [
            touch("nurture emails", TouchKind::Engagement, 20),
            touch("sequence A", TouchKind::Engagement, 1),
            touch("sequence A", TouchKind::MeetingBooked, 3),
        ];
        let credit = attribute(&touches, "2026-03-30T00:00:00Z".parse().unwrap());
        assert_eq!(credit.origin, Some(label("sequence A")));
        assert_eq!(credit.influence, [label("nurture emails")]);
    }

    #[test]
    fn the_first_engagement_keeps_influence_and_the_last_touch_earns_no_origin() {
        let touches = [
            touch("webinar", TouchKind::Engagement, 2),
            touch("outbound", TouchKind::MeetingBooked, 9),
            touch("paid search", TouchKind::Engagement, 15),
            touch("paid search", TouchKind::MeetingBooked, 16),
            touch("trade show", TouchKind::Engagement, 28),
        ];
        let credit = attribute(&touches, "2026-03-20T00:00:00Z".parse().unwrap());
        assert_eq!(credit.origin, Some(label("outbound")));
        // Touches after conversion do not count.
        assert_eq!(credit.influence, [label("webinar"), label("paid search")]);
        let before_meeting = attribute(&touches, "2026-03-05T00:00:00Z".parse().unwrap());
        assert_eq!(
            before_meeting,
            Attribution {
                origin: None,
                influence: vec![label("webinar")]
            }
        );
    }

    #[test]
    fn a_lead_is_credited_from_its_source_and_its_signals_channels() {
        use crate::crm::edits::LeadFields;
        use crate::ids::LeadId;
        use crate::keys::SignalKey;
        use crate::leads::scoring::IntentSignal;
        use crate::leads::settings::LeadSettings;
        let body: LeadFields = serde_json::from_str(
            r#"{"name": "Ana", "email": "ana@acme.com", "title": "COO", "company": "Acme", "source": "webinar"}"#,
        )
        .unwrap();
        let day = |d: u32| {
            format!("2026-03-{d:02}T12:00:00Z")
                .parse::<DateTime<Utc>>()
                .unwrap()
        };
        let mut lead = body.create(LeadId::from_parts(1, [1; 10]), day(1)).unwrap();
        let signal = |key: &str, d: u32, channel: Option<&str>| IntentSignal {
            signal: SignalKey::parse(key).unwrap(),
            at: day(d),
            evidence: None,
            channel: channel.map(label),
        };
        lead.evidence.signals = vec![
            signal("replied", 3, Some("sequence A")),
            signal("meeting_booked", 5, Some("sequence A")),
            signal("product_page_visit", 8, None),
            signal("pricing_guide_download", 20, Some("nurture emails")),
        ];
        let rubric = LeadSettings::shipped().rubric;
        let credit = of_lead(&lead, &rubric, day(30));
        assert_eq!(credit.origin, Some(label("sequence A")));
        assert_eq!(
            credit.influence,
            [label("webinar"), label("nurture emails")]
        );
    }
}
