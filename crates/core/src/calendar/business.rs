//! Business hours: the opening hours, working days, holidays and time zone in which response
//! times are counted. "Within one business day" means one working day's worth of opening
//! hours: a lead queued on Friday at 16:00 with hours 09:00–17:00 is due on Monday at 16:00.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::Serialize;

use crate::validation::InvalidValue;

/// When a team works: daily opening hours on working days, in one time zone, less holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BusinessCalendar {
    #[serde(serialize_with = "tz_name")]
    time_zone: Tz,
    opens: NaiveTime,
    closes: NaiveTime,
    working_days: Vec<Weekday>,
    holidays: BTreeSet<NaiveDate>,
}

fn tz_name<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl Default for BusinessCalendar {
    /// Monday to Friday, 09:00 to 17:00 UTC, no holidays.
    fn default() -> Self {
        Self {
            time_zone: Tz::UTC,
            opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            closes: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
            working_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            holidays: BTreeSet::new(),
        }
    }
}

impl BusinessCalendar {
    /// A calendar; the day must open before it closes and at least one weekday must be worked.
    pub fn new(
        time_zone: Tz,
        opens: NaiveTime,
        closes: NaiveTime,
        working_days: Vec<Weekday>,
        holidays: BTreeSet<NaiveDate>,
    ) -> Result<Self, InvalidValue> {
        if opens >= closes {
            return Err(InvalidValue::new(
                &format!("{} to {}", opens.format("%H:%M"), closes.format("%H:%M")),
                "opening hours that open before they close",
            ));
        }
        if working_days.is_empty() {
            return Err(InvalidValue::new("", "at least one working day"));
        }
        Ok(Self {
            time_zone,
            opens,
            closes,
            working_days,
            holidays,
        })
    }

    /// Reads an IANA time zone name such as `Europe/Berlin`.
    pub fn parse_time_zone(text: &str) -> Result<Tz, InvalidValue> {
        text.trim().parse::<Tz>().map_err(|_| {
            InvalidValue::new(
                text,
                "an IANA time zone such as Europe/Berlin or America/New_York",
            )
        })
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    pub fn opens(&self) -> NaiveTime {
        self.opens
    }

    pub fn closes(&self) -> NaiveTime {
        self.closes
    }

    pub fn working_days(&self) -> &[Weekday] {
        &self.working_days
    }

    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// The length of one business day: the daily opening hours.
    pub fn day_length(&self) -> Duration {
        self.closes - self.opens
    }

    /// Whether `date` (in the calendar's time zone) is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.working_days.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// The moment `days` business days after `start`: that many days' worth of opening hours,
    /// counted from `start` or from the next opening if `start` is outside business hours.
    pub fn add_days(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        self.add(start, self.day_length() * days as i32)
    }

    /// The moment `business` of opening hours after `start`.
    pub fn add(&self, start: DateTime<Utc>, business: Duration) -> DateTime<Utc> {
        let mut remaining = business;
        let mut date = start.with_timezone(&self.time_zone).date_naive();
        loop {
            if let Some((opens, closes)) = self.hours_on(date) {
                let from = opens.max(start);
                if from < closes {
                    if remaining <= closes - from {
                        return from + remaining;
                    }
                    remaining -= closes - from;
                }
            }
            // Terminates: at least one weekday is worked and holidays are finitely many.
            date = date.succ_opt().unwrap_or(date);
        }
    }

    /// Opening hours between `from` and `to` (zero if `to` is not after `from`).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if to <= from {
            return total;
        }
        let last = to.with_timezone(&self.time_zone).date_naive();
        let mut date = from.with_timezone(&self.time_zone).date_naive();
        while date <= last {
            if let Some((opens, closes)) = self.hours_on(date) {
                let (start, end) = (opens.max(from), closes.min(to));
                if start < end {
                    total += end - start;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// When business opens and closes on `date`, if it is a working day.
    fn hours_on(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.is_working_day(date).then(|| {
            (
                self.instant(date, self.opens),
                self.instant(date, self.closes),
            )
        })
    }

    /// The instant a local wall-clock time happens; a time skipped by a daylight-saving jump
    /// is read as the same time an hour later, a repeated one as its first occurrence.
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        let resolved = match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
            LocalResult::None => self
                .time_zone
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest(),
        };
        resolved.map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    fn berlin(holidays: &[&str]) -> BusinessCalendar {
        BusinessCalendar::new(
            chrono_tz::Europe::Berlin,
            NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            holidays.iter().map(|d| date(d)).collect(),
        )
        .unwrap_or_default()
    }

    #[test]
    fn one_business_day_from_friday_afternoon_is_monday_afternoon() {
        // 2026-12-04 is a Friday; 16:00 in Berlin (UTC+1) is 15:00 UTC.
        let due = berlin(&[]).add_days(at("2026-12-04T15:00:00Z"), 1);
        assert_eq!(due, at("2026-12-07T15:00:00Z"));
    }

    #[test]
    fn a_lead_queued_at_night_is_counted_from_the_next_opening() {
        // Saturday night: the clock starts on Monday at 09:00 Berlin and runs a full day.
        let cal = berlin(&[]);
        assert_eq!(
            cal.add_days(at("2026-12-05T22:00:00Z"), 1),
            at("2026-12-07T16:00:00Z")
        );
        assert_eq!(
            cal.add(at("2026-12-05T22:00:00Z"), Duration::zero()),
            at("2026-12-07T08:00:00Z")
        );
    }

    #[test]
    fn holidays_are_skipped() {
        // Thursday 24 December 16:00 Berlin; the 25th is a holiday and the 26th a Saturday.
        let cal = berlin(&["2026-12-25"]);
        assert_eq!(
            cal.add_days(at("2026-12-24T15:00:00Z"), 1),
            at("2026-12-28T15:00:00Z")
        );
        // Three business days from Tuesday 09:00 with Thursday a holiday: Friday 17:00.
        let cal = berlin(&["2026-12-03"]);
        assert_eq!(
            cal.add_days(at("2026-12-01T08:00:00Z"), 3),
            at("2026-12-04T16:00:00Z")
        );
    }

    #[test]
    fn hours_follow_the_local_clock_across_daylight_saving() {
        // Berlin moves to summer time on Sunday 29 March 2026: Friday 16:00 is 15:00 UTC,
        // Monday 16:00 is 14:00 UTC.
        let due = berlin(&[]).add_days(at("2026-03-27T15:00:00Z"), 1);
        assert_eq!(due, at("2026-03-30T14:00:00Z"));
    }

    #[test]
    fn business_time_between_counts_only_opening_hours() {
        let cal = berlin(&[]);
        // Friday 16:00 to Monday 10:00 Berlin: one hour on Friday, one on Monday.
        assert_eq!(
            cal.between(at("2026-12-04T15:00:00Z"), at("2026-12-07T09:00:00Z")),
            Duration::hours(2)
        );
        assert_eq!(
            cal.between(at("2026-12-07T09:00:00Z"), at("2026-12-04T15:00:00Z")),
            Duration::zero()
        );
    }

    #[test]
    fn a_day_that_closes_before_it_opens_is_refused() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
        let refused =
            BusinessCalendar::new(Tz::UTC, nine, nine, vec![Weekday::Mon], BTreeSet::new());
        assert!(refused.is_err_and(|e| e.expected().contains("open before they close")));
        let refused = BusinessCalendar::new(Tz::UTC, NaiveTime::MIN, nine, vec![], BTreeSet::new());
        assert!(refused.is_err_and(|e| e.expected().contains("working day")));
        assert!(BusinessCalendar::parse_time_zone("Mars/Olympus").is_err());
        assert_eq!(
            BusinessCalendar::parse_time_zone(" America/New_York"),
            Ok(chrono_tz::America::New_York)
        );
    }

    proptest::proptest! {
        #[test]
        fn adding_then_measuring_gives_back_the_business_time(
            start in 1_780_000_000i64..1_830_000_000,
            minutes in 0i64..(5 * 8 * 60),
        ) {
            let cal = berlin(&["2026-12-25", "2027-01-01"]);
            let start = DateTime::from_timestamp(start, 0).unwrap_or_default();
            let due = cal.add(start, Duration::minutes(minutes));
            proptest::prop_assert!(due >= start);
            proptest::prop_assert_eq!(cal.between(start, due), Duration::minutes(minutes));
        }
    }
}
