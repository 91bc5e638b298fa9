//! Money as integer minor units with an ISO 4217 currency. No floating point anywhere money is
//! stored or summed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::validation::InvalidValue;

/// Active ISO 4217 codes with their number of minor-unit digits.
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3),
    ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2),
    ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLF", 4),
    ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2),
    ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2),
    ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2),
    ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0),
    ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0),
    ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2),
    ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2),
    ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2),
    ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
    ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2),
    ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3),
    ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0),
    ("USD", 2), ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0),
    ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0),
    ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// An ISO 4217 currency code, such as `USD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    minor_digits: u8,
}

impl Currency {
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_digits: 2,
    };
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        minor_digits: 2,
    };
    pub const GBP: Currency = Currency {
        code: *b"GBP",
        minor_digits: 2,
    };

    pub fn code(&self) -> &str {
        // The code bytes come from ISO_4217, which is ASCII.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point: 2 for USD, 0 for JPY, 3 for KWD.
    pub fn minor_digits(&self) -> u8 {
        self.minor_digits
    }

    fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.minor_digits))
    }
}

impl FromStr for Currency {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_uppercase();
        ISO_4217
            .iter()
            .find(|(code, _)| *code == wanted)
            .map(|(code, digits)| Currency {
                code: [code.as_bytes()[0], code.as_bytes()[1], code.as_bytes()[2]],
                minor_digits: *digits,
            })
            .ok_or_else(|| {
                InvalidValue::new(s, "an ISO 4217 currency code such as USD, EUR or GBP")
            })
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in a currency's minor units (cents for USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a decimal amount in major units (`"12500"`, `"12500.50"`, `"12,500.50"`) as an
    /// amount of zero or more, with no more decimals than the currency has.
    pub fn parse_non_negative(text: &str, currency: Currency) -> Result<Self, InvalidValue> {
        let expected = || {
            format!(
                "an amount of zero or more in {currency}, with at most {} decimals, such as 12500.{}",
                currency.minor_digits(),
                "0".repeat(usize::from(currency.minor_digits()))
            )
        };
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        let (whole, fraction) = match cleaned.split_once('.') {
            Some((_, "")) => return Err(InvalidValue::new(text, expected())),
            Some(parts) => parts,
            None => (cleaned.as_str(), ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || fraction.len() > usize::from(currency.minor_digits())
        {
            return Err(InvalidValue::new(text, expected()));
        }
        let padded = format!(
            "{fraction:0<width$}",
            width = usize::from(currency.minor_digits())
        );
        let minor = whole
            .parse::<i64>()
            .ok()
            .and_then(|w| w.checked_mul(currency.minor_per_major()))
            .and_then(|w| w.checked_add(padded.parse::<i64>().unwrap_or(0)))
            .ok_or_else(|| InvalidValue::new(text, expected()))?;
        Ok(Self { minor, currency })
    }

    /// Parses an amount given as a whole number of minor units (cents for USD).
    pub fn parse_minor_non_negative(text: &str, currency: Currency) -> Result<Self, InvalidValue> {
        match text.trim().parse::<i64>() {
            Ok(minor) if minor >= 0 => Ok(Self { minor, currency }),
            _ => Err(InvalidValue::new(
                text,
                format!("a whole number of {currency} minor units, zero or more"),
            )),
        }
    }
}

impl fmt::Display for Money {
    /// `12500.50 USD`, exact to the minor unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_major = self.currency.minor_per_major();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let whole = abs / per_major.unsigned_abs();
        let fraction = abs % per_major.unsigned_abs();
        match self.currency.minor_digits() {
            0 => write!(f, "{sign}{whole} {}", self.currency),
            digits => write!(
                f,
                "{sign}{whole}.{fraction:0width$} {}",
                self.currency,
                width = usize::from(digits)
            ),
        }
    }
}

/// Travels as its code, like the serde form.
impl schemars::JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z]{3}$",
            "description": "An ISO 4217 currency code, such as `USD`."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(text: &str) -> Result<Money, InvalidValue> {
        Money::parse_non_negative(text, Currency::USD)
    }

    #[test]
    fn currency_codes_are_checked_against_iso_4217() {
        assert_eq!("usd".parse::<Currency>().unwrap(), Currency::USD);
        assert_eq!("JPY".parse::<Currency>().unwrap().minor_digits(), 0);
        assert_eq!("KWD".parse::<Currency>().unwrap().minor_digits(), 3);
        let error = "XYZ".parse::<Currency>().unwrap_err();
        assert_eq!(error.value(), "XYZ");
        assert!("US".parse::<Currency>().is_err());
        assert!("".parse::<Currency>().is_err());
    }

    #[test]
    fn amounts_parse_to_exact_minor_units() {
        assert_eq!(usd("12500").unwrap().minor, 1_250_000);
        assert_eq!(usd("12,500.5").unwrap().minor, 1_250_050);
        assert_eq!(usd("0.07").unwrap().minor, 7);
        assert_eq!(usd(" 3 ").unwrap().minor, 300);
        let yen: Currency = "JPY".parse().unwrap();
        assert_eq!(Money::parse_non_negative("1500", yen).unwrap().minor, 1500);
    }

    #[test]
    fn bad_amounts_are_refused_with_the_value() {
        for bad in [
            "-5",
            "abc",
            "",
            "1.234",
            "1e6",
            "12.",
            ".5",
            "99999999999999999999",
        ] {
            let error = usd(bad).unwrap_err();
            assert_eq!(error.value(), bad, "{bad}");
        }
        let yen: Currency = "JPY".parse().unwrap();
        assert!(Money::parse_non_negative("10.5", yen).is_err());
    }

    #[test]
    fn minor_unit_amounts_must_be_whole_and_non_negative() {
        assert_eq!(
            Money::parse_minor_non_negative("1999", Currency::EUR)
                .unwrap()
                .minor,
            1999
        );
        assert!(Money::parse_minor_non_negative("-1", Currency::EUR).is_err());
        assert!(Money::parse_minor_non_negative("19.99", Currency::EUR).is_err());
    }

    #[test]
    fn display_is_exact() {
        assert_eq!(
            Money::new(1_250_050, Currency::USD).to_string(),
            "12500.50 USD"
        );
        assert_eq!(Money::new(-7, Currency::USD).to_string(), "-0.07 USD");
        let yen: Currency = "JPY".parse().unwrap();
        assert_eq!(Money::new(1500, yen).to_string(), "1500 JPY");
    }

    #[test]
    fn serde_uses_the_code() {
        let json = serde_json::to_string(&Money::new(5, Currency::GBP)).unwrap();
        assert_eq!(json, r#"{"minor":5,"currency":"GBP"}"#);
        assert!(serde_json::from_str::<Money>(r#"{"minor":5,"currency":"ZZZ"}"#).is_err());
    }
}
