//! Lead settings: the shipped defaults (`leads.toml`) and a workspace's file laid over them,
//! with every problem located by line and key.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::routing::{AssignmentRule, Territory};
use super::scoring::{IntentPart, Layer, Rubric, SignalDefinition, SignalKind, Thresholds};
use super::speed::{Attempt, Clock, Response, SpeedToLead};
use crate::calendar::business::BusinessCalendar;
use crate::crm::Lead;
use crate::keys::SignalKey;
use crate::process::{DefinitionError, DefinitionErrors, read_toml};
use crate::text::Email;
use crate::validation::InvalidValue;

/// The shipped settings file, which a workspace's own file is laid over.
pub const SHIPPED_TOML: &str = include_str!("../../leads.toml");

/// Who gets leads: assignment rules by territory, and the owner of leads no rule places.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Routing {
    /// Owner of leads the rules cannot place; none leaves them in the shared queue.
    pub default_owner: Option<Email>,
    pub rules: Vec<AssignmentRule<Email>>,
}

/// Everything that decides how leads are scored, qualified, timed and assigned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadSettings {
    pub rubric: Rubric,
    pub speed_to_lead: SpeedToLead,
    pub calendar: BusinessCalendar,
    pub routing: Routing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    fit: Option<RawPoints>,
    intent: Option<RawIntent>,
    bands: Option<RawBands>,
    qualification: Option<RawQualification>,
    signals: Option<BTreeMap<Spanned<String>, RawSignal>>,
    questions: Option<BTreeMap<Spanned<String>, Vec<String>>>,
    speed_to_lead: Option<RawSpeed>,
    calendar: Option<RawCalendar>,
    routing: Option<RawRouting>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoints {
    points: BTreeMap<Spanned<String>, Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntent {
    half_life_days: Option<Spanned<f64>>,
    points: Option<BTreeMap<Spanned<String>, Spanned<i64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBands {
    medium: Option<Spanned<i64>>,
    high: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQualification {
    mql_intent: Option<Spanned<i64>>,
    sql_intent: Option<Spanned<i64>>,
    readiness_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    kind: Spanned<String>,
    points: Spanned<f64>,
    #[serde(default)]
    readiness: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpeed {
    first_attempt_days: Option<Spanned<i64>>,
    second_attempt_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    time_zone: Option<Spanned<String>>,
    opens: Option<Spanned<String>>,
    closes: Option<Spanned<String>>,
    working_days: Option<Vec<Spanned<String>>>,
    holidays: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRouting {
    default_owner: Option<Spanned<String>>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    region: Option<String>,
    segment: Option<String>,
    product_line: Option<String>,
    owner: Spanned<String>,
}

/// Collects located problems while a file is read.
struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<DefinitionError>,
}

impl Reader<'_> {
    fn error(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.errors.push(DefinitionError::located(
            self.file, self.text, span, key, message,
        ));
    }

    /// An error about `key` as a whole, located where the file writes it: its table
    /// (`[bands]`), or the entry that names it (`webinar = …` for `signals.webinar.points`).
    fn error_at_key(&mut self, key: impl Into<String>, message: impl Into<String>) {
        let key = key.into();
        let parts: Vec<&str> = key.split('.').collect();
        let entry = if parts.len() >= 3 {
            parts[parts.len() - 2]
        } else {
            parts[parts.len() - 1]
        };
        let at = self
            .text
            .find(&format!("[{key}]"))
            .or_else(|| self.text.find(&format!("{entry} =")))
            .unwrap_or(0);
        self.error(at..at, key, message);
    }

    fn refused(&mut self, span: Range<usize>, key: impl Into<String>, e: InvalidValue) {
        let message = format!("`{}` is not accepted: {}", e.value(), e.expected());
        self.error(span, key, message);
    }

    /// A whole number in `range`, or a located error.
    fn whole<T: TryFrom<i64>>(
        &mut self,
        value: &Spanned<i64>,
        key: &str,
        range: Range<i64>,
    ) -> Option<T> {
        let n = *value.get_ref();
        if range.contains(&n) {
            T::try_from(n).ok()
        } else {
            let expected = format!("a whole number from {} to {}", range.start, range.end - 1);
            self.refused(
                value.span(),
                key,
                InvalidValue::new(&n.to_string(), expected),
            );
            None
        }
    }

    fn parsed<T>(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        match parse(value.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.refused(value.span(), key, e);
                None
            }
        }
    }
}

impl LeadSettings {
    /// How the attempts on a lead queued at `queued_at` stand at `now`, in these response
    /// windows and business hours.
    pub fn response(
        &self,
        queued_at: DateTime<Utc>,
        attempts: &[Attempt],
        now: DateTime<Utc>,
    ) -> Response {
        self.speed_to_lead
            .response(&self.calendar, queued_at, attempts, now)
    }

    /// The response clock of a lead still waiting in the sales queue: queued, open and not
    /// in nurture.
    pub fn waiting_response(
        &self,
        lead: &Lead,
        attempts: &[Attempt],
        now: DateTime<Utc>,
    ) -> Option<Response> {
        Some(self.waiting_clock(lead, attempts)?.at(now))
    }

    /// The deadlines and attempts of a lead still waiting in the sales queue.
    pub fn waiting_clock(&self, lead: &Lead, attempts: &[Attempt]) -> Option<Clock> {
        let queued_at = lead.waiting_since()?;
        Some(
            self.speed_to_lead
                .clock(&self.calendar, queued_at, attempts),
        )
    }

    /// The shipped settings.
    #[allow(clippy::expect_used)]
    pub fn shipped() -> Self {
        // The shipped file is part of the program and checked by a test below.
        Self::overlay(Self::empty(), "leads.toml", SHIPPED_TOML)
            .expect("shipped lead settings are valid")
    }

    /// The shipped settings with those in `text` laid over them.
    pub fn parse(file: &str, text: &str) -> Result<Self, DefinitionErrors> {
        Self::overlay(Self::shipped(), file, text)
    }

    /// What the shipped file is laid over: no points, no signals.
    fn empty() -> Self {
        Self {
            rubric: Rubric {
                fit: BTreeMap::new(),
                intent: BTreeMap::new(),
                signals: BTreeMap::new(),
                half_life_days: 30.0,
                thresholds: Thresholds {
                    medium: 5,
                    high: 8,
                    mql_intent: 3,
                    sql_intent: 6,
                    readiness_days: 14,
                },
                questions: BTreeMap::new(),
            },
            speed_to_lead: SpeedToLead::default(),
            calendar: BusinessCalendar::default(),
            routing: Routing::default(),
        }
    }

    fn overlay(base: Self, file: &str, text: &str) -> Result<Self, DefinitionErrors> {
        let raw: RawFile = read_toml(file, text)?;
        let mut settings = base;
        let mut r = Reader {
            file,
            text,
            errors: Vec::new(),
        };
        let rubric = &mut settings.rubric;
        if let Some(fit) = &raw.fit {
            read_points(&mut r, "fit.points", &fit.points, &mut rubric.fit);
        }
        if let Some(intent) = &raw.intent {
            if let Some(points) = &intent.points {
                read_points(&mut r, "intent.points", points, &mut rubric.intent);
            }
            if let Some(days) = &intent.half_life_days {
                if *days.get_ref() > 0.0 && days.get_ref().is_finite() {
                    rubric.half_life_days = *days.get_ref();
                } else {
                    let e =
                        InvalidValue::new(&days.get_ref().to_string(), "a number of days above 0");
                    r.refused(days.span(), "intent.half_life_days", e);
                }
            }
        }
        let t = &mut rubric.thresholds;
        if let Some(bands) = &raw.bands {
            for (value, key, slot) in [
                (&bands.medium, "bands.medium", &mut t.medium),
                (&bands.high, "bands.high", &mut t.high),
            ] {
                if let Some(n) = value.as_ref().and_then(|v| r.whole(v, key, 1..11)) {
                    *slot = n;
                }
            }
        }
        if let Some(q) = &raw.qualification {
            for (value, key, slot) in [
                (&q.mql_intent, "qualification.mql_intent", &mut t.mql_intent),
                (&q.sql_intent, "qualification.sql_intent", &mut t.sql_intent),
            ] {
                if let Some(n) = value.as_ref().and_then(|v| r.whole(v, key, 0..11)) {
                    *slot = n;
                }
            }
            if let Some(n) = q
                .readiness_days
                .as_ref()
                .and_then(|v| r.whole(v, "qualification.readiness_days", 1..366))
            {
                t.readiness_days = n;
            }
        }
        for (key, signal) in raw.signals.iter().flatten() {
            let path = format!("signals.{}", key.get_ref());
            let name = r.parsed(key, &path, SignalKey::parse);
            let kind = r.parsed(&signal.kind, &format!("{path}.kind"), |k| {
                k.parse::<SignalKind>()
            });
            let points = *signal.points.get_ref();
            if !(points > 0.0 && points <= 10.0) {
                let e = InvalidValue::new(&points.to_string(), "points above 0, at most 10");
                r.refused(signal.points.span(), format!("{path}.points"), e);
            }
            if let (Some(name), Some(kind)) = (name, kind) {
                rubric.signals.insert(
                    name,
                    SignalDefinition {
                        kind,
                        points,
                        readiness: signal.readiness,
                    },
                );
            }
        }
        for (layer, questions) in raw.questions.iter().flatten() {
            if let Some(layer) = r.parsed(layer, &format!("questions.{}", layer.get_ref()), |l| {
                l.parse::<Layer>()
            }) {
                rubric.questions.insert(layer, questions.clone());
            }
        }
        if let Some(speed) = &raw.speed_to_lead {
            let s = &mut settings.speed_to_lead;
            for (value, key, slot) in [
                (
                    &speed.first_attempt_days,
                    "speed_to_lead.first_attempt_days",
                    &mut s.first_attempt_days,
                ),
                (
                    &speed.second_attempt_days,
                    "speed_to_lead.second_attempt_days",
                    &mut s.second_attempt_days,
                ),
            ] {
                if let Some(n) = value.as_ref().and_then(|v| r.whole(v, key, 1..31)) {
                    *slot = n;
                }
            }
        }
        if let Some(calendar) = &raw.calendar {
            if let Some(c) = read_calendar(&mut r, calendar, &settings.calendar) {
                settings.calendar = c;
            }
        }
        if let Some(routing) = &raw.routing {
            settings.routing = read_routing(&mut r, routing);
        }
        check_whole(&mut r, &settings);
        if r.errors.is_empty() {
            Ok(settings)
        } else {
            Err(DefinitionErrors(r.errors))
        }
    }
}

fn read_points<P: Ord + std::str::FromStr<Err = InvalidValue>>(
    r: &mut Reader<'_>,
    path: &str,
    raw: &BTreeMap<Spanned<String>, Spanned<i64>>,
    into: &mut BTreeMap<P, u8>,
) {
    for (part, points) in raw {
        let key = format!("{path}.{}", part.get_ref());
        let part = r.parsed(part, &key, |p| p.parse::<P>());
        let points = r.whole::<u8>(points, &key, 0..11);
        if let (Some(part), Some(points)) = (part, points) {
            into.insert(part, points);
        }
    }
}

fn read_calendar(
    r: &mut Reader<'_>,
    raw: &RawCalendar,
    base: &BusinessCalendar,
) -> Option<BusinessCalendar> {
    let before = r.errors.len();
    let time = |t: &str| {
        NaiveTime::parse_from_str(t.trim(), "%H:%M")
            .map_err(|_| InvalidValue::new(t, "a time such as 09:00"))
    };
    let weekday = |d: &str| {
        d.trim()
            .parse::<Weekday>()
            .map_err(|_| InvalidValue::new(d, "a weekday: mon, tue, wed, thu, fri, sat or sun"))
    };
    let date = |d: &str| {
        NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|_| InvalidValue::new(d, "a date such as 2026-12-25"))
    };
    let zone = raw
        .time_zone
        .as_ref()
        .and_then(|z| r.parsed(z, "calendar.time_zone", BusinessCalendar::parse_time_zone));
    let opens = raw
        .opens
        .as_ref()
        .and_then(|t| r.parsed(t, "calendar.opens", time));
    let closes = raw
        .closes
        .as_ref()
        .and_then(|t| r.parsed(t, "calendar.closes", time));
    let days: Option<Vec<Weekday>> = raw.working_days.as_ref().map(|days| {
        days.iter()
            .filter_map(|d| r.parsed(d, "calendar.working_days", weekday))
            .collect()
    });
    let holidays: Option<BTreeSet<NaiveDate>> = raw.holidays.as_ref().map(|dates| {
        dates
            .iter()
            .filter_map(|d| r.parsed(d, "calendar.holidays", date))
            .collect()
    });
    if r.errors.len() > before {
        return None;
    }
    let built = BusinessCalendar::new(
        zone.unwrap_or(base.time_zone()),
        opens.unwrap_or(base.opens()),
        closes.unwrap_or(base.closes()),
        days.unwrap_or_else(|| base.working_days().to_vec()),
        holidays.unwrap_or_else(|| base.holidays().clone()),
    );
    match built {
        Ok(calendar) => Some(calendar),
        Err(e) => {
            let span = raw
                .opens
                .as_ref()
                .or(raw.closes.as_ref())
                .map_or(0..0, Spanned::span);
            r.refused(span, "calendar", e);
            None
        }
    }
}

fn read_routing(r: &mut Reader<'_>, raw: &RawRouting) -> Routing {
    let default_owner = raw
        .default_owner
        .as_ref()
        .and_then(|o| r.parsed(o, "routing.default_owner", Email::parse));
    let mut rules = Vec::new();
    for (i, rule) in raw.rules.iter().enumerate() {
        let key = format!("routing.rules[{i}]");
        let territory = Territory {
            region: rule.region.clone(),
            segment: rule.segment.clone(),
            product_line: rule.product_line.clone(),
        };
        if territory == Territory::default() {
            r.error(
                rule.owner.span(),
                key.clone(),
                "a rule names a region, a segment or a product line",
            );
        }
        if let Some(owner) = r.parsed(&rule.owner, &format!("{key}.owner"), Email::parse) {
            rules.push(AssignmentRule { territory, owner });
        }
    }
    Routing {
        default_owner,
        rules,
    }
}

/// Rules that concern the settings as a whole: each score's parts add up to 10, every signal
/// fits its part, bands and stage thresholds are in order.
fn check_whole(r: &mut Reader<'_>, settings: &LeadSettings) {
    let rubric = &settings.rubric;
    let fit: u32 = rubric.fit.values().map(|p| u32::from(*p)).sum();
    let intent: u32 = rubric.intent.values().map(|p| u32::from(*p)).sum();
    for (total, key) in [(fit, "fit.points"), (intent, "intent.points")] {
        if total != 10 {
            r.error_at_key(
                key,
                format!("the parts add up to {total}; they must add up to 10"),
            );
        }
    }
    for (key, signal) in &rubric.signals {
        let part: IntentPart = signal.kind.part();
        let max = rubric.intent.get(&part).copied().unwrap_or(0);
        if signal.points > f64::from(max) {
            r.error_at_key(
                format!("signals.{key}.points"),
                format!(
                    "{} points exceed the {max} the {part} part can hold",
                    signal.points
                ),
            );
        }
    }
    let t = &rubric.thresholds;
    if t.medium >= t.high {
        r.error_at_key(
            "bands",
            format!(
                "medium starts at {} and high at {}; medium must start lower",
                t.medium, t.high
            ),
        );
    }
    if t.mql_intent > t.sql_intent {
        r.error_at_key("qualification", "mql_intent must not exceed sql_intent");
    }
    let s = &settings.speed_to_lead;
    if s.first_attempt_days > s.second_attempt_days {
        r.error_at_key(
            "speed_to_lead",
            "the second attempt's window must not end before the first's",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::scoring::FitPart;
    use super::*;

    #[test]
    fn the_shipped_settings_are_the_design_defaults() {
        let s = LeadSettings::shipped();
        let fit: Vec<(FitPart, u8)> = s.rubric.fit.clone().into_iter().collect();
        assert_eq!(
            fit,
            [
                (FitPart::Profile, 5),
                (FitPart::UseCase, 3),
                (FitPart::Feasibility, 2)
            ]
        );
        let intent: Vec<(IntentPart, u8)> = s.rubric.intent.clone().into_iter().collect();
        assert_eq!(
            intent,
            [
                (IntentPart::Commercial, 4),
                (IntentPart::Engagement, 3),
                (IntentPart::Content, 3)
            ]
        );
        assert_eq!(
            (s.rubric.thresholds.medium, s.rubric.thresholds.high),
            (5, 8)
        );
        assert_eq!(
            s.speed_to_lead,
            SpeedToLead {
                first_attempt_days: 1,
                second_attempt_days: 3
            }
        );
        assert_eq!(s.rubric.questions[&Layer::Fit].len(), 2);
        assert!(s.routing.rules.is_empty() && s.routing.default_owner.is_none());
    }

    #[test]
    fn a_workspace_file_overrides_what_it_names() {
        let text = r#"
[intent]
half_life_days = 14

[signals]
webinar_attended = { kind = "engagement", points = 2 }

[calendar]
time_zone = "Europe/Berlin"
holidays = ["2026-12-25"]

[routing]
default_owner = "queue@acme.com"
[[routing.rules]]
region = "EMEA"
owner = "ana@acme.com"
"#;
        let s = LeadSettings::parse("acme-leads.toml", text).unwrap();
        assert_eq!(s.rubric.half_life_days, 14.0);
        assert!(
            s.rubric.signal("webinar_attended").is_ok() && s.rubric.signal("demo_request").is_ok()
        );
        assert_eq!(s.calendar.time_zone(), chrono_tz::Europe::Berlin);
        assert_eq!(
            s.calendar.opens(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap()
        );
        assert_eq!(s.routing.rules[0].owner.as_str(), "ana@acme.com");
    }

    #[test]
    fn every_problem_is_located() {
        let text = "[fit.points]\nprofile = 6\n\n[signals]\nwebinar = { kind = \"vibes\", points = 2 }\n\n[calendar]\nopens = \"9am\"\n";
        let errors = LeadSettings::parse("acme-leads.toml", text).unwrap_err().0;
        let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.key.as_str())).collect();
        assert!(found.contains(&(5, "signals.webinar.kind")), "{found:?}");
        assert!(found.contains(&(8, "calendar.opens")), "{found:?}");
        let total = errors.iter().find(|e| e.key == "fit.points").unwrap();
        assert!(total.message.contains("add up to 11"), "{}", total.message);
        let unknown = LeadSettings::parse("x.toml", "[colour]\nx = 1\n").unwrap_err();
        assert_eq!(unknown.0[0].line, 1);
    }
}
