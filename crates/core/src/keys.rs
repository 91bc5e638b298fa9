//! Identifiers people write in process files: stage, process, criterion, checklist, milestone
//! and success-criterion keys. Lower-case words joined by underscores, so they read the same in
//! TOML, JSON, SQL and URLs.

use serde::{Deserialize, Serialize};

use crate::validation::InvalidValue;

/// Longest key.
const MAX_KEY_CHARS: usize = 40;

fn parse_key(text: &str, example: &str) -> Result<String, InvalidValue> {
    let valid = !text.is_empty()
        && text.len() <= MAX_KEY_CHARS
        && text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(InvalidValue::new(
            text,
            format!(
                "1 to {MAX_KEY_CHARS} lower-case letters, digits and underscores, such as {example}"
            ),
        ))
    }
}

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident, example = $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                parse_key(text, $example).map(Self)
            }
        }

        string_conversions!($name);
    };
}

key_type!(
    /// Identifies a stage within a process, such as `business_case`.
    StageKey, example = "business_case"
);
key_type!(
    /// Identifies a process within a workspace, such as `enterprise`.
    ProcessKey, example = "enterprise"
);
key_type!(
    /// Identifies a named criterion within a process, such as `impact_quantified`.
    CriterionKey, example = "impact_quantified"
);
key_type!(
    /// Identifies an item on a deal: a checklist item, a mutual action plan milestone or a
    /// success criterion, such as `security_review`.
    ItemKey, example = "security_review"
);

key_type!(
    /// Identifies a kind of buyer intent signal in the lead rubric, such as `demo_request`.
    SignalKey, example = "demo_request"
);
