//! Macros for the value types that travel as text.
//!
//! `text_enum!`: enums stored and exchanged as fixed lower-case words (`closed_won`), so the
//! database holds readable TEXT with a CHECK constraint and the API speaks the same words.
//! `string_conversions!`: the conversions every validated string newtype shares.

/// Declares an enum whose variants map one-to-one to words; generates `as_str`, `ALL`,
/// `FromStr` (naming every accepted word when a value is refused), `Display` and serde.
macro_rules! text_enum {
    (
        $(#[$doc:meta])*
        $vis:vis enum $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $word:literal ),+ $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name { $( $(#[$vdoc])* $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::validation::InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| {
                        let words: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::validation::InvalidValue::new(s, format!("one of {}", words.join(", ")))
                    })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({ "type": "string", "enum": [$($word),+] })
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

/// The conversions every validated string type shares; `parse` holds the rules.
macro_rules! string_conversions {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::validation::InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::validation::InvalidValue;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
