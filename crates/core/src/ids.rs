//! Typed identifiers. Every record is identified by a UUIDv7 made by the application, so ids
//! sort by creation time and need no database sequence.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::InvalidValue;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id for a record created now.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// An id for a record created at `unix_millis`, with caller-supplied random bits;
            /// used where ids must be reproducible (the demo generator).
            pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> Self {
                Self(uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| InvalidValue::new(s, "an id such as 0190c5d2-7a1e-7cc0-b3a4-5f1d2e3c4b5a"))
            }
        }
    };
}

id_type!(
    /// A tenant: every other record belongs to exactly one workspace.
    WorkspaceId
);
id_type!(UserId);
id_type!(TeamId);
id_type!(AccountId);
id_type!(ContactId);
id_type!(LeadId);
id_type!(OpportunityId);
id_type!(ActivityId);
id_type!(TargetId);
id_type!(
    /// A forecast call or adjustment.
    SubmissionId
);
id_type!(
    /// A forecast frozen at a moment.
    SnapshotId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_parts_sort_by_time() {
        let early = OpportunityId::from_parts(1_700_000_000_000, [0xff; 10]);
        let late = OpportunityId::from_parts(1_700_000_000_001, [0; 10]);
        assert!(early < late);
        assert_eq!(early.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn parse_rejects_garbage_naming_the_value() {
        let error = "not-an-id".parse::<AccountId>().unwrap_err();
        assert_eq!(error.value(), "not-an-id");
    }

    #[test]
    fn parse_round_trips() {
        let id = UserId::generate();
        assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
    }
}
id_type!(
    /// A signed-in browser session.
    SessionId
);
id_type!(
    /// An API token a program authenticates with.
    TokenId
);
id_type!(
    /// A webhook subscription.
    WebhookId
);
