//! The fiscal calendar: years starting on a configurable month, quarters of three months, and
//! the periods (`FY2026`, `2026-Q3`, `2026-07`) that targets and reports refer to.
//!
//! A fiscal year is named by the calendar year in which it ends: with a February start,
//! FY2027 runs from 1 February 2026 to 31 January 2027. With a January start the fiscal
//! year is the calendar year.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::validation::InvalidValue;

pub mod business;

/// Which month a workspace's fiscal year starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct FiscalCalendar {
    start_month: u32,
}

impl Default for FiscalCalendar {
    fn default() -> Self {
        Self { start_month: 1 }
    }
}

impl FiscalCalendar {
    pub fn starting_in(month: u32) -> Result<Self, InvalidValue> {
        if (1..=12).contains(&month) {
            Ok(Self { start_month: month })
        } else {
            Err(InvalidValue::new(
                &month.to_string(),
                "a month number from 1 to 12",
            ))
        }
    }

    pub fn start_month(&self) -> u32 {
        self.start_month
    }

    /// The fiscal year `date` falls in.
    pub fn year_of(&self, date: NaiveDate) -> i32 {
        if self.start_month == 1 || date.month() < self.start_month {
            date.year()
        } else {
            date.year() + 1
        }
    }

    /// The fiscal quarter `date` falls in.
    pub fn quarter_of(&self, date: NaiveDate) -> Period {
        let months_into_year = (date.month() + 12 - self.start_month) % 12;
        Period::Quarter {
            year: self.year_of(date),
            quarter: months_into_year / 3 + 1,
        }
    }

    /// The period of the same kind as `like` (year, quarter or month) that holds `date`.
    pub fn period_like(&self, like: Period, date: NaiveDate) -> Period {
        match like {
            Period::Year(_) => Period::Year(self.year_of(date)),
            Period::Quarter { .. } => self.quarter_of(date),
            Period::Month { .. } => Period::Month {
                year: date.year(),
                month: date.month(),
            },
        }
    }

    /// The days a period covers.
    pub fn range(&self, period: Period) -> DateRange {
        match period {
            Period::Year(year) => {
                let start = self.first_day_of_year(year);
                DateRange::new(start, add_months(start, 12))
            }
            Period::Quarter { year, quarter } => {
                let start = add_months(self.first_day_of_year(year), 3 * (quarter - 1));
                DateRange::new(start, add_months(start, 3))
            }
            Period::Month { year, month } => {
                let start = first_of_month(year, month);
                DateRange::new(start, add_months(start, 1))
            }
        }
    }

    fn first_day_of_year(&self, year: i32) -> NaiveDate {
        let calendar_year = if self.start_month == 1 {
            year
        } else {
            year - 1
        };
        first_of_month(calendar_year, self.start_month)
    }
}

impl TryFrom<u32> for FiscalCalendar {
    type Error = InvalidValue;

    fn try_from(month: u32) -> Result<Self, Self::Error> {
        Self::starting_in(month)
    }
}

impl From<FiscalCalendar> for u32 {
    fn from(calendar: FiscalCalendar) -> Self {
        calendar.start_month
    }
}

fn first_of_month(year: i32, month: u32) -> NaiveDate {
    // Periods are built from validated months and years within chrono's range.
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Parses a calendar date written as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, InvalidValue> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
        .ok_or_else(|| InvalidValue::new(text, "a date as YYYY-MM-DD, such as 2026-09-30"))
}

/// Parses a moment written in RFC 3339 with its offset (`2026-09-30T14:00:00Z`), as UTC.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, InvalidValue> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| YEARS.contains(&t.year()))
        .ok_or_else(|| {
            InvalidValue::new(
                text,
                "a time in RFC 3339 with its offset, such as 2026-09-30T14:00:00Z",
            )
        })
}

/// Days from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        Self { start, end }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// The last day in the range.
    pub fn last_day(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.end)
    }
}

/// A fiscal year, a fiscal quarter, or a calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// `FY2026`
    Year(i32),
    /// `2026-Q3`: third quarter of fiscal year 2026.
    Quarter { year: i32, quarter: u32 },
    /// `2026-07`: July 2026.
    Month { year: i32, month: u32 },
}

const PERIOD_FORMS: &str = "a period such as FY2026, 2026-Q3 or 2026-07";

/// Years a period may name; wide enough for any sales history, narrow enough that date
/// arithmetic never overflows.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

impl FromStr for Period {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_ascii_uppercase();
        let invalid = || InvalidValue::new(s, PERIOD_FORMS);
        let year = |y: &str| {
            y.parse::<i32>()
                .ok()
                .filter(|y| YEARS.contains(y))
                .ok_or_else(invalid)
        };
        let number_in = |n: &str, range: std::ops::RangeInclusive<u32>| {
            n.parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(invalid)
        };
        if let Some(y) = text.strip_prefix("FY") {
            return Ok(Period::Year(year(y)?));
        }
        match text.split_once('-') {
            None if text.len() == 4 => Ok(Period::Year(year(&text)?)),
            Some((y, q)) if q.starts_with('Q') => Ok(Period::Quarter {
                year: year(y)?,
                quarter: number_in(&q[1..], 1..=4)?,
            }),
            Some((y, m)) if m.len() == 2 => Ok(Period::Month {
                year: year(y)?,
                month: number_in(m, 1..=12)?,
            }),
            _ => Err(invalid()),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Period> for String {
    fn from(period: Period) -> Self {
        period.to_string()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(year) => write!(f, "FY{year}"),
            Period::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Period::Month { year, month } => write!(f, "{year}-{month:02}"),
        }
    }
}

/// Travels as the month its year starts in, like the serde form.
impl schemars::JsonSchema for FiscalCalendar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FiscalCalendar".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "integer",
            "minimum": 1,
            "maximum": 12,
            "description": "The month the fiscal year starts in (1 = January)."
        })
    }
}

/// Travels as its text, like the serde form.
impl schemars::JsonSchema for Period {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Period".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A fiscal year (`FY2026`), fiscal quarter (`2026-Q3`) or month (`2026-07`)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn january_start_is_the_calendar_year() {
        let calendar = FiscalCalendar::default();
        assert_eq!(calendar.year_of(date("2026-12-31")), 2026);
        assert_eq!(
            calendar.quarter_of(date("2026-07-01")),
            Period::Quarter {
                year: 2026,
                quarter: 3
            }
        );
        let q3 = calendar.range("2026-Q3".parse().unwrap());
        assert_eq!((q3.start, q3.end), (date("2026-07-01"), date("2026-10-01")));
        assert_eq!(q3.last_day(), date("2026-09-30"));
    }

    #[test]
    fn a_date_has_a_period_of_each_kind() {
        let calendar = FiscalCalendar::starting_in(2).unwrap();
        let day = date("2026-01-15");
        let like = |p: &str| calendar.period_like(p.parse().unwrap(), day).to_string();
        assert_eq!(like("FY2020"), "FY2026");
        assert_eq!(like("2020-Q1"), "2026-Q4");
        assert_eq!(like("2020-07"), "2026-01");
    }

    #[test]
    fn february_start_names_the_year_by_its_end() {
        let calendar = FiscalCalendar::starting_in(2).unwrap();
        assert_eq!(calendar.year_of(date("2026-01-31")), 2026);
        assert_eq!(calendar.year_of(date("2026-02-01")), 2027);
        let fy = calendar.range(Period::Year(2027));
        assert_eq!((fy.start, fy.end), (date("2026-02-01"), date("2027-02-01")));
        // Q4 of FY2027 is November 2026 to January 2027.
        assert_eq!(
            calendar.quarter_of(date("2027-01-15")),
            Period::Quarter {
                year: 2027,
                quarter: 4
            }
        );
        let q4 = calendar.range(Period::Quarter {
            year: 2027,
            quarter: 4,
        });
        assert_eq!((q4.start, q4.end), (date("2026-11-01"), date("2027-02-01")));
    }

    #[test]
    fn every_day_falls_in_the_quarter_that_contains_it() {
        let calendar = FiscalCalendar::starting_in(7).unwrap();
        let mut day = date("2024-01-01");
        while day < date("2027-01-01") {
            let quarter = calendar.quarter_of(day);
            assert!(calendar.range(quarter).contains(day), "{day} in {quarter}");
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn dates_are_iso_calendar_dates() {
        assert_eq!(parse_date(" 2026-02-28 ").unwrap(), date("2026-02-28"));
        for bad in [
            "2026-02-30",
            "28/02/2026",
            "2026-2-28x",
            "",
            "20260228",
            "0001-01-01",
        ] {
            assert_eq!(parse_date(bad).unwrap_err().value(), bad);
        }
    }

    #[test]
    fn periods_parse_and_print() {
        for text in ["FY2026", "2026-Q3", "2026-07"] {
            assert_eq!(text.parse::<Period>().unwrap().to_string(), text);
        }
        assert_eq!("2026".parse::<Period>().unwrap(), Period::Year(2026));
        assert_eq!("2026-q1".parse::<Period>().unwrap().to_string(), "2026-Q1");
        for bad in [
            "2026-Q5", "2026-13", "26-Q1", "Q3", "", "FY", "2026-Q", "10000-01",
        ] {
            let error = bad.parse::<Period>().unwrap_err();
            assert_eq!(error.value(), bad);
        }
        assert!(FiscalCalendar::starting_in(13).is_err());
    }
}
