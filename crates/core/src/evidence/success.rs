//! Success criteria: how the buyer will judge the project worked. One is valid only with a
//! metric, its baseline, the target, the date it is measured and how it is measured —
//! "improve reporting" is a wish, not a criterion.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::parse_date;
use crate::keys::ItemKey;
use crate::text::{Label, Note};
use crate::validation::{FieldErrors, Fields};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SuccessCriterion {
    pub key: ItemKey,
    /// What is measured: "hours spent on the monthly close".
    pub metric: Label,
    /// Today's value: "40 hours".
    pub baseline: Label,
    /// The value that means success: "10 hours".
    pub target: Label,
    /// When the target is measured.
    pub by: NaiveDate,
    /// How it is measured, and by whom.
    pub measurement: Note,
}

/// A success criterion as typed into a form or an import file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SuccessCriterionDraft {
    pub key: Option<String>,
    pub metric: Option<String>,
    pub baseline: Option<String>,
    pub target: Option<String>,
    pub by: Option<String>,
    pub measurement: Option<String>,
}

impl SuccessCriterionDraft {
    /// The criterion, or every missing or invalid part at once.
    pub fn validate(&self) -> Result<SuccessCriterion, FieldErrors> {
        let mut fields = Fields::default();
        let key = fields.require("key", self.key.as_deref(), ItemKey::parse);
        let metric = fields.require("metric", self.metric.as_deref(), Label::parse);
        let baseline = fields.require("baseline", self.baseline.as_deref(), Label::parse);
        let target = fields.require("target", self.target.as_deref(), Label::parse);
        let by = fields.require("by", self.by.as_deref(), parse_date);
        let measurement = fields.require("measurement", self.measurement.as_deref(), Note::parse);
        fields.build(|| {
            Some(SuccessCriterion {
                key: key?,
                metric: metric?,
                baseline: baseline?,
                target: target?,
                by: by?,
                measurement: measurement?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn improve_reporting_is_not_a_success_criterion() {
        let wish = SuccessCriterionDraft {
            key: Some("reporting".into()),
            metric: Some("improve reporting".into()),
            ..Default::default()
        };
        let errors = wish.validate().unwrap_err();
        let missing: Vec<&str> = errors.iter().map(|e| e.field()).collect();
        assert_eq!(missing, ["baseline", "target", "by", "measurement"]);
    }

    #[test]
    fn a_measurable_criterion_is_accepted() {
        let criterion = SuccessCriterionDraft {
            key: Some("manual_reporting".into()),
            metric: Some("hours of manual reporting per month".into()),
            baseline: Some("40 hours".into()),
            target: Some("10 hours".into()),
            by: Some("2026-09-30".into()),
            measurement: Some("Time sheets of the finance team, read by the controller".into()),
        }
        .validate()
        .unwrap();
        assert_eq!(criterion.baseline.as_str(), "40 hours");
        assert_eq!(criterion.by, "2026-09-30".parse::<NaiveDate>().unwrap());
    }

    #[test]
    fn a_malformed_date_is_named() {
        let draft = SuccessCriterionDraft {
            key: Some("cycle_time".into()),
            metric: Some("order cycle time".into()),
            baseline: Some("9 days".into()),
            target: Some("3 days".into()),
            by: Some("30/09/2026".into()),
            measurement: Some("ERP report".into()),
        };
        let errors = draft.validate().unwrap_err();
        assert_eq!(errors.len(), 1);
        let error = errors.iter().next().unwrap();
        assert_eq!((error.field(), error.value()), ("by", "30/09/2026"));
    }
}
