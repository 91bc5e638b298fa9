//! Errors for values that come from outside the process: what was given, where, and what
//! would have been accepted.

use std::fmt;

/// Longest excerpt of a rejected value echoed back in a message; the rest is elided so a
/// pasted document does not flood logs or API responses.
const MAX_ECHOED_CHARS: usize = 60;

/// A value that does not parse, with a description of what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// `None` when a required value was not given at all.
    value: Option<String>,
    expected: String,
}

impl InvalidValue {
    pub fn new(value: &str, expected: impl Into<String>) -> Self {
        Self {
            value: Some(excerpt(value)),
            expected: expected.into(),
        }
    }

    /// A required value that was not given.
    pub fn missing(expected: impl Into<String>) -> Self {
        Self {
            value: None,
            expected: expected.into(),
        }
    }

    /// The rejected value as given (shortened if very long); empty when missing.
    pub fn value(&self) -> &str {
        self.value.as_deref().unwrap_or_default()
    }

    pub fn is_missing(&self) -> bool {
        self.value.is_none()
    }

    /// What would have been accepted.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// Places this error at a field.
    pub fn at(self, field: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            problem: self,
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "`{value}` is not accepted: {}", self.expected),
            None => write!(f, "required: {}", self.expected),
        }
    }
}

impl std::error::Error for InvalidValue {}

fn excerpt(value: &str) -> String {
    match value.char_indices().nth(MAX_ECHOED_CHARS) {
        None => value.to_owned(),
        Some((cut, _)) => format!("{}…", &value[..cut]),
    }
}

/// An invalid value at a named field (a dotted path such as `next_step.due`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    field: String,
    problem: InvalidValue,
}

impl FieldError {
    pub fn field(&self) -> &str {
        &self.field
    }

    pub fn value(&self) -> &str {
        self.problem.value()
    }

    pub fn expected(&self) -> &str {
        self.problem.expected()
    }
}

/// Every invalid field of one input, so a user can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Collects field errors while an input is parsed field by field.
///
/// ```
/// use pipewise_core::validation::Fields;
/// use pipewise_core::money::Currency;
///
/// let mut fields = Fields::default();
/// let currency = fields.check("currency", "usd".parse::<Currency>());
/// let other = fields.check("other_currency", "XYZ".parse::<Currency>());
/// let errors = fields.finish().unwrap_err();
/// assert_eq!(errors.len(), 1);
/// assert!(currency.is_some() && other.is_none());
/// ```
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Records the error of `result`, if any, at `field`; returns the value otherwise.
    pub fn check<T>(&mut self, field: &str, result: Result<T, InvalidValue>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.errors.push(problem.at(field));
                None
            }
        }
    }

    /// Like [`Fields::check`] for an optional input: absent or blank is `None`, not an error.
    pub fn check_optional<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        match raw.map(str::trim) {
            None | Some("") => None,
            Some(text) => self.check(field, parse(text)),
        }
    }

    /// Parses a required input; absent or blank is reported as missing, with the same
    /// description of what is accepted that a wrong value would get.
    pub fn require<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl Fn(&str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        match raw.map(str::trim) {
            None | Some("") => {
                let expected = parse("").err().map(|e| e.expected).unwrap_or_default();
                self.errors.push(InvalidValue::missing(expected).at(field));
                None
            }
            Some(text) => self.check(field, parse(text)),
        }
    }

    /// Records an error that is not the parse of a single value.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// The value `make` builds from the parsed fields, or every field error. `make` returns
    /// `None` only when a field it needs failed to parse, which [`Fields::require`] and
    /// [`Fields::check`] have recorded.
    pub fn build<T>(self, make: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        self.finish()?;
        make().ok_or_else(|| {
            InvalidValue::missing("every required field")
                .at("input")
                .into()
        })
    }

    /// `Ok(())` when no field was invalid.
    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(FieldErrors(self.errors))
        }
    }
}

/// For fields of a change that may be absent (leave as is), `null` (clear) or a value (set):
/// use with `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let error = InvalidValue::new(&long, "a short name").at("name");
        assert_eq!(error.value().chars().count(), MAX_ECHOED_CHARS + 1);
        assert!(error.to_string().starts_with("name: `xxx"));
        assert!(
            error
                .to_string()
                .ends_with("…` is not accepted: a short name")
        );
    }

    #[test]
    fn missing_values_say_what_is_required() {
        let mut fields = Fields::default();
        let name = fields.require("name", Some("  "), crate::text::Name::parse);
        assert!(name.is_none());
        assert_eq!(
            fields.finish().unwrap_err().to_string(),
            "name: required: a name of 1 to 200 characters"
        );
    }

    #[test]
    fn every_error_is_listed() {
        let mut fields = Fields::default();
        fields.push(InvalidValue::new("-5", "an amount of zero or more").at("amount"));
        fields.push(InvalidValue::new("2026-13-01", "a date as YYYY-MM-DD").at("close_date"));
        let errors = fields.finish().unwrap_err();
        assert_eq!(
            errors.to_string(),
            "amount: `-5` is not accepted: an amount of zero or more; \
             close_date: `2026-13-01` is not accepted: a date as YYYY-MM-DD"
        );
    }
}
