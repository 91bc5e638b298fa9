//! The audit trail of CRM records: every creation, change and deletion of an account,
//! contact, lead, activity or target is kept as a [`RecordChange`] naming who made it, when,
//! and the values of the fields it touched before and after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Account, Activity, Contact, Lead, Target};
use crate::ids::{LeadId, UserId};

text_enum! {
    /// The kinds of CRM record with a version and an audit trail.
    pub enum CrmKind {
        Account = "account",
        Contact = "contact",
        Lead = "lead",
        Activity = "activity",
        Target = "target",
    }
}

text_enum! {
    pub enum RecordAction {
        Created = "created",
        Changed = "changed",
        Deleted = "deleted",
    }
}

/// One CRM record of any kind, as it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrmRecord {
    Account(Account),
    Contact(Contact),
    /// Boxed: a lead carries the evidence behind its scores.
    Lead(Box<Lead>),
    Activity(Activity),
    Target(Target),
}

impl CrmRecord {
    pub fn kind(&self) -> CrmKind {
        match self {
            CrmRecord::Account(_) => CrmKind::Account,
            CrmRecord::Contact(_) => CrmKind::Contact,
            CrmRecord::Lead(_) => CrmKind::Lead,
            CrmRecord::Activity(_) => CrmKind::Activity,
            CrmRecord::Target(_) => CrmKind::Target,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            CrmRecord::Account(r) => r.id.as_uuid(),
            CrmRecord::Contact(r) => r.id.as_uuid(),
            CrmRecord::Lead(r) => r.id.as_uuid(),
            CrmRecord::Activity(r) => r.id.as_uuid(),
            CrmRecord::Target(r) => r.id.as_uuid(),
        }
    }

    pub fn version(&self) -> u32 {
        match self {
            CrmRecord::Account(r) => r.version,
            CrmRecord::Contact(r) => r.version,
            CrmRecord::Lead(r) => r.version,
            CrmRecord::Activity(r) => r.version,
            CrmRecord::Target(r) => r.version,
        }
    }

    /// The leads whose sales queue standing `change`, a write of this record, may alter:
    /// the lead itself, or the leads an activity is logged on now and was logged on before.
    pub fn leads_concerned(&self, change: &RecordChange) -> Vec<LeadId> {
        match self {
            CrmRecord::Lead(lead) => vec![lead.id],
            CrmRecord::Activity(activity) => {
                let before = change
                    .before
                    .get("lead_id")
                    .and_then(Value::as_str)
                    .and_then(|id| id.parse::<LeadId>().ok());
                let mut leads: Vec<LeadId> = activity.lead_id.into_iter().chain(before).collect();
                leads.dedup();
                leads
            }
            CrmRecord::Account(_) | CrmRecord::Contact(_) | CrmRecord::Target(_) => Vec::new(),
        }
    }

    /// The record's fields as JSON, by name, leaving out its id and version.
    fn fields(&self) -> Map<String, Value> {
        let value = match self {
            CrmRecord::Account(r) => serde_json::to_value(r),
            CrmRecord::Contact(r) => serde_json::to_value(r),
            CrmRecord::Lead(r) => serde_json::to_value(r),
            CrmRecord::Activity(r) => serde_json::to_value(r),
            CrmRecord::Target(r) => serde_json::to_value(r),
        };
        let mut fields = match value {
            Ok(Value::Object(fields)) => fields,
            // Records are structs of plain values: they always serialize to an object.
            _ => Map::new(),
        };
        fields.remove("id");
        fields.remove("version");
        fields
    }
}

macro_rules! into_record {
    ($($kind:ident),+) => {$(
        impl From<$kind> for CrmRecord {
            fn from(record: $kind) -> Self {
                CrmRecord::$kind(record)
            }
        }
    )+};
}
into_record!(Account, Contact, Activity, Target);

impl From<Lead> for CrmRecord {
    fn from(lead: Lead) -> Self {
        CrmRecord::Lead(Box::new(lead))
    }
}

/// One write to a CRM record, as its history shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecordChange {
    pub record_id: Uuid,
    pub record_kind: CrmKind,
    /// The record's version after the change; a deletion takes the next version too, so a
    /// record's changes number 1, 2, 3… without gaps.
    pub version: u32,
    pub action: RecordAction,
    pub actor_id: UserId,
    pub recorded_at: DateTime<Utc>,
    /// The fields the change touched, with their values before it (none on creation).
    pub before: Map<String, Value>,
    /// The same fields after it (none on deletion).
    pub after: Map<String, Value>,
}

impl RecordChange {
    /// The creation of `record`: every field, after.
    pub fn created(record: &CrmRecord, actor_id: UserId, at: DateTime<Utc>) -> Self {
        Self::new(
            record,
            record.version(),
            RecordAction::Created,
            actor_id,
            at,
        )
        .with(Map::new(), record.fields())
    }

    /// The change from `before` to `after`, two versions of one record: the fields that
    /// differ, with both values.
    pub fn changed(
        before: &CrmRecord,
        after: &CrmRecord,
        actor_id: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        let (old, new) = (before.fields(), after.fields());
        let mut was = Map::new();
        let mut now = Map::new();
        for (field, value) in &new {
            let previous = old.get(field).unwrap_or(&Value::Null);
            if previous != value {
                was.insert(field.clone(), previous.clone());
                now.insert(field.clone(), value.clone());
            }
        }
        Self::new(after, after.version(), RecordAction::Changed, actor_id, at).with(was, now)
    }

    /// The deletion of `record`: every field, before.
    pub fn deleted(record: &CrmRecord, actor_id: UserId, at: DateTime<Utc>) -> Self {
        Self::new(
            record,
            record.version() + 1,
            RecordAction::Deleted,
            actor_id,
            at,
        )
        .with(record.fields(), Map::new())
    }

    fn new(
        record: &CrmRecord,
        version: u32,
        action: RecordAction,
        actor_id: UserId,
        recorded_at: DateTime<Utc>,
    ) -> Self {
        Self {
            record_id: record.id(),
            record_kind: record.kind(),
            version,
            action,
            actor_id,
            recorded_at,
            before: Map::new(),
            after: Map::new(),
        }
    }

    fn with(self, before: Map<String, Value>, after: Map<String, Value>) -> Self {
        Self {
            before,
            after,
            ..self
        }
    }

    /// Whether the change touched no field: a change that sets every field to what it was.
    pub fn is_empty(&self) -> bool {
        self.action == RecordAction::Changed && self.after.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::Tier;
    use crate::ids::AccountId;
    use crate::text::{Label, Name};
    use serde_json::json;

    fn account() -> Account {
        Account {
            id: AccountId::from_parts(1, [1; 10]),
            version: 1,
            name: Name::parse("Acme Logistics").unwrap(),
            domain: None,
            industry: None,
            employee_band: None,
            region: Some(Label::parse("EMEA").unwrap()),
            segment: None,
            tier: None,
            owner_id: None,
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_change_keeps_only_the_fields_that_differ_with_both_values() {
        let before = account();
        let mut after = before.clone();
        after.version = 2;
        after.name = Name::parse("Acme Freight").unwrap();
        after.region = None;
        after.tier = Some(Tier::Tier1);
        let actor = UserId::from_parts(1, [2; 10]);
        let at = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        let change = RecordChange::changed(&before.into(), &after.into(), actor, at);
        assert_eq!(change.version, 2);
        assert_eq!(change.action, RecordAction::Changed);
        assert_eq!(change.record_kind, CrmKind::Account);
        assert_eq!(
            Value::Object(change.before),
            json!({"name": "Acme Logistics", "region": "EMEA", "tier": null})
        );
        assert_eq!(
            Value::Object(change.after),
            json!({"name": "Acme Freight", "region": null, "tier": "tier_1"})
        );
    }

    #[test]
    fn creation_and_deletion_carry_every_field_on_one_side() {
        let record = CrmRecord::from(account());
        let actor = UserId::from_parts(1, [2; 10]);
        let at = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        let created = RecordChange::created(&record, actor, at);
        assert_eq!(created.version, 1);
        assert!(created.before.is_empty());
        assert_eq!(created.after.get("name"), Some(&json!("Acme Logistics")));
        assert!(!created.after.contains_key("id") && !created.after.contains_key("version"));
        let deleted = RecordChange::deleted(&record, actor, at);
        assert_eq!(deleted.version, 2);
        assert_eq!(deleted.before, created.after);
        assert!(deleted.after.is_empty());
        let unchanged = RecordChange::changed(&record, &record, actor, at);
        assert!(unchanged.is_empty());
    }

    #[test]
    fn an_activity_concerns_the_lead_it_is_on_and_the_one_it_left() {
        let (first, second) = (
            LeadId::from_parts(1, [3; 10]),
            LeadId::from_parts(1, [4; 10]),
        );
        let call = Activity {
            id: crate::ids::ActivityId::from_parts(1, [5; 10]),
            version: 1,
            kind: crate::crm::ActivityKind::Call,
            occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            user_id: UserId::from_parts(1, [2; 10]),
            account_id: None,
            contact_id: None,
            lead_id: Some(first),
            opportunity_id: None,
            subject: Name::parse("Intro call").unwrap(),
            outcome: None,
        };
        let actor = UserId::from_parts(1, [2; 10]);
        let at = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        let logged = CrmRecord::from(call.clone());
        let created = RecordChange::created(&logged, actor, at);
        assert_eq!(logged.leads_concerned(&created), vec![first]);

        let mut renamed = call.clone();
        renamed.version = 2;
        renamed.subject = Name::parse("Discovery call").unwrap();
        let renamed = CrmRecord::from(renamed);
        let change = RecordChange::changed(&logged, &renamed, actor, at);
        assert_eq!(renamed.leads_concerned(&change), vec![first]);

        let mut moved = call.clone();
        moved.version = 2;
        moved.lead_id = Some(second);
        let moved = CrmRecord::from(moved);
        let change = RecordChange::changed(&logged, &moved, actor, at);
        assert_eq!(moved.leads_concerned(&change), vec![second, first]);

        let mut unlinked = call;
        unlinked.version = 2;
        unlinked.lead_id = None;
        let unlinked = CrmRecord::from(unlinked);
        let change = RecordChange::changed(&logged, &unlinked, actor, at);
        assert_eq!(unlinked.leads_concerned(&change), vec![first]);

        let account = CrmRecord::from(account());
        let created = RecordChange::created(&account, actor, at);
        assert!(account.leads_concerned(&created).is_empty());
    }
}
