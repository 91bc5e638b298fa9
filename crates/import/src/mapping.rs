//! The mapping file: what the source's stage names, lead statuses and loss reasons mean in
//! pipewise, and which custom fields hold the segment, competitor and loss reason.
//!
//! ```toml
//! process = "enterprise"
//!
//! [stages]
//! "Qualification" = "qualified"
//! "Closed Won" = "won"
//! "Closed Lost" = "lost"
//!
//! [lead_statuses]
//! "Open - Not Contacted" = "new"
//!
//! [losses]
//! field = "Loss_Reason__c"
//! default = "no_decision"
//! values = { "Lost to Competitor" = "competition" }
//!
//! [fields]
//! segment = "Segment__c"
//! ```
//!
//! A stage maps to a stage key of the process, or to `won` or `lost`: closing is an event
//! in pipewise, not a stage.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use pipewise_core::crm::LeadStatus;
use pipewise_core::opportunity::LossType;
use pipewise_core::process::{
    DefinitionError, DefinitionErrors, Process, ProcessKey, ProcessSet, StageKey, read_toml,
};
use serde::Deserialize;
use toml::Spanned;

use crate::table::{FileError, Table};

/// What a source stage means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageTarget {
    Open(StageKey),
    Won,
    Lost,
}

/// The source's custom fields that carry what pipewise has a place for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFields {
    pub segment: Option<String>,
    pub competitor: Option<String>,
    pub region: Option<String>,
}

/// How a lost deal's loss type is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Losses {
    /// The deal field holding the reason; without one every loss is `default`.
    pub field: Option<String>,
    pub default: LossType,
    values: HashMap<String, LossType>,
}

impl Losses {
    /// The loss type a reason means: as the file maps it, else the reason itself when it is
    /// a loss type (`competition`, as pipewise exports write), else the default.
    pub fn of(&self, reason: Option<&str>) -> LossType {
        let Some(reason) = reason.map(str::trim) else {
            return self.default;
        };
        self.values
            .get(reason)
            .copied()
            .or_else(|| reason.parse().ok())
            .unwrap_or(self.default)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub process: ProcessKey,
    stages: HashMap<String, StageTarget>,
    lead_statuses: HashMap<String, LeadStatus>,
    pub losses: Losses,
    pub fields: CustomFields,
    /// Column names of a generic CSV export that differ from pipewise's, by file stem and
    /// pipewise column.
    columns: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    process: Spanned<String>,
    #[serde(default)]
    stages: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    lead_statuses: BTreeMap<String, Spanned<String>>,
    losses: Option<RawLosses>,
    #[serde(default)]
    fields: CustomFields,
    #[serde(default)]
    columns: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLosses {
    field: Option<String>,
    default: Option<Spanned<String>>,
    #[serde(default)]
    values: BTreeMap<String, Spanned<String>>,
}

impl Mapping {
    /// Reads the mapping file `file` against the workspace's processes; every problem is
    /// reported with its line.
    pub fn parse(file: &str, text: &str, processes: &ProcessSet) -> Result<Self, DefinitionErrors> {
        let raw: RawMapping = read_toml(file, text)?;
        let mut errors = Vec::new();
        let mut error = |span: Range<usize>, key: String, message: String| {
            errors.push(DefinitionError::located(file, text, span, key, message));
        };
        let process = match ProcessKey::parse(raw.process.get_ref())
            .ok()
            .and_then(|key| processes.get(&key))
        {
            Some(process) => Some(process),
            None => {
                let known: Vec<&str> = processes
                    .processes()
                    .iter()
                    .map(|p| p.key.as_str())
                    .collect();
                error(
                    raw.process.span(),
                    "process".into(),
                    format!(
                        "no process `{}`; the workspace has {}",
                        raw.process.get_ref(),
                        known.join(", ")
                    ),
                );
                None
            }
        };
        let mut stages = HashMap::new();
        if let Some(process) = process {
            for (name, target) in &raw.stages {
                match stage_target(process, target.get_ref()) {
                    Ok(target) => {
                        stages.insert(name.trim().to_owned(), target);
                    }
                    Err(message) => error(target.span(), format!("stages.\"{name}\""), message),
                }
            }
        }
        let mut lead_statuses = HashMap::new();
        for (name, status) in &raw.lead_statuses {
            match status.get_ref().parse::<LeadStatus>() {
                Ok(status) => {
                    lead_statuses.insert(name.trim().to_owned(), status);
                }
                Err(_) => error(
                    status.span(),
                    format!("lead_statuses.\"{name}\""),
                    format!(
                        "`{}` is not a lead status: new, working, mql, sql, sal or disqualified",
                        status.get_ref()
                    ),
                ),
            }
        }
        let mut loss_type = |value: &Spanned<String>, key: String| match value
            .get_ref()
            .parse::<LossType>()
        {
            Ok(loss) => Some(loss),
            Err(_) => {
                error(
                    value.span(),
                    key,
                    format!(
                        "`{}` is not a loss type: competition, no_decision, disqualified or duplicate",
                        value.get_ref()
                    ),
                );
                None
            }
        };
        let raw_losses = raw.losses.unwrap_or(RawLosses {
            field: None,
            default: None,
            values: BTreeMap::new(),
        });
        let default = match &raw_losses.default {
            Some(value) => {
                loss_type(value, "losses.default".into()).unwrap_or(LossType::NoDecision)
            }
            None => LossType::NoDecision,
        };
        let mut values = HashMap::new();
        for (reason, value) in &raw_losses.values {
            if let Some(loss) = loss_type(value, format!("losses.values.\"{reason}\"")) {
                values.insert(reason.trim().to_owned(), loss);
            }
        }
        match process {
            Some(process) if errors.is_empty() => Ok(Self {
                process: process.key.clone(),
                stages,
                lead_statuses,
                losses: Losses {
                    field: raw_losses.field,
                    default,
                    values,
                },
                fields: raw.fields,
                columns: raw.columns,
            }),
            _ => Err(DefinitionErrors(errors)),
        }
    }

    pub fn stage(&self, source: &str) -> Option<&StageTarget> {
        self.stages.get(source.trim())
    }

    pub fn lead_status(&self, source: &str) -> Option<LeadStatus> {
        self.lead_statuses.get(source.trim()).copied()
    }

    /// The name of the column of `file` (a file stem such as `opportunities`) holding what
    /// pipewise calls `column`.
    pub fn column<'a>(&'a self, file: &str, column: &'a str) -> &'a str {
        self.columns
            .get(file)
            .and_then(|renamed| renamed.get(column))
            .map_or(column, String::as_str)
    }
}

fn stage_target(process: &Process, text: &str) -> Result<StageTarget, String> {
    match text.trim() {
        "won" => Ok(StageTarget::Won),
        "lost" => Ok(StageTarget::Lost),
        "" => Err(format!(
            "no stage given: choose one of {}, won or lost",
            stage_keys(process).join(", ")
        )),
        other => process
            .parse_stage(other)
            .map(StageTarget::Open)
            .map_err(|_| {
                format!(
                    "`{other}` is not a stage of `{}`: {}, won or lost",
                    process.key,
                    stage_keys(process).join(", ")
                )
            }),
    }
}

fn stage_keys(process: &Process) -> Vec<&str> {
    process.stages().iter().map(|s| s.key.as_str()).collect()
}

/// Source values the mapping does not name, with how many rows use each, most used first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unmapped {
    pub stages: Vec<(String, u64)>,
    pub lead_statuses: Vec<(String, u64)>,
}

impl Unmapped {
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty() && self.lead_statuses.is_empty()
    }
}

impl std::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |values: &[(String, u64)]| {
            values
                .iter()
                .map(|(value, rows)| format!("\"{value}\" ({rows} rows)"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.stages.is_empty() {
            writeln!(f, "stages not in the mapping file: {}", list(&self.stages))?;
        }
        if !self.lead_statuses.is_empty() {
            writeln!(
                f,
                "lead statuses not in the mapping file: {}",
                list(&self.lead_statuses)
            )?;
        }
        write!(
            f,
            "add them to the mapping file (pipewise import --suggest drafts one)"
        )
    }
}

/// The distinct values of a source column, with how many rows use each.
#[derive(Debug, Clone, Default)]
pub struct Seen(HashMap<String, u64>);

impl Seen {
    pub fn add(&mut self, value: &str) {
        *self.0.entry(value.trim().to_owned()).or_default() += 1;
    }

    /// Adds the value of `column` in every row of `table` that has one.
    pub fn add_column(&mut self, table: &Table, column: &str) -> Result<(), FileError> {
        let [column] = table.require([column])?;
        // Rows of the wrong width are reported when the file is read for its records.
        let mut ignored = Vec::new();
        table.rows(&mut ignored, |row, _| {
            if let Some(value) = row.text(column) {
                self.add(value);
            }
        })
    }

    /// Most used first, then by name.
    pub fn sorted(&self) -> Vec<(String, u64)> {
        let mut values: Vec<(String, u64)> = self.0.iter().map(|(v, n)| (v.clone(), *n)).collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        values
    }

    /// The values `known` does not accept.
    pub fn missing(&self, known: impl Fn(&str) -> bool) -> Vec<(String, u64)> {
        self.sorted()
            .into_iter()
            .filter(|(v, _)| !known(v))
            .collect()
    }
}

/// A draft mapping file for the stages and lead statuses seen in a source: each matched to
/// the process by name where it can be, the rest left empty for a person to fill in (an
/// empty value stops the import, so nothing is guessed silently).
pub fn suggest(process: &Process, stages: &Seen, lead_statuses: &Seen) -> String {
    let mut out = String::new();
    out.push_str("# Drafted by `pipewise import --suggest`: check every line before importing.\n");
    out.push_str(&format!("process = \"{}\"\n\n", process.key));
    out.push_str(&format!(
        "# Source stage = one of: {}, won, lost.\n[stages]\n",
        stage_keys(process).join(", ")
    ));
    for (name, rows) in stages.sorted() {
        let guess = guess_stage(process, &name).unwrap_or_default();
        out.push_str(&format!(
            "{} = \"{guess}\"  # {rows} rows\n",
            toml_key(&name)
        ));
    }
    if !lead_statuses.0.is_empty() {
        out.push_str("\n# Source status = one of: new, working, mql, sql, sal, disqualified.\n[lead_statuses]\n");
        for (name, rows) in lead_statuses.sorted() {
            let guess = guess_lead_status(&name)
                .map(|s| s.as_str())
                .unwrap_or_default();
            out.push_str(&format!(
                "{} = \"{guess}\"  # {rows} rows\n",
                toml_key(&name)
            ));
        }
    }
    out.push_str(
        "\n# Why lost deals were lost: competition and no_decision count in close and win rates,\n\
         # disqualified and duplicate do not. Name the field holding the reason, if there is one.\n\
         [losses]\n# field = \"Loss_Reason__c\"\ndefault = \"no_decision\"\n\
         # values = { \"Lost to Competitor\" = \"competition\", \"Duplicate\" = \"duplicate\" }\n\n\
         # Custom fields holding the deal's segment and competitor, and the account's region.\n\
         [fields]\n# segment = \"Segment__c\"\n# competitor = \"Competitor__c\"\n# region = \"Region__c\"\n",
    );
    out
}

fn toml_key(name: &str) -> String {
    // A TOML basic string: quotes and backslashes escaped, control characters dropped.
    let escaped: String = name
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// Lower-case letters and digits only: `Closed Won`, `closedwon` and `closed_won` agree.
fn squash(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn guess_stage(process: &Process, name: &str) -> Option<String> {
    let squashed = squash(name);
    if squashed.contains("won") {
        return Some("won".into());
    }
    if squashed.contains("lost") {
        return Some("lost".into());
    }
    let stages = process.stages();
    let exact = stages
        .iter()
        .find(|s| squash(s.key.as_str()) == squashed || squash(s.name.as_str()) == squashed);
    // Otherwise a word sharing its first six letters with a word of the key, so that
    // Qualification finds `qualified` and Negotiation/Review `negotiating`.
    let stem = |word: &str| word.get(..6).map(str::to_owned);
    let source_stems: Vec<String> = words(name).filter_map(|w| stem(&w)).collect();
    let similar = || {
        stages.iter().find(|s| {
            words(s.key.as_str())
                .filter_map(|w| stem(&w))
                .any(|k| source_stems.contains(&k))
        })
    };
    exact.or_else(similar).map(|s| s.key.as_str().to_owned())
}

/// The lower-case words of `text`.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

fn guess_lead_status(name: &str) -> Option<LeadStatus> {
    let squashed = squash(name);
    let has = |word: &str| squashed.contains(word);
    if has("notconverted") || has("unqualified") || has("disqualified") || has("junk") {
        Some(LeadStatus::Disqualified)
    } else if has("converted") {
        Some(LeadStatus::Sal)
    } else if has("salesqualified") || squashed == "sql" {
        Some(LeadStatus::Sql)
    } else if has("marketingqualified") || squashed == "mql" {
        Some(LeadStatus::Mql)
    } else if has("notcontacted") || has("new") || has("open") {
        Some(LeadStatus::New)
    } else if has("working") || has("contacted") || has("inprogress") {
        Some(LeadStatus::Working)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> ProcessSet {
        ProcessSet::shipped()
    }

    const MAPPING: &str = r#"
process = "enterprise"

[stages]
"Qualification" = "qualified"
"Closed Won" = "won"
"Closed Lost" = "lost"

[lead_statuses]
"Open - Not Contacted" = "new"

[losses]
field = "Loss_Reason__c"
default = "no_decision"
values = { "Lost to Competitor" = "competition", "Duplicate" = "duplicate" }
"#;

    #[test]
    fn a_mapping_reads_stages_statuses_and_losses() {
        let m = Mapping::parse("map.toml", MAPPING, &shipped()).unwrap();
        assert_eq!(
            m.stage("Qualification"),
            Some(&StageTarget::Open(StageKey::parse("qualified").unwrap()))
        );
        assert_eq!(m.stage(" Closed Won "), Some(&StageTarget::Won));
        assert_eq!(m.stage("Prospecting"), None);
        assert_eq!(m.lead_status("Open - Not Contacted"), Some(LeadStatus::New));
        assert_eq!(
            m.losses.of(Some("Lost to Competitor")),
            LossType::Competition
        );
        assert_eq!(m.losses.of(Some("Budget")), LossType::NoDecision);
        assert_eq!(m.losses.of(None), LossType::NoDecision);
        assert_eq!(m.losses.field.as_deref(), Some("Loss_Reason__c"));
    }

    #[test]
    fn every_bad_value_is_reported_with_its_line() {
        let text = "process = \"enterprise\"\n[stages]\n\"A\" = \"nowhere\"\n\"B\" = \"won\"\n[lead_statuses]\n\"X\" = \"hot\"\n[losses]\ndefault = \"price\"\n";
        let errors = Mapping::parse("map.toml", text, &shipped()).unwrap_err();
        let lines: Vec<(usize, &str)> = errors.0.iter().map(|e| (e.line, e.key.as_str())).collect();
        assert_eq!(
            lines,
            vec![
                (3, "stages.\"A\""),
                (6, "lead_statuses.\"X\""),
                (8, "losses.default")
            ]
        );
        assert!(
            errors.0[0]
                .message
                .starts_with("`nowhere` is not a stage of `enterprise`: qualified, ")
        );
    }

    #[test]
    fn an_unknown_process_and_unknown_keys_are_refused() {
        let errors = Mapping::parse("map.toml", "process = \"retail\"\n", &shipped()).unwrap_err();
        assert!(
            errors.0[0]
                .message
                .starts_with("no process `retail`; the workspace has ")
        );
        let errors = Mapping::parse(
            "map.toml",
            "process = \"enterprise\"\nstage = {}\n",
            &shipped(),
        )
        .unwrap_err();
        assert_eq!(errors.0[0].line, 2);
    }

    #[test]
    fn a_suggestion_matches_names_and_leaves_the_rest_for_a_person() {
        let process = shipped()
            .get(&ProcessKey::parse("enterprise").unwrap())
            .unwrap()
            .clone();
        let mut stages = Seen::default();
        for name in [
            "Closed Won",
            "Closed Won",
            "closedlost",
            "Negotiation/Review",
            "Qualification",
            "Id. Decision Makers",
        ] {
            stages.add(name);
        }
        let mut statuses = Seen::default();
        for name in [
            "Closed - Converted",
            "Closed - Not Converted",
            "Working - Contacted",
            "Open - Not Contacted",
        ] {
            statuses.add(name);
        }
        let draft = suggest(&process, &stages, &statuses);
        assert!(
            draft.contains("\"Closed Won\" = \"won\"  # 2 rows\n"),
            "{draft}"
        );
        assert!(draft.contains("\"closedlost\" = \"lost\"  # 1 rows\n"));
        assert!(draft.contains("\"Negotiation/Review\" = \"negotiating\""));
        assert!(draft.contains("\"Qualification\" = \"qualified\""));
        assert!(draft.contains("\"Id. Decision Makers\" = \"\""));
        assert!(draft.contains("\"Closed - Converted\" = \"sal\""));
        assert!(draft.contains("\"Closed - Not Converted\" = \"disqualified\""));
        assert!(draft.contains("\"Working - Contacted\" = \"working\""));
        assert!(draft.contains("\"Open - Not Contacted\" = \"new\""));
        // The draft reads back; its empty stage is refused, so nothing is imported unchecked.
        let errors = Mapping::parse("draft.toml", &draft, &shipped()).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].key, "stages.\"Id. Decision Makers\"");
    }
}
