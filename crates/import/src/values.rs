//! Values as exports write them: dates in the style the user names (never guessed, since
//! 03/04/2025 is a different day in the US and in Europe), amounts, yes/no flags, and
//! Salesforce record ids.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use pipewise_core::money::{Currency, Money};

/// How the export writes dates. Times without an offset are read as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateStyle {
    /// `2025-03-04`, `2025-03-04T14:05:00.000Z`, `2025-03-04 14:05`, `+0000` offsets; also
    /// Unix milliseconds (`1741097100000`), as HubSpot's API writes them.
    #[default]
    Iso,
    /// `3/4/2025` (March 4), `3/4/2025 2:05 PM`, `03/04/2025 14:05`.
    Us,
    /// `4/3/2025` or `4.3.2025` (March 4), with an optional 24-hour time.
    Eu,
}

const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

impl DateStyle {
    fn example(self) -> &'static str {
        match self {
            DateStyle::Iso => "a date such as 2025-03-04 or 2025-03-04T14:05:00Z",
            DateStyle::Us => "a US date such as 3/4/2025 or 3/4/2025 2:05 PM",
            DateStyle::Eu => "a day-first date such as 4/3/2025 or 4.3.2025 14:05",
        }
    }

    /// A calendar date; a time after it is ignored.
    pub fn date(self, text: &str) -> Result<NaiveDate, String> {
        self.moment(text).map(|(date, _)| date)
    }

    /// A moment in UTC; a date alone is its midnight.
    pub fn time(self, text: &str) -> Result<DateTime<Utc>, String> {
        let (date, time) = self.moment(text)?;
        match time {
            Moment::Local(time) => Ok(Utc.from_utc_datetime(&date.and_time(time))),
            Moment::Exact(at) => Ok(at),
        }
    }

    fn moment(self, text: &str) -> Result<(NaiveDate, Moment), String> {
        let text = text.trim();
        let parsed = match self {
            DateStyle::Iso => iso(text),
            DateStyle::Us => day_month(text, &['/'], false),
            DateStyle::Eu => day_month(text, &['/', '.'], true),
        };
        parsed
            .filter(|(date, _)| YEARS.contains(&date.year()))
            .ok_or_else(|| self.example().to_owned())
    }
}

enum Moment {
    Local(NaiveTime),
    Exact(DateTime<Utc>),
}

fn iso(text: &str) -> Option<(NaiveDate, Moment)> {
    if text.len() >= 10 && text.bytes().all(|b| b.is_ascii_digit()) {
        let at = DateTime::<Utc>::from_timestamp_millis(text.parse().ok()?)?;
        return Some((at.date_naive(), Moment::Exact(at)));
    }
    // RFC 3339 first: it is how logs write times, and it fails fast on a date alone, which
    // a format string does not on a time.
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let at = at.with_timezone(&Utc);
        return Some((at.date_naive(), Moment::Exact(at)));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some((date, Moment::Local(NaiveTime::MIN)));
    }
    // Salesforce writes `2025-03-04T14:05:00.000+0000`.
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            let at = at.with_timezone(&Utc);
            return Some((at.date_naive(), Moment::Exact(at)));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some((at.date(), Moment::Local(at.time())));
        }
    }
    None
}

/// `M/D/YYYY` (US) or `D/M/YYYY` (day first), each with an optional time.
fn day_month(text: &str, separators: &[char], day_first: bool) -> Option<(NaiveDate, Moment)> {
    let (date, time) = match text.split_once(' ') {
        Some((date, time)) => (date, Some(time.trim())),
        None => (text, None),
    };
    let mut parts = date.split(|c| separators.contains(&c));
    let (first, second, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 {
        return None;
    }
    let number = |s: &str| {
        (1..=2)
            .contains(&s.len())
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (first, second, year) = (number(first)?, number(second)?, year.parse::<i32>().ok()?);
    let (month, day) = if day_first {
        (second, first)
    } else {
        (first, second)
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = match time {
        None => NaiveTime::MIN,
        Some(time) => ["%I:%M %p", "%I:%M:%S %p", "%H:%M", "%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveTime::parse_from_str(time, format).ok())?,
    };
    Some((date, Moment::Local(time)))
}

/// An amount of zero or more in `currency`, such as `12500`, `12,500.50` or `1000.00` for a
/// currency without decimals (trailing zeros beyond the currency's decimals are dropped).
pub fn amount(text: &str, currency: Currency) -> Result<Money, String> {
    let text = text.trim();
    let trimmed = match text.split_once('.') {
        Some((whole, fraction)) => match fraction.trim_end_matches('0') {
            "" => whole.to_owned(),
            kept => format!("{whole}.{kept}"),
        },
        None => text.to_owned(),
    };
    Money::parse_non_negative(&trimmed, currency).map_err(|e| e.expected().to_owned())
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, in any case.
pub fn flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("true or false".to_owned()),
    }
}

/// A whole number of people, such as `250` or `1,200`.
pub fn count(text: &str) -> Result<u32, String> {
    let digits: String = text.chars().filter(|c| *c != ',').collect();
    // Some exports write whole numbers as `250.0`.
    let digits = digits.strip_suffix(".0").unwrap_or(&digits);
    digits
        .parse()
        .map_err(|_| "a whole number such as 250".to_owned())
}

/// A Salesforce record id in its 18-character form. Ids copied from the user interface or
/// reports have 15 case-sensitive characters; exports have 18, the last three encoding the
/// case of the first fifteen. Both name the same record, so both are keyed by the 18.
pub fn salesforce_id(text: &str) -> Result<String, String> {
    let text = text.trim();
    let valid = text.bytes().all(|b| b.is_ascii_alphanumeric());
    match text.len() {
        18 if valid => Ok(text.to_owned()),
        15 if valid => {
            const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
            let mut id = text.to_owned();
            for chunk in text.as_bytes().chunks(5) {
                let bits = chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.is_ascii_uppercase())
                    .fold(0usize, |bits, (i, _)| bits | (1 << i));
                id.push(char::from(ALPHABET[bits]));
            }
            Ok(id)
        }
        _ => Err("a Salesforce id of 15 or 18 letters and digits".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn iso_dates_and_times_in_the_forms_exports_write() {
        let d = |s| DateStyle::Iso.date(s);
        assert_eq!(
            d("2025-03-04"),
            Ok(NaiveDate::from_ymd_opt(2025, 3, 4).unwrap())
        );
        let t = |s| DateStyle::Iso.time(s).unwrap();
        assert_eq!(t("2025-03-04T14:05:00.000Z"), at("2025-03-04T14:05:00Z"));
        assert_eq!(
            t("2025-03-04T14:05:00.000+0000"),
            at("2025-03-04T14:05:00Z")
        );
        assert_eq!(t("2025-03-04T16:05:00+02:00"), at("2025-03-04T14:05:00Z"));
        assert_eq!(t("2025-03-04 14:05"), at("2025-03-04T14:05:00Z"));
        assert_eq!(t("2025-03-04"), at("2025-03-04T00:00:00Z"));
        assert_eq!(t("1741097100000"), at("2025-03-04T14:05:00Z"));
    }

    #[test]
    fn us_and_day_first_dates_read_the_same_text_as_different_days() {
        let march_4 = NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
        assert_eq!(DateStyle::Us.date("3/4/2025"), Ok(march_4));
        assert_eq!(DateStyle::Eu.date("4/3/2025"), Ok(march_4));
        assert_eq!(DateStyle::Eu.date("04.03.2025"), Ok(march_4));
        assert_eq!(
            DateStyle::Us.time("3/4/2025 2:05 PM").unwrap(),
            at("2025-03-04T14:05:00Z")
        );
        assert_eq!(
            DateStyle::Eu.time("4.3.2025 14:05").unwrap(),
            at("2025-03-04T14:05:00Z")
        );
    }

    #[test]
    fn dates_in_another_style_are_refused_with_an_example() {
        assert_eq!(
            DateStyle::Iso.date("3/4/2025"),
            Err("a date such as 2025-03-04 or 2025-03-04T14:05:00Z".into())
        );
        assert!(DateStyle::Us.date("2025-03-04").is_err());
        assert!(DateStyle::Us.date("13/4/2025").is_err(), "no month 13");
        assert!(
            DateStyle::Eu.date("4/3/25").is_err(),
            "two-digit years are ambiguous"
        );
        assert!(DateStyle::Iso.date("0001-01-01").is_err());
    }

    #[test]
    fn salesforce_15_character_ids_get_their_checksum() {
        // The case-encoding suffix of a known id pair.
        assert_eq!(
            salesforce_id("0065e00000AbCdE"),
            Ok("0065e00000AbCdEAAV".into())
        );
        assert_eq!(
            salesforce_id("001000000000001"),
            Ok("001000000000001AAA".into())
        );
        assert_eq!(
            salesforce_id("0065e00000AbCdEAAV"),
            Ok("0065e00000AbCdEAAV".into())
        );
        assert!(salesforce_id("006-bad").is_err());
    }

    #[test]
    fn amounts_keep_every_significant_decimal_of_their_currency() {
        let usd: Currency = "USD".parse().unwrap();
        let jpy: Currency = "JPY".parse().unwrap();
        assert_eq!(amount("12,500.50", usd), Ok(Money::new(1_250_050, usd)));
        assert_eq!(amount("12500.5", usd), Ok(Money::new(1_250_050, usd)));
        assert_eq!(amount("12500", usd), Ok(Money::new(1_250_000, usd)));
        assert_eq!(amount("1000.00", jpy), Ok(Money::new(1000, jpy)));
        assert!(amount("1000.50", jpy).is_err(), "yen have no decimals");
        assert!(amount("-5", usd).is_err());
        assert!(amount("12.505", usd).is_err());
    }

    #[test]
    fn flags_and_counts() {
        assert_eq!(flag("TRUE"), Ok(true));
        assert_eq!(flag("0"), Ok(false));
        assert!(flag("maybe").is_err());
        assert_eq!(count("1,200"), Ok(1200));
        assert_eq!(count("250.0"), Ok(250));
        assert!(count("-3").is_err());
    }
}
