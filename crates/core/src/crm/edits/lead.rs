//! A lead's fields. A new lead must meet the minimum set (`leads::intake`); a change of
//! status or nurture track names its disposition and follows the lifecycle
//! (`leads::lifecycle`); sales acceptance is a conversion, not an edit.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Edit, changed, parse};
use crate::crm::{Lead, LeadStatus};
use crate::ids::{AccountId, LeadId, UserId};
use crate::leads::intake::{self, Entry};
use crate::leads::lifecycle::{self, Disposition, LifecycleError, Nurture, Placement};
use crate::leads::scoring::LeadEvidence;
use crate::text::{Email, Label, Name, Phone, WebDomain};
use crate::validation::{FieldErrors, Fields, InvalidValue, present};

/// A lead's fields.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadFields {
    /// The person's name; required to create a lead.
    pub name: Option<String>,
    /// An e-mail address or a phone number is required to create a lead.
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<String>>,
    /// The person's role, such as `Head of Operations`; required to create a lead.
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    /// The company's name; required to create a lead.
    #[serde(default, deserialize_with = "present")]
    pub company: Option<Option<String>>,
    /// The company's web site, such as `acme.com`.
    #[serde(default, deserialize_with = "present")]
    pub website: Option<Option<String>>,
    /// Where the lead came from, such as `webinar` or `outbound`; required to create a lead,
    /// and `unknown` is not a source.
    #[serde(default, deserialize_with = "present")]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub segment: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub product_line: Option<Option<String>>,
    /// A new lead enters as `new` (the default), `working`, `mql` or `sql`. Later
    /// `working`, `mql`, `sql` or `disqualified`, with a `disposition`; a lead becomes `sal` by
    /// converting it.
    pub status: Option<String>,
    /// `worked` or `paused` parks the lead in nurture at its status; `null` brings it back.
    /// A change names a `disposition`.
    #[serde(default, deserialize_with = "present")]
    pub nurture: Option<Option<String>>,
    /// Why the status or nurture track changes: `attempting`, `marketing_qualified`,
    /// `qualified_needs_confirmed`, `not_ready`, `no_timeline`, `attempted_no_reply`,
    /// `competitor_selected`, `not_a_fit_wrong_role`, `not_a_fit_profile`, `duplicate`,
    /// `referred` or `re_engaged`.
    pub disposition: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub account_id: Option<Option<String>>,
}

/// Statuses a lead may enter with.
const ENTRY_STATUSES: [LeadStatus; 4] = [
    LeadStatus::New,
    LeadStatus::Working,
    LeadStatus::Mql,
    LeadStatus::Sql,
];

impl LeadFields {
    fn edit(&self, fields: &mut Fields) -> Edit<Lead> {
        let mut edit = Edit::<Lead>::new();
        edit.required(fields, "name", self.name.as_deref(), Name::parse, |l| {
            &mut l.name
        });
        edit.optional(fields, "email", &self.email, Email::parse, |l| &mut l.email);
        edit.optional(fields, "phone", &self.phone, Phone::parse, |l| &mut l.phone);
        edit.optional(fields, "title", &self.title, Label::parse, |l| &mut l.title);
        edit.optional(fields, "company", &self.company, Name::parse, |l| {
            &mut l.company
        });
        edit.optional(fields, "website", &self.website, WebDomain::parse, |l| {
            &mut l.website
        });
        edit.optional(fields, "source", &self.source, Label::parse, |l| {
            &mut l.source
        });
        edit.optional(fields, "region", &self.region, Label::parse, |l| {
            &mut l.region
        });
        edit.optional(fields, "segment", &self.segment, Label::parse, |l| {
            &mut l.segment
        });
        edit.optional(
            fields,
            "product_line",
            &self.product_line,
            Label::parse,
            |l| &mut l.product_line,
        );
        edit.optional(fields, "owner_id", &self.owner_id, parse::<UserId>, |l| {
            &mut l.owner_id
        });
        edit.optional(
            fields,
            "account_id",
            &self.account_id,
            parse::<AccountId>,
            |l| &mut l.account_id,
        );
        edit
    }

    /// The status, nurture track and disposition the request names, parsed.
    fn placement(
        &self,
        fields: &mut Fields,
        current: Placement,
    ) -> (Placement, Option<Disposition>) {
        let status = fields
            .check_optional("status", self.status.as_deref(), parse::<LeadStatus>)
            .unwrap_or(current.status);
        let nurture = match &self.nurture {
            None => current.nurture,
            Some(None) => None,
            Some(Some(track)) => fields
                .check("nurture", parse::<Nurture>(track))
                .or(current.nurture),
        };
        let disposition = fields.check_optional(
            "disposition",
            self.disposition.as_deref(),
            parse::<Disposition>,
        );
        (Placement { status, nurture }, disposition)
    }

    /// A new lead, which must have the minimum set: company, name, role, an e-mail address or
    /// phone number, and a real source.
    pub fn create(&self, id: LeadId, at: DateTime<Utc>) -> Result<Lead, FieldErrors> {
        let mut fields = Fields::default();
        let name = fields.require("name", self.name.as_deref(), Name::parse);
        let edit = self.edit(&mut fields);
        let (placement, disposition) = self.placement(&mut fields, Placement::NEW);
        if !ENTRY_STATUSES.contains(&placement.status) {
            let expected = "new, working, mql or sql: a lead is disqualified or converted later";
            fields.push(InvalidValue::new(placement.status.as_str(), expected).at("status"));
        }
        let entry = Entry {
            company: set(&self.company),
            contact_name: self.name.as_deref(),
            role: set(&self.title),
            email: set(&self.email),
            phone: set(&self.phone),
            source: set(&self.source),
        };
        if let Err(missing) = intake::check_complete(&entry) {
            // A missing name is already reported by `require`.
            missing
                .iter()
                .filter(|e| e.field() != "name")
                .for_each(|e| fields.push(e.clone()));
        }
        fields.build(|| {
            let mut lead = Lead {
                id,
                version: 1,
                name: name?,
                email: None,
                company: None,
                source: None,
                status: placement.status,
                owner_id: None,
                account_id: None,
                opportunity_id: None,
                created_at: at,
                title: None,
                phone: None,
                website: None,
                region: None,
                segment: None,
                product_line: None,
                nurture: placement.nurture,
                disposition,
                queued_at: None,
                evidence: LeadEvidence::default(),
                routing_issue: None,
            };
            edit.apply(&mut lead);
            if enters_queue(Placement::NEW, placement) {
                lead.queued_at = Some(at);
            }
            Some(lead)
        })
    }

    /// The next version of `lead` with these fields set at `at`. A change of status or nurture
    /// needs a disposition the lifecycle accepts; clearing a field of the minimum set is refused.
    pub fn change(&self, lead: &Lead, at: DateTime<Utc>) -> Result<Lead, FieldErrors> {
        let mut fields = Fields::default();
        let edit = self.edit(&mut fields);
        let current = Placement {
            status: lead.status,
            nurture: lead.nurture,
        };
        let (target, disposition) = self.placement(&mut fields, current);
        let moved = match (target != current, disposition) {
            (false, None) => None,
            (false, Some(d)) => {
                fields.push(
                    InvalidValue::new(
                        d.as_str(),
                        "no disposition: the status and nurture stay as they are",
                    )
                    .at("disposition"),
                );
                None
            }
            (true, None) => {
                fields.push(
                    InvalidValue::missing(format!(
                        "why the lead changes: one of {}",
                        words(Disposition::ALL)
                    ))
                    .at("disposition"),
                );
                None
            }
            (true, Some(d)) => match lifecycle::change(current, target, d) {
                Ok(change) => Some(change),
                Err(e) => {
                    fields.push(lifecycle_error(&e, target));
                    None
                }
            },
        };
        let mut next = changed(lead, fields, edit, |l| &mut l.version)?;
        if next.owner_id != lead.owner_id {
            next.routing_issue = None;
        }
        if let Some(change) = moved {
            next.status = change.to.status;
            next.nurture = change.to.nurture;
            next.disposition = Some(change.disposition);
            if enters_queue(change.from, change.to) {
                next.queued_at = Some(at);
            }
        }
        if let Err(missing) = intake::check_complete(&entry(&next)) {
            // Leads stored before the minimum set was enforced may lack some of it; a change
            // is refused only for clearing a field of the set.
            let mut cleared = Fields::default();
            missing
                .iter()
                .filter(|e| touched(self, e.field()))
                .for_each(|e| cleared.push(e.clone()));
            cleared.finish()?;
        }
        Ok(next)
    }
}

fn entry(lead: &Lead) -> Entry<'_> {
    Entry {
        company: lead.company.as_ref().map(Name::as_str),
        contact_name: Some(lead.name.as_str()),
        role: lead.title.as_ref().map(Label::as_str),
        email: lead.email.as_ref().map(Email::as_str),
        phone: lead.phone.as_ref().map(Phone::as_str),
        source: lead.source.as_ref().map(Label::as_str),
    }
}

/// The text of a field the request set.
fn set(field: &Option<Option<String>>) -> Option<&str> {
    field.as_ref().and_then(|v| v.as_deref())
}

/// Whether the request set the field a completeness error names.
fn touched(fields: &LeadFields, field: &str) -> bool {
    match field {
        "company" => fields.company.is_some(),
        "title" => fields.title.is_some(),
        "email" => fields.email.is_some() || fields.phone.is_some(),
        "source" => fields.source.is_some(),
        _ => false,
    }
}

/// A lead enters the sales queue when it becomes MQL or SQL from the Lead step, or comes back
/// onto the funnel at MQL or SQL from nurture or disqualification.
fn enters_queue(from: Placement, to: Placement) -> bool {
    let queued_status = matches!(to.status, LeadStatus::Mql | LeadStatus::Sql);
    let from_off_funnel = from.nurture.is_some() || from.status == LeadStatus::Disqualified;
    to.nurture.is_none()
        && queued_status
        && (from_off_funnel || from.status.funnel_step() == Some(0))
}

fn lifecycle_error(error: &LifecycleError, target: Placement) -> crate::validation::FieldError {
    let field = match error {
        LifecycleError::WrongDisposition { .. } => "disposition",
        LifecycleError::NurtureWhenClosed | LifecycleError::ParkAndMove => "nurture",
        _ => "status",
    };
    let value = match error {
        LifecycleError::WrongDisposition { given, .. } => given.as_str().to_owned(),
        _ if field == "nurture" => target.nurture.map_or("null", |n| n.as_str()).to_owned(),
        _ => target.status.as_str().to_owned(),
    };
    InvalidValue::new(&value, error.to_string()).at(field)
}

fn words<T: std::fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
