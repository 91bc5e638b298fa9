//! The sales process: ordered stages that are buyer states, grouped into buyer phases that
//! map to forecast categories, with one stage marking qualified pipeline (the SAL stage).

use serde::{Deserialize, Serialize};

use crate::text::Name;
use crate::validation::InvalidValue;

text_enum! {
    /// Where the buyer is: talking about a problem, running a funded project, or
    /// negotiating with their chosen vendor.
    pub enum Phase {
        Conversations = "conversations",
        FundedProjects = "funded_projects",
        VocNegotiations = "voc_negotiations",
    }
}

impl Phase {
    /// The forecast category a phase maps to by default: Conversations → Pipeline,
    /// Funded Projects → Best Case, Vendor-of-Choice Negotiations → Commit.
    pub const fn default_category(self) -> ForecastCategory {
        match self {
            Phase::Conversations => ForecastCategory::Pipeline,
            Phase::FundedProjects => ForecastCategory::BestCase,
            Phase::VocNegotiations => ForecastCategory::Commit,
        }
    }
}

text_enum! {
    pub enum ForecastCategory {
        Pipeline = "pipeline",
        BestCase = "best_case",
        Commit = "commit",
        /// Won.
        Closed = "closed",
        /// Lost, or excluded from the forecast.
        Omitted = "omitted",
    }
}

/// Longest stage or process key.
const MAX_KEY_CHARS: usize = 40;

fn parse_key(text: &str, example: &str) -> Result<String, InvalidValue> {
    let valid = !text.is_empty()
        && text.len() <= MAX_KEY_CHARS
        && text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(InvalidValue::new(
            text,
            format!(
                "1 to {MAX_KEY_CHARS} lower-case letters, digits and underscores, such as {example}"
            ),
        ))
    }
}

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident, example = $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                parse_key(text, $example).map(Self)
            }
        }

        string_conversions!($name);
    };
}

key_type!(
    /// Identifies a stage within a process, such as `business_case`.
    StageKey, example = "business_case"
);
key_type!(
    /// Identifies a process within a workspace, such as `enterprise`.
    ProcessKey, example = "enterprise"
);

/// Which revision of a workspace's process definitions an event was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProcessVersion(pub u32);

/// One buyer state in a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub key: StageKey,
    /// What the buyer is doing, in their words: "Building business case".
    pub name: Name,
    pub description: String,
    pub phase: Phase,
    /// How long buyers usually stay in this state.
    pub typical_days: u32,
}

/// An ordered list of open stages. Closed won and closed lost are outcomes, not stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub key: ProcessKey,
    pub name: Name,
    pub version: ProcessVersion,
    stages: Vec<Stage>,
    /// Index of the stage at which an opportunity counts as qualified pipeline.
    sal_index: usize,
}

impl Process {
    /// The enterprise process: two stages per buyer phase, from qualified conversation to
    /// contract redlines.
    pub fn default_enterprise() -> Self {
        let stage = |key: &str, name: &str, phase, typical_days, description: &str| Stage {
            key: StageKey(key.to_owned()),
            name: Name::trusted(name),
            description: description.to_owned(),
            phase,
            typical_days,
        };
        let stages = vec![
            stage(
                "qualified",
                "Qualified",
                Phase::Conversations,
                14,
                "The buyer has a real problem we fit, a path to a funded project within 12 \
                 months, and has committed to connect us with someone who can approve it.",
            ),
            stage(
                "business_case",
                "Building business case",
                Phase::Conversations,
                30,
                "The buyer is quantifying the impact of the problem and agreeing success \
                 criteria with a metric, baseline, target and date.",
            ),
            stage(
                "evaluating",
                "Evaluating options",
                Phase::FundedProjects,
                30,
                "The project is funded; the buyer is comparing a long list of vendors with \
                 known stakeholders and a known decision process.",
            ),
            stage(
                "shortlisted",
                "Shortlisted",
                Phase::FundedProjects,
                21,
                "The buyer has confirmed a shortlist of at most three vendors, including us, \
                 and agreed a mutual action plan.",
            ),
            stage(
                "negotiating",
                "Selected, negotiating",
                Phase::VocNegotiations,
                21,
                "The buyer has told us we are the vendor of choice and is reviewing our \
                 pricing proposal.",
            ),
            stage(
                "redlining",
                "Redlining and procurement",
                Phase::VocNegotiations,
                14,
                "The contract is in redlines, procurement steps are known and a signature \
                 date is set.",
            ),
        ];
        Self {
            key: ProcessKey("enterprise".to_owned()),
            name: Name::trusted("Enterprise"),
            version: ProcessVersion(1),
            stages,
            sal_index: 0,
        }
    }

    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    pub fn stage(&self, key: &StageKey) -> Option<&Stage> {
        self.stages.iter().find(|s| &s.key == key)
    }

    /// Position of a stage in the process (0 for the first).
    pub fn position(&self, key: &StageKey) -> Option<usize> {
        self.stages.iter().position(|s| &s.key == key)
    }

    /// The stage at which an opportunity becomes qualified pipeline.
    pub fn sal_stage(&self) -> &Stage {
        &self.stages[self.sal_index]
    }

    /// Whether being in `stage` means the opportunity has reached qualified pipeline.
    pub fn is_qualified(&self, stage: &StageKey) -> bool {
        self.position(stage).is_some_and(|p| p >= self.sal_index)
    }

    /// The forecast category an open opportunity in `stage` is in, absent an override.
    pub fn category_of(&self, stage: &StageKey) -> Option<ForecastCategory> {
        self.stage(stage).map(|s| s.phase.default_category())
    }

    /// Parses a stage key, refusing keys this process does not have and naming the ones it does.
    pub fn parse_stage(&self, text: &str) -> Result<StageKey, InvalidValue> {
        let unknown = || {
            let keys: Vec<&str> = self.stages.iter().map(|s| s.key.as_str()).collect();
            InvalidValue::new(
                text,
                format!("a stage of the {} process: {}", self.name, keys.join(", ")),
            )
        };
        let key: StageKey = text.trim().parse().map_err(|_| unknown())?;
        self.stage(&key).map(|_| key).ok_or_else(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> StageKey {
        s.parse().unwrap()
    }

    #[test]
    fn default_process_maps_phases_to_categories() {
        let process = Process::default_enterprise();
        let categories: Vec<_> = process
            .stages()
            .iter()
            .map(|s| process.category_of(&s.key).unwrap())
            .collect();
        use ForecastCategory::*;
        assert_eq!(
            categories,
            [Pipeline, Pipeline, BestCase, BestCase, Commit, Commit]
        );
        assert_eq!(process.sal_stage().key, key("qualified"));
        assert!(process.is_qualified(&key("redlining")));
    }

    #[test]
    fn unknown_stages_are_refused_naming_the_known_ones() {
        let process = Process::default_enterprise();
        assert_eq!(
            process.parse_stage("shortlisted").unwrap(),
            key("shortlisted")
        );
        let error = process.parse_stage("demo_done").unwrap_err();
        assert_eq!(error.value(), "demo_done");
        assert_eq!(
            error.expected(),
            "a stage of the Enterprise process: qualified, business_case, evaluating, \
             shortlisted, negotiating, redlining"
        );
        assert!(process.parse_stage("Not A Key!").is_err());
    }
}
