//! Converting amounts into the corporate currency with dated exchange rates, exactly: rates
//! are decimals with up to nine places, and each converted amount is rounded once, half away
//! from zero, to the corporate currency's minor unit.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;

use crate::money::{Currency, Money};
use crate::validation::InvalidValue;

/// Billionths in one.
const BILLION: i128 = 1_000_000_000;

/// Corporate-currency units for one unit of another currency, such as `1.0825` (EUR → USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate {
    per_billion: i64,
}

impl Rate {
    /// A positive decimal with at most nine places.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let refuse = || {
            InvalidValue::new(
                text,
                "a positive rate with up to nine decimals, such as 1.0825",
            )
        };
        let trimmed = text.trim();
        let (whole, fraction) = trimmed.split_once('.').unwrap_or((trimmed, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 9 {
            return Err(refuse());
        }
        let whole: i64 = whole.parse().map_err(|_| refuse())?;
        let padded = format!("{fraction:0<9}");
        let fraction: i64 = padded.parse().map_err(|_| refuse())?;
        let per_billion = whole
            .checked_mul(1_000_000_000)
            .and_then(|w| w.checked_add(fraction))
            .filter(|v| *v > 0)
            .ok_or_else(refuse)?;
        Ok(Self { per_billion })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.per_billion / 1_000_000_000;
        let fraction = format!("{:09}", self.per_billion % 1_000_000_000);
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{fraction}")
        }
    }
}

/// One stored rate: corporate-currency units for one unit of `currency`, from `valid_from`
/// until the currency's next rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeRate {
    pub currency: Currency,
    pub valid_from: NaiveDate,
    pub rate: Rate,
}

/// An amount that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error("no {currency} to {corporate} exchange rate on or before {on}")]
    MissingRate {
        currency: Currency,
        corporate: Currency,
        on: NaiveDate,
    },
    #[error("{money} is too large to convert into {corporate}")]
    TooLarge { money: Money, corporate: Currency },
}

/// A workspace's exchange rates into its corporate currency, each in force from its date
/// until the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRates {
    corporate: Currency,
    rates: BTreeMap<Currency, BTreeMap<NaiveDate, Rate>>,
}

impl ExchangeRates {
    /// No rates yet: only amounts already in `corporate` convert.
    pub fn new(corporate: Currency) -> Self {
        Self {
            corporate,
            rates: BTreeMap::new(),
        }
    }

    pub fn corporate(&self) -> Currency {
        self.corporate
    }

    /// The rates of `stored`; a rate for the corporate currency itself is ignored (it is 1).
    pub fn with(corporate: Currency, stored: &[ExchangeRate]) -> Self {
        let mut rates = Self::new(corporate);
        for r in stored.iter().filter(|r| r.currency != corporate) {
            rates.set(r.currency, r.valid_from, r.rate);
        }
        rates
    }

    /// Sets the rate of `currency` from `from` on.
    pub fn set(&mut self, currency: Currency, from: NaiveDate, rate: Rate) {
        self.rates.entry(currency).or_default().insert(from, rate);
    }

    /// `money` in corporate minor units at the rate in force on `on`.
    pub fn convert(&self, money: Money, on: NaiveDate) -> Result<i64, ConversionError> {
        if money.currency == self.corporate {
            return Ok(money.minor);
        }
        let missing = || ConversionError::MissingRate {
            currency: money.currency,
            corporate: self.corporate,
            on,
        };
        let too_large = || ConversionError::TooLarge {
            money,
            corporate: self.corporate,
        };
        let rate = self
            .rates
            .get(&money.currency)
            .and_then(|by_day| by_day.range(..=on).next_back())
            .map(|(_, rate)| rate.per_billion)
            .ok_or_else(missing)?;
        let scale = |digits: u8| 10_i128.pow(u32::from(digits));
        let numerator = i128::from(money.minor)
            .checked_mul(i128::from(rate))
            .and_then(|n| n.checked_mul(scale(self.corporate.minor_digits())))
            .ok_or_else(too_large)?;
        let denominator = BILLION * scale(money.currency.minor_digits());
        let (quotient, remainder) = (numerator / denominator, numerator % denominator);
        let rounded = if 2 * remainder.abs() >= denominator {
            quotient + numerator.signum()
        } else {
            quotient
        };
        i64::try_from(rounded).map_err(|_| too_large())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_print_as_they_are_written() {
        for text in ["1.0825", "2", "0.000000001", "125.5"] {
            assert_eq!(Rate::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Rate::parse("1.10").unwrap().to_string(), "1.1");
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, code.parse().unwrap())
    }

    fn rates() -> ExchangeRates {
        let mut rates = ExchangeRates::new(Currency::USD);
        rates.set(
            Currency::EUR,
            day("2026-01-01"),
            Rate::parse("1.0825").unwrap(),
        );
        rates.set(
            Currency::EUR,
            day("2026-02-01"),
            Rate::parse("1.25").unwrap(),
        );
        rates.set(
            "JPY".parse().unwrap(),
            day("2026-01-01"),
            Rate::parse("0.0067").unwrap(),
        );
        rates.set(
            "KWD".parse().unwrap(),
            day("2026-01-01"),
            Rate::parse("3.25").unwrap(),
        );
        rates
    }

    #[test]
    fn amounts_convert_at_the_rate_in_force_on_the_day() {
        let rates = rates();
        // €1,000.00 at 1.0825 is $1,082.50; from February at 1.25, $1,250.00.
        assert_eq!(
            rates.convert(money(100_000, "EUR"), day("2026-01-31")),
            Ok(108_250)
        );
        assert_eq!(
            rates.convert(money(100_000, "EUR"), day("2026-02-01")),
            Ok(125_000)
        );
        // ¥1,000 (no minor unit) at 0.0067 is $6.70; KWD 1.000 (three places) at 3.25, $3.25.
        assert_eq!(
            rates.convert(money(1_000, "JPY"), day("2026-03-01")),
            Ok(670)
        );
        assert_eq!(
            rates.convert(money(1_000, "KWD"), day("2026-03-01")),
            Ok(325)
        );
        assert_eq!(
            rates.convert(money(4_200, "USD"), day("2020-01-01")),
            Ok(4_200)
        );
    }

    #[test]
    fn each_amount_is_rounded_once_half_away_from_zero() {
        let rates = rates();
        // €0.06 at 1.0825 is 6.495 cents; €0.02 at 1.25 is 2.5 cents; −€0.02 is −2.5.
        assert_eq!(rates.convert(money(6, "EUR"), day("2026-01-15")), Ok(6));
        assert_eq!(rates.convert(money(2, "EUR"), day("2026-02-15")), Ok(3));
        assert_eq!(rates.convert(money(-2, "EUR"), day("2026-02-15")), Ok(-3));
    }

    #[test]
    fn a_missing_rate_names_the_currency_and_day() {
        let error = rates()
            .convert(money(100, "EUR"), day("2025-12-31"))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "no EUR to USD exchange rate on or before 2025-12-31"
        );
        assert!(
            rates()
                .convert(money(100, "GBP"), day("2026-06-01"))
                .is_err()
        );
    }

    #[test]
    fn rates_are_positive_decimals_with_at_most_nine_places() {
        assert_eq!(
            Rate::parse("1").unwrap(),
            Rate {
                per_billion: 1_000_000_000
            }
        );
        assert_eq!(Rate::parse("0.000000001").unwrap(), Rate { per_billion: 1 });
        for bad in ["0", "-1.2", "1.0000000001", "1,08", "", ".5", "abc"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod overflow {
    use super::*;

    #[test]
    fn an_amount_too_large_for_the_corporate_currency_says_so() {
        let mut rates = ExchangeRates::new(Currency::USD);
        let day: NaiveDate = "2026-01-01".parse().unwrap();
        rates.set(Currency::EUR, day, Rate::parse("900000000").unwrap());
        let error = rates
            .convert(Money::new(i64::MAX / 2, Currency::EUR), day)
            .unwrap_err();
        assert!(matches!(error, ConversionError::TooLarge { .. }), "{error}");
        assert!(
            error
                .to_string()
                .ends_with("is too large to convert into USD")
        );
    }
}
