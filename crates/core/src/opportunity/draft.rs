//! A new opportunity as a person or a file gives it: text fields, checked all at once.

use serde::Deserialize;

use super::NextStep;
use super::event::Created;
use crate::calendar::parse_date;
use crate::evidence::Evidence;
use crate::ids::{AccountId, UserId};
use crate::money::{Currency, Money};
use crate::process::Process;
use crate::text::{Label, Name, Note};
use crate::validation::{FieldErrors, Fields, InvalidValue};

/// Fields of a new opportunity as entered. Amounts are decimal text in major units
/// (`"48000.00"`); dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpportunityDraft {
    pub name: Option<String>,
    pub account_id: Option<String>,
    pub owner_id: Option<String>,
    /// Defaults to the process's SAL stage.
    pub stage: Option<String>,
    pub amount: Option<String>,
    /// Defaults to the workspace's corporate currency.
    pub currency: Option<String>,
    pub close_date: Option<String>,
    pub source: Option<String>,
    pub segment: Option<String>,
    pub competitor: Option<String>,
    pub next_step: Option<String>,
    /// Defaults to the opportunity's owner.
    pub next_step_owner_id: Option<String>,
    pub next_step_due: Option<String>,
    /// What the buyer has already shown; the stage's entry criteria are checked against it.
    #[serde(default)]
    pub evidence: Evidence,
}

impl OpportunityDraft {
    /// Checks every field and reports every problem, each with its field and value.
    pub fn validate(
        &self,
        process: &Process,
        corporate_currency: Currency,
    ) -> Result<Created, FieldErrors> {
        let mut fields = Fields::default();
        let name = fields.require("name", self.name.as_deref(), Name::parse);
        let account_id = fields.require("account_id", self.account_id.as_deref(), |s| {
            s.parse::<AccountId>()
        });
        let owner_id = fields.require("owner_id", self.owner_id.as_deref(), |s| {
            s.parse::<UserId>()
        });
        let stage = fields
            .check_optional("stage", self.stage.as_deref(), |s| process.parse_stage(s))
            .unwrap_or_else(|| process.sal_stage().key.clone());
        let currency = fields
            .check_optional("currency", self.currency.as_deref(), str::parse::<Currency>)
            .unwrap_or(corporate_currency);
        let amount = fields.check_optional("amount", self.amount.as_deref(), |s| {
            Money::parse_non_negative(s, currency)
        });
        let close_date = fields.require("close_date", self.close_date.as_deref(), parse_date);
        let source = fields.check_optional("source", self.source.as_deref(), Label::parse);
        let segment = fields.check_optional("segment", self.segment.as_deref(), Label::parse);
        let competitor =
            fields.check_optional("competitor", self.competitor.as_deref(), Label::parse);
        let next_step = self.next_step(&mut fields, owner_id);
        self.check_evidence(&mut fields, process);
        fields.build(|| {
            Some(Created {
                name: name?,
                account_id: account_id?,
                owner_id: owner_id?,
                process: process.key.clone(),
                stage,
                amount,
                close_date: close_date?,
                source,
                segment,
                competitor,
                next_step,
                evidence: self.evidence.clone(),
            })
        })
    }

    /// Scores must be on their scales and checklist items the process's own; the rest of the
    /// evidence is typed already.
    fn check_evidence(&self, fields: &mut Fields, process: &Process) {
        for (item, value) in self.evidence.scores.iter() {
            if let Err(e) = item.check(value) {
                fields.push(e.at(format!("evidence.scores.{item}")));
            }
        }
        for item in &self.evidence.checklist {
            if !process.checklist().iter().any(|i| &i.key == item) {
                let known: Vec<&str> = process.checklist().iter().map(|i| i.key.as_str()).collect();
                let expected = format!(
                    "a checklist item of the {} process: {}",
                    process.name,
                    known.join(", ")
                );
                fields.push(InvalidValue::new(item.as_str(), expected).at("evidence.checklist"));
            }
        }
    }

    /// A next step needs its text and due date; its owner defaults to the deal's owner.
    fn next_step(&self, fields: &mut Fields, deal_owner: Option<UserId>) -> Option<NextStep> {
        let given = [
            &self.next_step,
            &self.next_step_owner_id,
            &self.next_step_due,
        ]
        .iter()
        .any(|f| f.as_deref().is_some_and(|s| !s.trim().is_empty()));
        if !given {
            return None;
        }
        let text = fields.require("next_step", self.next_step.as_deref(), Note::parse);
        let due = fields.require("next_step_due", self.next_step_due.as_deref(), parse_date);
        let owner_id = fields
            .check_optional(
                "next_step_owner_id",
                self.next_step_owner_id.as_deref(),
                |s| s.parse::<UserId>(),
            )
            .or(deal_owner);
        Some(NextStep {
            text: text?,
            owner_id: owner_id?,
            due: due?,
        })
    }
}
