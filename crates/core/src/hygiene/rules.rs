//! Hygiene rule settings: the shipped defaults (`hygiene.toml`) and a workspace's overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::keys::{ItemKey, ProcessKey, StageKey};
use crate::process::{DefinitionError, DefinitionErrors, ProcessSet, read_toml};
use crate::validation::InvalidValue;

text_enum! {
    pub enum Severity {
        Info = "info",
        Warning = "warning",
        Error = "error",
    }
}

text_enum! {
    /// Every hygiene rule pipewise runs.
    pub enum RuleId {
        MissingNextStep = "missing_next_step",
        NextStepOverdue = "next_step_overdue",
        PastCloseDate = "past_close_date",
        NoRecentActivity = "no_recent_activity",
        StalledInStage = "stalled_in_stage",
        AmountMissing = "amount_missing",
        CommitWithoutRedlines = "commit_without_redlines",
        SingleThreaded = "single_threaded",
        NoEconomicBuyer = "no_economic_buyer",
        RepeatedPushes = "repeated_pushes",
        OverrideInconsistent = "override_inconsistent",
        DuplicateAccount = "duplicate_account",
        DuplicateContact = "duplicate_contact",
        RequiredFieldsMissing = "required_fields_missing",
    }
}

impl RuleId {
    /// What the rule checks and how to fix a finding, unless the settings say otherwise.
    fn default_text(self) -> (&'static str, &'static str) {
        use RuleId::*;
        match self {
            MissingNextStep => (
                "Open deal without a next step",
                "Agree the next step with the buyer and record it with an owner and a date.",
            ),
            NextStepOverdue => (
                "The next step's date has passed",
                "Record what happened and set the next dated step.",
            ),
            PastCloseDate => (
                "Open deal whose expected close date has passed",
                "Close it, or set a close date the buyer's plan supports.",
            ),
            NoRecentActivity => (
                "No call, e-mail or meeting recently",
                "Contact the buyer, or move the deal back or out if it has gone quiet.",
            ),
            StalledInStage => (
                "In its stage longer than 3 in 4 deals were (P75)",
                "Find what blocks the buyer's next step, or move the deal to where the buyer is.",
            ),
            AmountMissing => (
                "No amount from this stage on",
                "Estimate the amount with the buyer's scope.",
            ),
            CommitWithoutRedlines => (
                "In Commit without contract redlines or a signature date",
                "Confirm redlines have started or a signature date is set, or take it out of Commit.",
            ),
            SingleThreaded => (
                "Only one person on the stakeholder map",
                "Map the signer, decision maker and blockers and meet at least one more of them.",
            ),
            NoEconomicBuyer => (
                "No economic buyer on the stakeholder map",
                "Ask the champion who approves the budget and get a meeting with them.",
            ),
            RepeatedPushes => (
                "Close date pushed repeatedly this quarter",
                "Rebuild the close plan with the buyer: decision date, signers, procurement steps.",
            ),
            OverrideInconsistent => (
                "Forecast category set above what the stage supports",
                "Move the deal to the stage the buyer is in, or remove the override.",
            ),
            DuplicateAccount => (
                "Another account has the same web domain",
                "Merge the accounts and keep one owner.",
            ),
            DuplicateContact => (
                "Another contact has the same e-mail address",
                "Merge the contacts.",
            ),
            RequiredFieldsMissing => (
                "Fields the stage requires are empty",
                "Fill in the fields the process asks for at this stage.",
            ),
        }
    }
}

/// The settings of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: RuleId,
    pub enabled: bool,
    pub severity: Severity,
    pub description: String,
    pub fix: String,
    /// Days without activity (`no_recent_activity`).
    pub days: Option<u32>,
    /// Pushes that make a finding (`repeated_pushes`).
    pub pushes: Option<u32>,
    /// Checklist items any of which count as redlining evidence (`commit_without_redlines`).
    pub evidence: Vec<ItemKey>,
    /// The stage from which the rule applies, per process; processes not named are skipped.
    pub from_stage: BTreeMap<ProcessKey, StageKey>,
}

/// Every rule's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HygieneRules {
    rules: BTreeMap<RuleId, Rule>,
}

const DEFAULTS_TOML: &str = include_str!("../../hygiene.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, RawRule>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRule {
    enabled: Option<bool>,
    severity: Option<Spanned<String>>,
    description: Option<String>,
    fix: Option<String>,
    days: Option<Spanned<i64>>,
    pushes: Option<Spanned<i64>>,
    evidence: Option<Vec<Spanned<String>>>,
    from_stage: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

impl HygieneRules {
    /// The shipped settings.
    #[allow(clippy::expect_used)]
    pub fn shipped() -> Self {
        // The shipped file is part of the program and checked by a test below.
        Self::overlay(Self::built_in(), "hygiene.toml", DEFAULTS_TOML)
            .expect("shipped hygiene rules are valid")
    }

    /// The shipped settings with those in `text` laid over them; every problem is located.
    pub fn parse(file: &str, text: &str) -> Result<Self, DefinitionErrors> {
        Self::overlay(Self::shipped(), file, text)
    }

    /// One entry per rule with its built-in texts; thresholds come from the shipped file.
    fn built_in() -> Self {
        let rules = RuleId::ALL
            .iter()
            .map(|id| {
                let (description, fix) = id.default_text();
                let rule = Rule {
                    id: *id,
                    enabled: true,
                    severity: Severity::Warning,
                    description: description.to_owned(),
                    fix: fix.to_owned(),
                    days: None,
                    pushes: None,
                    evidence: Vec::new(),
                    from_stage: BTreeMap::new(),
                };
                (*id, rule)
            })
            .collect();
        Self { rules }
    }

    fn overlay(base: Self, file: &str, text: &str) -> Result<Self, DefinitionErrors> {
        let mut rules = base.rules;
        let mut errors = Vec::new();
        let locate = |span: std::ops::Range<usize>, key: String, message: String| {
            DefinitionError::located(file, text, span, key, message)
        };
        let raw: RawFile = read_toml(file, text)?;
        let refused =
            |e: InvalidValue| format!("`{}` is not accepted: {}", e.value(), e.expected());
        for (id, raw) in raw.rules {
            let path = format!("rules.{}", id.get_ref());
            let rule_id = match id.get_ref().parse::<RuleId>() {
                Ok(rule_id) => rule_id,
                Err(e) => {
                    errors.push(locate(id.span(), path, refused(e)));
                    continue;
                }
            };
            let Some(rule) = rules.get_mut(&rule_id) else {
                continue;
            };
            if let Some(enabled) = raw.enabled {
                rule.enabled = enabled;
            }
            if let Some(severity) = &raw.severity {
                match severity.get_ref().parse() {
                    Ok(s) => rule.severity = s,
                    Err(e) => errors.push(locate(
                        severity.span(),
                        format!("{path}.severity"),
                        refused(e),
                    )),
                }
            }
            if let Some(description) = raw.description {
                rule.description = description;
            }
            if let Some(fix) = raw.fix {
                rule.fix = fix;
            }
            let mut count = |value: &Option<Spanned<i64>>, name: &str, slot: &mut Option<u32>| {
                if let Some(value) = value {
                    match u32::try_from(*value.get_ref()) {
                        Ok(n) if (1..=3650).contains(&n) => *slot = Some(n),
                        _ => errors.push(locate(
                            value.span(),
                            format!("{path}.{name}"),
                            format!(
                                "`{}` is not accepted: a whole number from 1 to 3650",
                                value.get_ref()
                            ),
                        )),
                    }
                }
            };
            count(&raw.days, "days", &mut rule.days);
            count(&raw.pushes, "pushes", &mut rule.pushes);
            if let Some(items) = &raw.evidence {
                rule.evidence.clear();
                for item in items {
                    match ItemKey::parse(item.get_ref()) {
                        Ok(key) => rule.evidence.push(key),
                        Err(e) => {
                            errors.push(locate(item.span(), format!("{path}.evidence"), refused(e)))
                        }
                    }
                }
            }
            if let Some(stages) = &raw.from_stage {
                rule.from_stage.clear();
                for (process, stage) in stages {
                    let key = format!("{path}.from_stage.{}", process.get_ref());
                    match (
                        ProcessKey::parse(process.get_ref()),
                        StageKey::parse(stage.get_ref()),
                    ) {
                        (Ok(p), Ok(s)) => {
                            rule.from_stage.insert(p, s);
                        }
                        (Err(e), _) => errors.push(locate(process.span(), key, refused(e))),
                        (_, Err(e)) => errors.push(locate(stage.span(), key, refused(e))),
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(Self { rules })
        } else {
            Err(DefinitionErrors(errors))
        }
    }

    pub fn get(&self, id: RuleId) -> &Rule {
        // Every rule id has settings: `parse` starts from one entry per id.
        &self.rules[&id]
    }

    /// Every `from_stage` entry naming a process or stage `processes` does not have, in words;
    /// such a rule would silently never apply.
    pub fn unknown_stages(&self, processes: &ProcessSet) -> Vec<String> {
        let mut problems = Vec::new();
        for rule in self.rules.values() {
            for (process, stage) in &rule.from_stage {
                match processes.get(process) {
                    None => problems.push(format!(
                        "rules.{}.from_stage: there is no process `{process}`",
                        rule.id
                    )),
                    Some(p) if p.stage(stage).is_none() => problems.push(format!(
                        "rules.{}.from_stage.{process}: `{stage}` is not a stage of it",
                        rule.id
                    )),
                    Some(_) => {}
                }
            }
        }
        problems
    }

    /// The rules that run.
    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values().filter(|r| r.enabled)
    }
}
