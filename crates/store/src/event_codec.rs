//! How an event's change is stored: its kind in the `kind` column and its fields as JSON in
//! `data` (`JSONB` on PostgreSQL, TEXT on SQLite).

use pipewise_core::opportunity::{Change, EventKind};
use serde::{Serialize, Serializer};

/// Serialises only the fields of a change; the kind goes in its own column.
pub(crate) struct EventData<'a>(pub &'a Change);

impl Serialize for EventData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Change::Created(data) => data.serialize(serializer),
            Change::StageChanged(data) => data.serialize(serializer),
            Change::AmountChanged(data) => data.serialize(serializer),
            Change::CloseDateChanged(data) => data.serialize(serializer),
            Change::CategoryOverridden(data) => data.serialize(serializer),
            Change::OwnerChanged(data) => data.serialize(serializer),
            Change::ClosedWon(data) => data.serialize(serializer),
            Change::ClosedLost(data) => data.serialize(serializer),
            Change::Reopened(data) => data.serialize(serializer),
            Change::FieldChanged(data) => data.serialize(serializer),
            Change::EvidenceRecorded(data) => data.serialize(serializer),
        }
    }
}

/// Rebuilds a change from its stored kind and JSON fields.
pub(crate) fn decode_change(kind: &str, data: &str) -> Result<Change, String> {
    let kind: EventKind = kind.parse().map_err(|e| format!("event kind: {e}"))?;
    let change = match kind {
        EventKind::Created => serde_json::from_str(data).map(Change::Created),
        EventKind::StageChanged => serde_json::from_str(data).map(Change::StageChanged),
        EventKind::AmountChanged => serde_json::from_str(data).map(Change::AmountChanged),
        EventKind::CloseDateChanged => serde_json::from_str(data).map(Change::CloseDateChanged),
        EventKind::CategoryOverridden => serde_json::from_str(data).map(Change::CategoryOverridden),
        EventKind::OwnerChanged => serde_json::from_str(data).map(Change::OwnerChanged),
        EventKind::ClosedWon => serde_json::from_str(data).map(Change::ClosedWon),
        EventKind::ClosedLost => serde_json::from_str(data).map(Change::ClosedLost),
        EventKind::Reopened => serde_json::from_str(data).map(Change::Reopened),
        EventKind::FieldChanged => serde_json::from_str(data).map(Change::FieldChanged),
        EventKind::EvidenceRecorded => serde_json::from_str(data).map(Change::EvidenceRecorded),
    };
    change.map_err(|e| format!("{kind} event data: {e}"))
}
