//! Validated text values: names, short labels, notes, e-mail addresses, web domains and slugs.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::validation::InvalidValue;

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, max = $max:expr, what = $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Trims surrounding white space; refuses empty text, control characters other
            /// than line breaks and tabs, and text longer than [`Self::MAX_CHARS`].
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                let trimmed = text.trim();
                let fits = !trimmed.is_empty()
                    && trimmed.chars().count() <= Self::MAX_CHARS
                    && !trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
                if fits {
                    Ok(Self(trimmed.to_owned()))
                } else {
                    Err(InvalidValue::new(
                        text,
                        format!("{} of 1 to {} characters", $what, Self::MAX_CHARS),
                    ))
                }
            }
        }

        string_conversions!($name);
    };
}

bounded_text!(
    /// The name of a person, company, deal or team.
    Name, max = 200, what = "a name"
);
bounded_text!(
    /// A short categorical value: segment, source, region, industry, competitor, outcome.
    Label, max = 80, what = "a label"
);
bounded_text!(
    /// Free text a person wrote: a reason, a next step, a judgment.
    Note, max = 2000, what = "a note"
);

/// An e-mail address; compared and stored in lower case.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let trimmed = text.trim();
        let valid = email_address::EmailAddress::from_str(trimmed)
            .ok()
            // Addresses people type into a CRM have a dotted domain; `root@localhost` is a typo.
            .filter(|address| address.domain().contains('.'));
        match valid {
            Some(_) => Ok(Self(trimmed.to_lowercase())),
            None => Err(InvalidValue::new(
                text,
                "an e-mail address such as ana@example.com",
            )),
        }
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

string_conversions!(Email);

/// A phone number as written (`+49 30 1234567`, `(555) 010-2030`): digits with an optional
/// leading `+`, spaces, dashes, dots and parentheses; 6 to 15 digits.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let trimmed = text.trim();
        let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
        let digits = body.chars().filter(char::is_ascii_digit).count();
        let allowed = body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
        if allowed && (6..=15).contains(&digits) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidValue::new(
                text,
                "a phone number of 6 to 15 digits, such as +49 30 1234567",
            ))
        }
    }
}

string_conversions!(Phone);

/// A company's web domain, normalised so duplicates compare equal:
/// `https://www.Acme.com/about` becomes `acme.com`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct WebDomain(String);

impl WebDomain {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let lower = text.trim().to_lowercase();
        let rest = lower
            .split_once("://")
            .map_or(lower.as_str(), |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_and_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let host = host_and_port
            .split(':')
            .next()
            .unwrap_or_default()
            .trim_end_matches('.');
        let host = host.strip_prefix("www.").unwrap_or(host);
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        let labels: Vec<&str> = host.split('.').collect();
        let valid = labels.len() >= 2
            && host.len() <= 253
            && labels.iter().all(|l| label_ok(l))
            && labels
                .last()
                .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_alphabetic()));
        if valid {
            Ok(Self(host.to_owned()))
        } else {
            Err(InvalidValue::new(text, "a web domain such as acme.com"))
        }
    }
}

string_conversions!(WebDomain);

/// A short lower-case handle used in URLs (`acme-sales`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let valid = !text.is_empty()
            && text.len() <= Self::MAX_CHARS
            && !text.starts_with('-')
            && !text.ends_with('-')
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidValue::new(
                text,
                format!(
                    "1 to {} lower-case letters, digits and inner hyphens, such as acme-sales",
                    Self::MAX_CHARS
                ),
            ))
        }
    }
}

string_conversions!(Slug);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Acme renewal ").unwrap().as_str(),
            "Acme renewal"
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"n".repeat(201)).is_err());
        assert!(Name::parse(&"n".repeat(200)).is_ok());
        assert!(Label::parse("bell\u{7}").is_err());
        assert!(Note::parse("line one\nline two").is_ok());
    }

    #[test]
    fn phone_numbers_take_6_to_15_digits_and_common_punctuation() {
        assert_eq!(
            Phone::parse(" +49 30 1234567 ").unwrap().as_str(),
            "+49 30 1234567"
        );
        assert!(Phone::parse("(555) 010-2030").is_ok());
        for bad in [
            "12345",
            "+1234567890123456",
            "call me",
            "555 010 ext 4",
            "++4930123456",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse(" Ana.Ruiz@Example.COM ").unwrap().as_str(),
            "ana.ruiz@example.com"
        );
        assert_eq!(
            Email::parse("ana@example.com").unwrap().domain(),
            "example.com"
        );
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@@example.com",
            "ana@localhost",
            "a na@x.com",
        ] {
            let error = Email::parse(bad).unwrap_err();
            assert_eq!(error.value(), bad);
        }
    }

    #[test]
    fn domains_are_normalised() {
        for (given, expected) in [
            ("acme.com", "acme.com"),
            ("https://www.Acme.com/about?x=1", "acme.com"),
            ("http://sales.acme.co.uk:8080", "sales.acme.co.uk"),
            ("WWW.ACME.COM.", "acme.com"),
        ] {
            assert_eq!(
                WebDomain::parse(given).unwrap().as_str(),
                expected,
                "{given}"
            );
        }
        for bad in [
            "acme",
            "acme..com",
            "-acme.com",
            "acme.c0m",
            "",
            "acme com.org",
        ] {
            assert!(WebDomain::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_are_url_safe() {
        assert!(Slug::parse("acme-sales").is_ok());
        for bad in ["Acme", "-acme", "acme-", "acme sales", "", "ünï"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
