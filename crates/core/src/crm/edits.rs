//! The fields a request may set on a CRM record, for creating it and for changing it. In a
//! change, an absent field stays as it is and `null` clears an optional one; in a creation,
//! absent fields take their defaults. Every field is checked and every error reported at
//! once, located by the field's name. That referenced records exist is checked by the store.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    Account, Activity, ActivityKind, BuyingRole, Contact, EmployeeBand, Target, TargetOwner, Tier,
};
use crate::calendar::{Period, parse_timestamp};
use crate::ids::{
    AccountId, ActivityId, ContactId, LeadId, OpportunityId, TargetId, TeamId, UserId,
};
use crate::money::{Currency, Money};
use crate::text::{Email, Label, Name, WebDomain};
use crate::validation::{FieldErrors, Fields, InvalidValue, present};

mod lead;

pub use lead::LeadFields;

/// Sets one parsed field on a record of type `R`.
type Setter<R> = Box<dyn FnOnce(&mut R)>;

/// Parsed fields waiting to be set on a record of type `R`.
struct Edit<R> {
    setters: Vec<Setter<R>>,
}

impl<R: 'static> Edit<R> {
    fn new() -> Self {
        Self {
            setters: Vec::new(),
        }
    }

    /// A field that always has a value: absent leaves it, text is parsed and set.
    fn required<T: 'static>(
        &mut self,
        fields: &mut Fields,
        name: &str,
        input: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
        slot: fn(&mut R) -> &mut T,
    ) {
        if let Some(value) = input.and_then(|text| fields.check(name, parse(text))) {
            self.setters.push(Box::new(move |r| *slot(r) = value));
        }
    }

    /// An optional field: absent leaves it, `null` clears it, text is parsed and set.
    fn optional<T: 'static>(
        &mut self,
        fields: &mut Fields,
        name: &str,
        input: &Option<Option<String>>,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
        slot: fn(&mut R) -> &mut Option<T>,
    ) {
        let value = match input {
            None => return,
            Some(None) => None,
            Some(Some(text)) => match fields.check(name, parse(text)) {
                Some(value) => Some(value),
                None => return,
            },
        };
        self.setters.push(Box::new(move |r| *slot(r) = value));
    }

    fn apply(self, record: &mut R) {
        for set in self.setters {
            set(record);
        }
    }
}

/// The next version of `record` with `edit` applied, or every field error.
fn changed<R: Clone + 'static>(
    record: &R,
    fields: Fields,
    edit: Edit<R>,
    version: fn(&mut R) -> &mut u32,
) -> Result<R, FieldErrors> {
    fields.finish()?;
    let mut next = record.clone();
    edit.apply(&mut next);
    *version(&mut next) += 1;
    Ok(next)
}

fn parse<T: std::str::FromStr<Err = InvalidValue>>(text: &str) -> Result<T, InvalidValue> {
    text.trim().parse()
}

/// An account's fields.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountFields {
    /// Required to create an account.
    pub name: Option<String>,
    /// The company's web domain; `https://www.acme.com/` is stored as `acme.com`.
    #[serde(default, deserialize_with = "present")]
    pub domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub industry: Option<Option<String>>,
    /// Head count band: `1-10`, `11-50`, `51-200`, `201-500`, `501-1000`, `1001-5000`,
    /// `5001-10000` or `10001+`.
    #[serde(default, deserialize_with = "present")]
    pub employee_band: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub segment: Option<Option<String>>,
    /// `tier_1`, `tier_2` or `tier_3`.
    #[serde(default, deserialize_with = "present")]
    pub tier: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
}

impl AccountFields {
    fn edit(&self, fields: &mut Fields) -> Edit<Account> {
        let mut edit = Edit::<Account>::new();
        edit.required(fields, "name", self.name.as_deref(), Name::parse, |a| {
            &mut a.name
        });
        edit.optional(fields, "domain", &self.domain, WebDomain::parse, |a| {
            &mut a.domain
        });
        edit.optional(fields, "industry", &self.industry, Label::parse, |a| {
            &mut a.industry
        });
        edit.optional(
            fields,
            "employee_band",
            &self.employee_band,
            parse::<EmployeeBand>,
            |a| &mut a.employee_band,
        );
        edit.optional(fields, "region", &self.region, Label::parse, |a| {
            &mut a.region
        });
        edit.optional(fields, "segment", &self.segment, Label::parse, |a| {
            &mut a.segment
        });
        edit.optional(fields, "tier", &self.tier, parse::<Tier>, |a| &mut a.tier);
        edit.optional(fields, "owner_id", &self.owner_id, parse::<UserId>, |a| {
            &mut a.owner_id
        });
        edit
    }

    /// A new account; `name` is required.
    pub fn create(&self, id: AccountId, at: DateTime<Utc>) -> Result<Account, FieldErrors> {
        let mut fields = Fields::default();
        let name = fields.require("name", self.name.as_deref(), Name::parse);
        let edit = self.edit(&mut fields);
        fields.build(|| {
            let mut account = Account {
                id,
                version: 1,
                name: name?,
                domain: None,
                industry: None,
                employee_band: None,
                region: None,
                segment: None,
                tier: None,
                owner_id: None,
                created_at: at,
            };
            edit.apply(&mut account);
            Some(account)
        })
    }

    /// The next version of `account` with these fields set.
    pub fn change(&self, account: &Account) -> Result<Account, FieldErrors> {
        let mut fields = Fields::default();
        let edit = self.edit(&mut fields);
        changed(account, fields, edit, |a| &mut a.version)
    }
}

/// A contact's fields.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactFields {
    /// The contact's company; required to create a contact.
    pub account_id: Option<String>,
    /// Required to create a contact.
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    /// Their part in the buying decision: `economic_buyer`, `champion`, `decision_maker`,
    /// `signer`, `blocker`, `influencer`, `procurement` or `legal`.
    #[serde(default, deserialize_with = "present")]
    pub buying_role: Option<Option<String>>,
}

impl ContactFields {
    fn edit(&self, fields: &mut Fields) -> Edit<Contact> {
        let mut edit = Edit::<Contact>::new();
        edit.required(
            fields,
            "account_id",
            self.account_id.as_deref(),
            parse::<AccountId>,
            |c| &mut c.account_id,
        );
        edit.required(fields, "name", self.name.as_deref(), Name::parse, |c| {
            &mut c.name
        });
        edit.optional(fields, "email", &self.email, Email::parse, |c| &mut c.email);
        edit.optional(fields, "title", &self.title, Label::parse, |c| &mut c.title);
        edit.optional(
            fields,
            "buying_role",
            &self.buying_role,
            parse::<BuyingRole>,
            |c| &mut c.buying_role,
        );
        edit
    }

    /// A new contact; `account_id` and `name` are required.
    pub fn create(&self, id: ContactId, at: DateTime<Utc>) -> Result<Contact, FieldErrors> {
        let mut fields = Fields::default();
        let account_id =
            fields.require("account_id", self.account_id.as_deref(), parse::<AccountId>);
        let name = fields.require("name", self.name.as_deref(), Name::parse);
        let edit = self.edit(&mut fields);
        fields.build(|| {
            let mut contact = Contact {
                id,
                version: 1,
                account_id: account_id?,
                name: name?,
                email: None,
                title: None,
                buying_role: None,
                created_at: at,
            };
            edit.apply(&mut contact);
            Some(contact)
        })
    }

    /// The next version of `contact` with these fields set.
    pub fn change(&self, contact: &Contact) -> Result<Contact, FieldErrors> {
        let mut fields = Fields::default();
        let edit = self.edit(&mut fields);
        changed(contact, fields, edit, |c| &mut c.version)
    }
}

/// An activity's fields.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityFields {
    /// `call`, `email`, `meeting` or `note`; required to log an activity.
    pub kind: Option<String>,
    /// When it happened, in RFC 3339; defaults to now.
    pub occurred_at: Option<String>,
    /// Who did it; defaults to the caller.
    pub user_id: Option<String>,
    /// What it was about; required to log an activity.
    pub subject: Option<String>,
    /// What came of it: `connected`, `no answer`, `meeting booked`…
    #[serde(default, deserialize_with = "present")]
    pub outcome: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub account_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub lead_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub opportunity_id: Option<Option<String>>,
}

impl ActivityFields {
    fn edit(&self, fields: &mut Fields) -> Edit<Activity> {
        let mut edit = Edit::<Activity>::new();
        edit.required(
            fields,
            "kind",
            self.kind.as_deref(),
            parse::<ActivityKind>,
            |a| &mut a.kind,
        );
        edit.required(
            fields,
            "occurred_at",
            self.occurred_at.as_deref(),
            parse_timestamp,
            |a| &mut a.occurred_at,
        );
        edit.required(
            fields,
            "user_id",
            self.user_id.as_deref(),
            parse::<UserId>,
            |a| &mut a.user_id,
        );
        edit.required(
            fields,
            "subject",
            self.subject.as_deref(),
            Name::parse,
            |a| &mut a.subject,
        );
        edit.optional(fields, "outcome", &self.outcome, Label::parse, |a| {
            &mut a.outcome
        });
        edit.optional(
            fields,
            "account_id",
            &self.account_id,
            parse::<AccountId>,
            |a| &mut a.account_id,
        );
        edit.optional(
            fields,
            "contact_id",
            &self.contact_id,
            parse::<ContactId>,
            |a| &mut a.contact_id,
        );
        edit.optional(fields, "lead_id", &self.lead_id, parse::<LeadId>, |a| {
            &mut a.lead_id
        });
        edit.optional(
            fields,
            "opportunity_id",
            &self.opportunity_id,
            parse::<OpportunityId>,
            |a| &mut a.opportunity_id,
        );
        edit
    }

    /// A new activity by `user_id` unless another is named, at `now` unless another time
    /// is given; `kind` and `subject` are required.
    pub fn create(
        &self,
        id: ActivityId,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Activity, FieldErrors> {
        let mut fields = Fields::default();
        let kind = fields.require("kind", self.kind.as_deref(), parse::<ActivityKind>);
        let subject = fields.require("subject", self.subject.as_deref(), Name::parse);
        let edit = self.edit(&mut fields);
        fields.build(|| {
            let mut activity = Activity {
                id,
                version: 1,
                kind: kind?,
                occurred_at: now,
                user_id,
                account_id: None,
                contact_id: None,
                lead_id: None,
                opportunity_id: None,
                subject: subject?,
                outcome: None,
            };
            edit.apply(&mut activity);
            Some(activity)
        })
    }

    /// The next version of `activity` with these fields set.
    pub fn change(&self, activity: &Activity) -> Result<Activity, FieldErrors> {
        let mut fields = Fields::default();
        let edit = self.edit(&mut fields);
        changed(activity, fields, edit, |a| &mut a.version)
    }
}

/// A quota's or plan number's fields.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetFields {
    /// Whose number it is: `user`, `team` or `workspace` (the company plan); required to
    /// create a target.
    pub owner_kind: Option<String>,
    /// The user or team, for those kinds.
    pub owner_id: Option<String>,
    /// A fiscal month, quarter or year: `2026-09`, `2026-Q3`, `FY2026`.
    pub period: Option<String>,
    /// In major units, such as `250000` or `250000.00`.
    pub amount: Option<String>,
    /// Defaults to the target's current currency, or the workspace's corporate currency.
    pub currency: Option<String>,
}

impl TargetFields {
    /// Whose target the fields name, if they name one.
    fn owner(&self, fields: &mut Fields) -> Option<TargetOwner> {
        let kind = self.owner_kind.as_deref().map(str::trim)?;
        let id = self.owner_id.as_deref();
        match kind {
            "user" => fields
                .require("owner_id", id, parse::<UserId>)
                .map(TargetOwner::User),
            "team" => fields
                .require("owner_id", id, parse::<TeamId>)
                .map(TargetOwner::Team),
            "workspace" => match id {
                None => Some(TargetOwner::Workspace),
                Some(id) => {
                    let expected = "nothing: the company plan has no owner";
                    fields.push(InvalidValue::new(id, expected).at("owner_id"));
                    None
                }
            },
            _ => {
                let expected = "one of user, team, workspace";
                fields.push(InvalidValue::new(kind, expected).at("owner_kind"));
                None
            }
        }
    }

    fn edit(&self, fields: &mut Fields, currency: Currency) -> Edit<Target> {
        let mut edit = Edit::<Target>::new();
        if let Some(owner) = self.owner(fields) {
            edit.setters.push(Box::new(move |t| t.owner = owner));
        }
        edit.required(
            fields,
            "period",
            self.period.as_deref(),
            parse::<Period>,
            |t| &mut t.period,
        );
        let amount = |text: &str| Money::parse_non_negative(text, currency);
        edit.required(fields, "amount", self.amount.as_deref(), amount, |t| {
            &mut t.amount
        });
        edit
    }

    fn currency(&self, fields: &mut Fields, default: Currency) -> Currency {
        fields
            .check_optional("currency", self.currency.as_deref(), parse::<Currency>)
            .unwrap_or(default)
    }

    /// A new target; owner, period and amount are required.
    pub fn create(&self, id: TargetId, corporate: Currency) -> Result<Target, FieldErrors> {
        let mut fields = Fields::default();
        if self.owner_kind.is_none() {
            fields.push(InvalidValue::missing("one of user, team, workspace").at("owner_kind"));
        }
        let owner = self.owner(&mut fields);
        let period = fields.require("period", self.period.as_deref(), parse::<Period>);
        let currency = self.currency(&mut fields, corporate);
        let amount = fields.require("amount", self.amount.as_deref(), |text| {
            Money::parse_non_negative(text, currency)
        });
        fields.build(|| {
            Some(Target {
                id,
                version: 1,
                owner: owner?,
                period: period?,
                amount: amount?,
            })
        })
    }

    /// The next version of `target` with these fields set. A new currency comes with the
    /// amount in it: relabelling an amount would silently change the number.
    pub fn change(&self, target: &Target) -> Result<Target, FieldErrors> {
        let mut fields = Fields::default();
        if self.currency.is_some() && self.amount.is_none() {
            fields.push(InvalidValue::missing("the amount in the new currency").at("amount"));
        }
        let currency = self.currency(&mut fields, target.amount.currency);
        let edit = self.edit(&mut fields, currency);
        changed(target, fields, edit, |t| &mut t.version)
    }
}

#[cfg(test)]
mod tests;
