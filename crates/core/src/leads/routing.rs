//! What to do with a scored lead (the fit × intent matrix) and who gets it (assignment rules).

use serde::{Deserialize, Serialize};

use super::scoring::Band;

text_enum! {
    /// The next action the fit × intent matrix prescribes.
    pub enum Route {
        /// Book discovery and prepare an agenda tailored to what they asked for.
        Discovery = "discovery",
        /// Answer with a short technical Q&A, or offer a demo of one specific use case.
        TechnicalQa = "technical_qa",
        /// Go ahead, but confirm scope, timeline and delivery limits in the first minutes.
        ConstraintCheck = "constraint_check",
        /// Keep in touch with messages triggered by what they do next.
        Nurture = "nurture",
        /// Stop here, or refer them to someone who serves them better.
        Disqualify = "disqualify",
    }
}

impl Route {
    /// The matrix. Low fit stops the lead whatever its intent, since such deals fail on
    /// delivery; otherwise low intent goes to nurture. Medium fit with medium intent gets a
    /// technical Q&A: there is interest but no urgency, and a short exchange both tests the
    /// doubt about fit and raises intent without spending a discovery slot on it.
    pub fn of(fit: Band, intent: Band) -> Route {
        match (fit, intent) {
            (Band::Low, _) => Route::Disqualify,
            (_, Band::Low) => Route::Nurture,
            (Band::High, Band::High) => Route::Discovery,
            (Band::Medium, Band::High) => Route::ConstraintCheck,
            (Band::High | Band::Medium, Band::Medium) => Route::TechnicalQa,
        }
    }
}

/// What an assignment rule matches on; a rule names one or more of these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Territory {
    pub region: Option<String>,
    pub segment: Option<String>,
    pub product_line: Option<String>,
}

impl Territory {
    fn named(&self) -> usize {
        [&self.region, &self.segment, &self.product_line]
            .iter()
            .filter(|d| d.is_some())
            .count()
    }

    /// Whether every dimension the rule names equals the lead's (ignoring case).
    fn covers(&self, lead: &Territory) -> bool {
        let same = |rule: &Option<String>, lead: &Option<String>| match (rule, lead) {
            (None, _) => true,
            (Some(r), Some(l)) => r.eq_ignore_ascii_case(l.trim()),
            (Some(_), None) => false,
        };
        same(&self.region, &lead.region)
            && same(&self.segment, &lead.segment)
            && same(&self.product_line, &lead.product_line)
    }
}

/// Leads in `territory` go to `owner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AssignmentRule<O> {
    pub territory: Territory,
    pub owner: O,
}

/// Why routing could not pick an owner by the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum RoutingIssue {
    /// No rule covers the lead's territory.
    NoRule { lead: Territory },
    /// Equally specific rules (by position, from 0) name different owners.
    Conflict { rules: Vec<usize> },
    /// The rule that covers the lead names someone who is not a user of the workspace.
    UnknownOwner { owner: String },
}

/// Who a lead goes to (none: the shared queue), by which rule, and the issue to fix when the
/// rules were unclear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Assignment<O> {
    pub owner: Option<O>,
    /// The position of the rule that decided, counting from 0.
    pub rule: Option<usize>,
    pub issue: Option<RoutingIssue>,
}

/// Picks the owner by the most specific rule covering the lead; when none does, or equally
/// specific rules disagree, the lead goes to `default` (none: the queue) and the issue is
/// reported.
pub fn assign<O: Clone + Eq>(
    rules: &[AssignmentRule<O>],
    lead: &Territory,
    default: Option<&O>,
) -> Assignment<O> {
    let covering: Vec<(usize, &AssignmentRule<O>)> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.territory.covers(lead))
        .collect();
    let Some(most) = covering.iter().map(|(_, r)| r.territory.named()).max() else {
        return Assignment {
            owner: default.cloned(),
            rule: None,
            issue: Some(RoutingIssue::NoRule { lead: lead.clone() }),
        };
    };
    let best: Vec<&(usize, &AssignmentRule<O>)> = covering
        .iter()
        .filter(|(_, r)| r.territory.named() == most)
        .collect();
    match best.as_slice() {
        [(first, rule), rest @ ..] if rest.iter().all(|(_, r)| r.owner == rule.owner) => {
            Assignment {
                owner: Some(rule.owner.clone()),
                rule: Some(*first),
                issue: None,
            }
        }
        _ => Assignment {
            owner: default.cloned(),
            rule: None,
            issue: Some(RoutingIssue::Conflict {
                rules: best.iter().map(|(i, _)| *i).collect(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_gives_every_cell_its_action() {
        use Band::*;
        assert_eq!(Route::of(High, High), Route::Discovery);
        assert_eq!(Route::of(High, Medium), Route::TechnicalQa);
        assert_eq!(Route::of(Medium, High), Route::ConstraintCheck);
        assert_eq!(Route::of(Medium, Medium), Route::TechnicalQa);
        for fit in [High, Medium] {
            assert_eq!(Route::of(fit, Low), Route::Nurture);
        }
        for intent in Band::ALL {
            assert_eq!(Route::of(Low, *intent), Route::Disqualify);
        }
    }

    fn territory(region: Option<&str>, segment: Option<&str>, product: Option<&str>) -> Territory {
        Territory {
            region: region.map(str::to_owned),
            segment: segment.map(str::to_owned),
            product_line: product.map(str::to_owned),
        }
    }

    fn rules() -> Vec<AssignmentRule<&'static str>> {
        vec![
            AssignmentRule {
                territory: territory(Some("EMEA"), None, None),
                owner: "emea-team",
            },
            AssignmentRule {
                territory: territory(Some("EMEA"), Some("enterprise"), None),
                owner: "ana",
            },
            AssignmentRule {
                territory: territory(None, Some("smb"), None),
                owner: "smb-pod",
            },
            AssignmentRule {
                territory: territory(None, None, Some("payments")),
                owner: "pay",
            },
        ]
    }

    #[test]
    fn the_most_specific_covering_rule_decides() {
        let lead = territory(Some("emea"), Some("Enterprise"), None);
        let decided = assign(&rules(), &lead, Some(&"lead-desk"));
        assert_eq!(
            decided,
            Assignment {
                owner: Some("ana"),
                rule: Some(1),
                issue: None
            }
        );
        let lead = territory(Some("EMEA"), Some("mid_market"), None);
        assert_eq!(assign(&rules(), &lead, None).owner, Some("emea-team"));
    }

    #[test]
    fn unclear_routing_goes_to_the_default_owner_or_the_queue_with_its_issue() {
        let nowhere = territory(Some("APAC"), Some("enterprise"), None);
        assert_eq!(
            assign(&rules(), &nowhere, Some(&"lead-desk")),
            Assignment {
                owner: Some("lead-desk"),
                rule: None,
                issue: Some(RoutingIssue::NoRule {
                    lead: nowhere.clone()
                }),
            }
        );
        // EMEA and SMB and payments: three one-dimension rules with different owners.
        let torn = territory(Some("EMEA"), Some("smb"), Some("payments"));
        assert_eq!(
            assign(&rules(), &torn, None),
            Assignment {
                owner: None,
                rule: None,
                issue: Some(RoutingIssue::Conflict {
                    rules: vec![0, 2, 3]
                }),
            }
        );
    }
}
