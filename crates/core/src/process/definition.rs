//! Process definitions in TOML: parsing and validation. Every error names the file, the line
//! and column, and the key, so RevOps can fix a definition without guessing; a definition
//! with any error is refused whole.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::criteria::{Criterion, DealField, PlanRequirement, ScoreRef, Test};
use super::{ChecklistItem, ForecastCategory, Phase, Process, ProcessVersion, Stage};
use crate::crm::BuyingRole;
use crate::evidence::{Engagement, Gate, ScoreItem, Scorecard};
use crate::keys::{CriterionKey, ItemKey, ProcessKey, StageKey};
use crate::text::{Label, Name, Note};
use crate::validation::InvalidValue;

/// One problem in a process file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the offending key, such as `stages[2].phase`; empty when the file
    /// cannot be read as TOML at all.
    pub key: String,
    pub message: String,
}

/// Reads `text`, the file `file`, as TOML of the shape `T`; a syntax or shape error comes
/// back located by line and column.
pub fn read_toml<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, DefinitionErrors> {
    toml::from_str(text).map_err(|e| {
        DefinitionErrors(vec![DefinitionError::located(
            file,
            text,
            e.span().unwrap_or(0..0),
            String::new(),
            e.message().trim().to_owned(),
        )])
    })
}

impl DefinitionError {
    /// An error at byte `span.start` of `text`, located by line and column.
    pub fn located(
        file: &str,
        text: &str,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let before = &text[..span.start.min(text.len())];
        Self {
            file: file.to_owned(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a process file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionErrors(pub Vec<DefinitionError>);

impl fmt::Display for DefinitionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Artifacts a stage can name as its evidence, besides checklist items.
const ARTIFACTS: [&str; 3] = ["mutual_action_plan", "stakeholder_map", "success_criteria"];
const MAX_TYPICAL_DAYS: i64 = 730;

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcess {
    key: Text,
    name: Text,
    description: Option<Text>,
    #[serde(default)]
    categories: BTreeMap<Text, Text>,
    #[serde(default)]
    checklist: BTreeMap<Text, Text>,
    #[serde(default)]
    criteria: BTreeMap<Text, RawCriterion>,
    stages: Spanned<Vec<RawStage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    label: Text,
    field: Option<Text>,
    gate: Option<Text>,
    scorecard: Option<Text>,
    at_least: Option<Spanned<i64>>,
    stakeholder: Option<Text>,
    engagement: Option<Text>,
    stakeholders: Option<Spanned<i64>>,
    mutual_action_plan: Option<Text>,
    success_criteria: Option<Spanned<i64>>,
    checklist: Option<Text>,
    all: Option<Spanned<Vec<Text>>>,
    any: Option<Spanned<Vec<Text>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    key: Text,
    name: Text,
    description: Option<Text>,
    phase: Text,
    sal: Option<Spanned<bool>>,
    #[serde(default)]
    entry: Vec<Text>,
    #[serde(default)]
    exit: Vec<Text>,
    #[serde(default)]
    evidence: Vec<Text>,
    #[serde(default)]
    required_fields: Vec<Text>,
    no_go: Option<Text>,
    owner_role: Option<Text>,
    typical_days: Spanned<i64>,
    probability: Option<Spanned<i64>>,
}

/// Collects errors with their locations while a definition is checked.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<DefinitionError>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let error = DefinitionError::located(self.file, self.text, span, key, message);
        self.errors.push(error);
    }

    /// Parses a spanned value, recording a located error if it is refused.
    fn parse<T>(
        &mut self,
        raw: &Text,
        key: impl Into<String>,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        match parse(raw.get_ref()) {
            Ok(value) => Some(value),
            Err(e) => {
                self.error(
                    raw.span(),
                    key,
                    format!("`{}` is not accepted: {}", e.value(), e.expected()),
                );
                None
            }
        }
    }

    fn count(
        &mut self,
        raw: &Spanned<i64>,
        key: impl Into<String>,
        range: Range<i64>,
    ) -> Option<i64> {
        let value = *raw.get_ref();
        if range.contains(&value) {
            Some(value)
        } else {
            self.error(
                raw.span(),
                key,
                format!(
                    "`{value}` is not accepted: a whole number from {} to {}",
                    range.start,
                    range.end - 1
                ),
            );
            None
        }
    }
}

/// Parses and validates one process file. `file` names it in error messages.
pub fn parse_process(
    file: &str,
    text: &str,
    version: ProcessVersion,
) -> Result<Process, DefinitionErrors> {
    let mut checker = Checker {
        file,
        text,
        errors: Vec::new(),
    };
    let raw: RawProcess = read_toml(file, text)?;
    let process = check(&mut checker, raw, version);
    match process {
        Some(process) if checker.errors.is_empty() => Ok(process),
        _ => {
            checker.errors.sort_by_key(|e| (e.line, e.column));
            Err(DefinitionErrors(checker.errors))
        }
    }
}

fn check(c: &mut Checker<'_>, raw: RawProcess, version: ProcessVersion) -> Option<Process> {
    let key = c.parse(&raw.key, "key", ProcessKey::parse);
    let name = c.parse(&raw.name, "name", Name::parse);
    let description = raw
        .description
        .as_ref()
        .and_then(|d| c.parse(d, "description", Note::parse));

    let mut categories: BTreeMap<Phase, ForecastCategory> = Phase::ALL
        .iter()
        .map(|p| (*p, p.default_category()))
        .collect();
    for (phase, category) in &raw.categories {
        let path = format!("categories.{}", phase.get_ref());
        let phase = c.parse(phase, &path, str::parse::<Phase>);
        let category = c.parse(category, &path, |text| {
            match text.parse::<ForecastCategory>() {
                Ok(ForecastCategory::Closed) | Err(_) => Err(InvalidValue::new(
                    text,
                    "one of pipeline, best_case, commit, omitted",
                )),
                Ok(category) => Ok(category),
            }
        });
        if let (Some(phase), Some(category)) = (phase, category) {
            categories.insert(phase, category);
        }
    }

    let mut checklist = Vec::new();
    for (item, label) in &raw.checklist {
        let path = format!("checklist.{}", item.get_ref());
        let item = c.parse(item, &path, ItemKey::parse);
        let label = c.parse(label, &path, Name::parse);
        if let (Some(key), Some(label)) = (item, label) {
            checklist.push(ChecklistItem { key, label });
        }
    }

    let criterion_keys: BTreeSet<&str> =
        raw.criteria.keys().map(|k| k.get_ref().as_str()).collect();
    let mut criteria = BTreeMap::new();
    for (key, raw_criterion) in &raw.criteria {
        let path = format!("criteria.{}", key.get_ref());
        let parsed_key = c.parse(key, &path, CriterionKey::parse);
        let label = c.parse(&raw_criterion.label, format!("{path}.label"), Name::parse);
        let test = check_test(c, &path, key, raw_criterion, &checklist, &criterion_keys);
        if let (Some(key), Some(label), Some(test)) = (parsed_key, label, test) {
            criteria.insert(key.clone(), Criterion { key, label, test });
        }
    }
    check_cycles(c, &raw.criteria);

    let stages = check_stages(c, &raw.stages, &checklist, &criterion_keys)?;
    let sal_index = stages.iter().position(|(_, sal)| *sal);
    let sal_marked = raw
        .stages
        .get_ref()
        .iter()
        .any(|s| s.sal.as_ref().is_some_and(|v| *v.get_ref()));
    if !sal_marked {
        c.error(
            raw.stages.span(),
            "stages",
            "no stage is marked `sal = true`; mark the stage at which a deal becomes qualified pipeline",
        );
    }
    Some(Process {
        key: key?,
        name: name?,
        description,
        version,
        categories,
        checklist,
        criteria,
        stages: stages.into_iter().map(|(s, _)| s).collect(),
        sal_index: sal_index?,
    })
}

fn check_test(
    c: &mut Checker<'_>,
    path: &str,
    key: &Text,
    raw: &RawCriterion,
    checklist: &[ChecklistItem],
    criterion_keys: &BTreeSet<&str>,
) -> Option<Test> {
    let kinds = [
        raw.field.as_ref().map(|_| "field"),
        raw.gate.as_ref().map(|_| "gate"),
        raw.scorecard.as_ref().map(|_| "scorecard"),
        raw.stakeholder.as_ref().map(|_| "stakeholder"),
        raw.stakeholders.as_ref().map(|_| "stakeholders"),
        raw.mutual_action_plan
            .as_ref()
            .map(|_| "mutual_action_plan"),
        raw.success_criteria.as_ref().map(|_| "success_criteria"),
        raw.checklist.as_ref().map(|_| "checklist"),
        raw.all.as_ref().map(|_| "all"),
        raw.any.as_ref().map(|_| "any"),
    ];
    let kinds: Vec<&str> = kinds.into_iter().flatten().collect();
    if kinds.len() != 1 {
        c.error(
            key.span(),
            path,
            format!(
                "a criterion tests exactly one of field, gate, scorecard, stakeholder, \
                 stakeholders, mutual_action_plan, success_criteria, checklist, all, any; \
                 found {}",
                if kinds.is_empty() {
                    "none".to_owned()
                } else {
                    kinds.join(", ")
                }
            ),
        );
        return None;
    }
    if let (Some(at_least), None) = (&raw.at_least, &raw.scorecard) {
        c.error(
            at_least.span(),
            format!("{path}.at_least"),
            "`at_least` goes with `scorecard`",
        );
    }
    if let (Some(engagement), None) = (&raw.engagement, &raw.stakeholder) {
        c.error(
            engagement.span(),
            format!("{path}.engagement"),
            "`engagement` goes with `stakeholder`",
        );
    }
    if let Some(field) = &raw.field {
        let field = c.parse(field, format!("{path}.field"), |t| {
            t.parse::<DealField>()
                .map_err(|e| InvalidValue::new(t, format!("a deal field: {}", e.expected())))
        })?;
        return Some(Test::Field(field));
    }
    if let Some(gate) = &raw.gate {
        return c
            .parse(gate, format!("{path}.gate"), str::parse::<Gate>)
            .map(Test::Gate);
    }
    if let Some(score) = &raw.scorecard {
        let score = c.parse(score, format!("{path}.scorecard"), |t| {
            match (t.parse::<ScoreItem>(), t.parse::<Scorecard>()) {
                (Ok(item), _) => Ok(ScoreRef::Item(item)),
                (_, Ok(card)) => Ok(ScoreRef::Total(card)),
                _ => Err(InvalidValue::new(
                    t,
                    "a scorecard (bant, meddicc, readiness, budget_procurement) or one of its \
                     elements, such as readiness.urgency",
                )),
            }
        })?;
        let max = match score {
            ScoreRef::Item(item) => item.max_score(),
            ScoreRef::Total(card) => card.max_score(),
        };
        let Some(at_least) = &raw.at_least else {
            c.error(key.span(), path, "a scorecard criterion needs `at_least`");
            return None;
        };
        let at_least = c.count(at_least, format!("{path}.at_least"), 1..i64::from(max) + 1)?;
        return Some(Test::Score {
            score,
            at_least: u8::try_from(at_least).ok()?,
        });
    }
    if let Some(role) = &raw.stakeholder {
        let role = c.parse(
            role,
            format!("{path}.stakeholder"),
            str::parse::<BuyingRole>,
        );
        let engagement = match &raw.engagement {
            Some(e) => c.parse(e, format!("{path}.engagement"), str::parse::<Engagement>),
            None => Some(Engagement::Aware),
        };
        return Some(Test::Stakeholder {
            role: role?,
            engagement: engagement?,
        });
    }
    if let Some(n) = &raw.stakeholders {
        let n = c.count(n, format!("{path}.stakeholders"), 1..51)?;
        return Some(Test::Stakeholders(usize::try_from(n).ok()?));
    }
    if let Some(plan) = &raw.mutual_action_plan {
        return c
            .parse(
                plan,
                format!("{path}.mutual_action_plan"),
                str::parse::<PlanRequirement>,
            )
            .map(Test::MutualActionPlan);
    }
    if let Some(n) = &raw.success_criteria {
        let n = c.count(n, format!("{path}.success_criteria"), 1..21)?;
        return Some(Test::SuccessCriteria(usize::try_from(n).ok()?));
    }
    if let Some(item) = &raw.checklist {
        return c
            .parse(item, format!("{path}.checklist"), |t| {
                checklist
                    .iter()
                    .find(|i| i.key.as_str() == t)
                    .map(|i| i.key.clone())
                    .ok_or_else(|| InvalidValue::new(t, "an item declared under [checklist]"))
            })
            .map(Test::Checklist);
    }
    let (members, kind) = match (&raw.all, &raw.any) {
        (Some(all), _) => (all, "all"),
        (_, Some(any)) => (any, "any"),
        _ => return None,
    };
    if members.get_ref().is_empty() {
        c.error(
            members.span(),
            format!("{path}.{kind}"),
            "name at least one criterion",
        );
        return None;
    }
    let mut keys = Vec::new();
    for member in members.get_ref() {
        let known = c.parse(member, format!("{path}.{kind}"), |t| {
            if criterion_keys.contains(t) {
                CriterionKey::parse(t)
            } else {
                Err(InvalidValue::new(
                    t,
                    "a criterion declared under [criteria]",
                ))
            }
        });
        keys.extend(known);
    }
    if keys.len() != members.get_ref().len() {
        return None;
    }
    Some(if kind == "all" {
        Test::All(keys)
    } else {
        Test::Any(keys)
    })
}

/// Refuses criteria that refer to themselves through `all` or `any`.
fn check_cycles(c: &mut Checker<'_>, criteria: &BTreeMap<Text, RawCriterion>) {
    let members = |raw: &RawCriterion| -> Vec<String> {
        raw.all
            .iter()
            .chain(raw.any.iter())
            .flat_map(|m| m.get_ref().iter().map(|k| k.get_ref().clone()))
            .collect()
    };
    let graph: BTreeMap<&str, Vec<String>> = criteria
        .iter()
        .map(|(k, raw)| (k.get_ref().as_str(), members(raw)))
        .collect();
    let mut reported = BTreeSet::new();
    for (start, raw) in criteria {
        // Depth-first search for a path from `start` back to itself.
        let mut stack: Vec<Vec<&str>> = vec![vec![start.get_ref().as_str()]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let Some(&last) = path.last() else { continue };
            for next in graph.get(last).into_iter().flatten() {
                if next == start.get_ref() {
                    let cycle: BTreeSet<&str> = path.iter().copied().collect();
                    if reported.insert(cycle) {
                        let shown: Vec<&str> =
                            path.iter().copied().chain([next.as_str()]).collect();
                        let span = raw
                            .all
                            .as_ref()
                            .or(raw.any.as_ref())
                            .map_or(start.span(), |m| m.span());
                        c.error(
                            span,
                            format!("criteria.{}", start.get_ref()),
                            format!(
                                "criteria refer to each other in a cycle: {}",
                                shown.join(" → ")
                            ),
                        );
                    }
                } else if seen.insert(next.as_str()) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
}

/// The stages in order, each with whether it is marked as the SAL stage.
fn check_stages(
    c: &mut Checker<'_>,
    raw: &Spanned<Vec<RawStage>>,
    checklist: &[ChecklistItem],
    criterion_keys: &BTreeSet<&str>,
) -> Option<Vec<(Stage, bool)>> {
    if raw.get_ref().is_empty() {
        c.error(raw.span(), "stages", "a process needs at least one stage");
        return None;
    }
    let mut stages = Vec::new();
    let mut keys = BTreeSet::new();
    let mut sal_seen = false;
    let mut last_phase: Option<(Phase, String)> = None;
    for (i, s) in raw.get_ref().iter().enumerate() {
        let path = format!("stages[{i}]");
        let key = c.parse(&s.key, format!("{path}.key"), StageKey::parse);
        if let Some(key) = &key {
            if !keys.insert(key.clone()) {
                c.error(
                    s.key.span(),
                    format!("{path}.key"),
                    format!("stage `{key}` is declared twice"),
                );
            }
        }
        let name = c.parse(&s.name, format!("{path}.name"), Name::parse);
        let description = s
            .description
            .as_ref()
            .and_then(|d| c.parse(d, format!("{path}.description"), Note::parse));
        let phase = c.parse(&s.phase, format!("{path}.phase"), str::parse::<Phase>);
        if let (Some(phase), Some((previous, previous_key))) = (phase, &last_phase) {
            if phase < *previous {
                c.error(
                    s.phase.span(),
                    format!("{path}.phase"),
                    format!("`{phase}` comes before `{previous}` of stage `{previous_key}`; stages go through the buyer phases in order"),
                );
            }
        }
        if let Some(phase) = phase {
            last_phase = Some((phase, s.key.get_ref().clone()));
        }
        let sal = s.sal.as_ref().is_some_and(|v| *v.get_ref());
        if sal && sal_seen {
            let span = s.sal.as_ref().map_or(s.key.span(), |v| v.span());
            c.error(
                span,
                format!("{path}.sal"),
                "another stage is already the SAL stage; a process has exactly one",
            );
        }
        sal_seen |= sal;
        let mut criteria = |list: &[Text], field: &str| -> Vec<CriterionKey> {
            list.iter()
                .filter_map(|k| {
                    c.parse(k, format!("{path}.{field}"), |t| {
                        if criterion_keys.contains(t) {
                            CriterionKey::parse(t)
                        } else {
                            Err(InvalidValue::new(
                                t,
                                "a criterion declared under [criteria]",
                            ))
                        }
                    })
                })
                .collect()
        };
        let entry = criteria(&s.entry, "entry");
        let exit = criteria(&s.exit, "exit");
        let evidence = s
            .evidence
            .iter()
            .filter_map(|e| {
                c.parse(e, format!("{path}.evidence"), |t| {
                    let known = ARTIFACTS.contains(&t) || checklist.iter().any(|i| i.key.as_str() == t);
                    if known {
                        ItemKey::parse(t)
                    } else {
                        Err(InvalidValue::new(
                            t,
                            "mutual_action_plan, stakeholder_map, success_criteria or an item declared under [checklist]",
                        ))
                    }
                })
            })
            .collect();
        let required_fields = s
            .required_fields
            .iter()
            .filter_map(|f| {
                c.parse(f, format!("{path}.required_fields"), |t| {
                    t.parse::<DealField>().map_err(|e| {
                        InvalidValue::new(t, format!("a deal field: {}", e.expected()))
                    })
                })
            })
            .collect();
        let no_go = s
            .no_go
            .as_ref()
            .and_then(|n| c.parse(n, format!("{path}.no_go"), Note::parse));
        let owner_role = s
            .owner_role
            .as_ref()
            .and_then(|r| c.parse(r, format!("{path}.owner_role"), Label::parse));
        let typical_days = c.count(
            &s.typical_days,
            format!("{path}.typical_days"),
            1..MAX_TYPICAL_DAYS + 1,
        );
        let probability = match &s.probability {
            Some(p) => c.count(p, format!("{path}.probability"), 0..101).map(Some),
            None => Some(None),
        };
        if let (Some(key), Some(name), Some(phase), Some(typical_days), Some(probability)) =
            (key, name, phase, typical_days, probability)
        {
            stages.push((
                Stage {
                    key,
                    name,
                    description,
                    phase,
                    entry,
                    exit,
                    evidence,
                    required_fields,
                    no_go,
                    owner_role,
                    typical_days: u32::try_from(typical_days).ok()?,
                    probability: probability.and_then(|p| u8::try_from(p).ok()),
                },
                sal,
            ));
        }
    }
    Some(stages)
}
