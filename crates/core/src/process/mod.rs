//! The sales process: ordered stages that are buyer states, grouped into buyer phases that
//! map to forecast categories, with one stage marking qualified pipeline (the SAL stage).
//! Stages name the criteria a deal must meet to enter and leave them (`criteria`).
//! Processes are written in TOML (`definition`) and versioned as a set per workspace
//! (`set`); the shipped files are in `crates/core/processes/`.

mod criteria;
mod definition;
mod set;

pub use criteria::{Criterion, DealContext, DealField, PlanRequirement, ScoreRef, Test, Unmet};
pub use definition::{DefinitionError, DefinitionErrors, parse_process, read_toml};
pub use set::{ProcessFile, ProcessRevision, ProcessSet, shipped_files};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::keys::{CriterionKey, ItemKey, ProcessKey, StageKey};
use crate::text::{Label, Name, Note};
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

/// Which revision of a workspace's process definitions an event was made under.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct ProcessVersion(pub u32);

/// A checklist item a stage's evidence or a criterion can name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ChecklistItem {
    pub key: ItemKey,
    /// What the buyer has done, in a sentence.
    pub label: Name,
}

/// One buyer state in a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Stage {
    pub key: StageKey,
    /// What the buyer is doing, in their words: "Building business case".
    pub name: Name,
    pub description: Option<Note>,
    pub phase: Phase,
    /// Criteria that must hold for a deal to enter the stage.
    pub entry: Vec<CriterionKey>,
    /// Criteria that must hold for a deal to leave the stage forward.
    pub exit: Vec<CriterionKey>,
    /// What the rep works on in this stage: artifacts (`mutual_action_plan`,
    /// `stakeholder_map`, `success_criteria`) and checklist items.
    pub evidence: Vec<ItemKey>,
    /// Fields every deal in this stage or a later one should have.
    pub required_fields: Vec<DealField>,
    /// When to stop working the deal instead of pushing it on.
    pub no_go: Option<Note>,
    /// Who moves the deal forward or out, such as "Account executive".
    pub owner_role: Option<Label>,
    /// How long buyers usually stay in this state.
    pub typical_days: u32,
    /// A fixed win probability in percent, when RevOps sets one instead of using history.
    pub probability: Option<u8>,
}

/// A sales process: ordered open stages that are buyer states, grouped into buyer phases that
/// count in forecast categories, with named criteria for moving between them. Closed won and
/// closed lost are outcomes, not stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Process {
    pub key: ProcessKey,
    pub name: Name,
    pub description: Option<Note>,
    pub version: ProcessVersion,
    categories: BTreeMap<Phase, ForecastCategory>,
    checklist: Vec<ChecklistItem>,
    criteria: BTreeMap<CriterionKey, Criterion>,
    stages: Vec<Stage>,
    /// Index of the stage at which an opportunity counts as qualified pipeline.
    sal_index: usize,
}

/// The shipped process files.
const ENTERPRISE_TOML: &str = include_str!("../../processes/enterprise.toml");
const SMB_TOML: &str = include_str!("../../processes/smb.toml");

impl Process {
    /// The shipped enterprise process (`processes/enterprise.toml`): two stages per buyer
    /// phase, from qualified conversation to contract redlines.
    pub fn default_enterprise() -> Self {
        Self::shipped("enterprise.toml", ENTERPRISE_TOML)
    }

    /// The shipped SMB process (`processes/smb.toml`): qualified, trialling, ordering.
    pub fn default_smb() -> Self {
        Self::shipped("smb.toml", SMB_TOML)
    }

    /// The shipped files are part of the program and checked by the tests below, so a
    /// failure here is a build defect, not bad input.
    #[allow(clippy::expect_used)]
    fn shipped(file: &str, text: &str) -> Self {
        parse_process(file, text, ProcessVersion(1)).expect("shipped process files are valid")
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
        self.stage(stage).map(|s| self.category_of_phase(s.phase))
    }

    pub fn category_of_phase(&self, phase: Phase) -> ForecastCategory {
        self.categories
            .get(&phase)
            .copied()
            .unwrap_or(phase.default_category())
    }

    pub fn checklist(&self) -> &[ChecklistItem] {
        &self.checklist
    }

    pub fn criterion(&self, key: &CriterionKey) -> Option<&Criterion> {
        self.criteria.get(key)
    }

    pub fn criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.values()
    }

    /// The criteria a forward move from `from` to `to` needs: the exit criteria of `from`,
    /// the entry and exit criteria of every stage skipped, and the entry criteria of `to`.
    /// `from: None` is a new deal, which skips every stage before `to`. `to: None` is closing
    /// won, which passes every stage after `from`. Each criterion is listed once.
    pub fn forward_requirements(
        &self,
        from: Option<&StageKey>,
        to: Option<&StageKey>,
    ) -> Vec<CriterionKey> {
        let start = from.and_then(|k| self.position(k));
        let end = to.and_then(|k| self.position(k));
        let mut keys: Vec<CriterionKey> = Vec::new();
        let mut add = |list: &[CriterionKey]| {
            for key in list {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        };
        if let Some(start) = start {
            add(&self.stages[start].exit);
        }
        let first_skipped = start.map_or(0, |s| s + 1);
        let last_skipped = end.unwrap_or(self.stages.len());
        for stage in self
            .stages
            .get(first_skipped..last_skipped)
            .unwrap_or_default()
        {
            add(&stage.entry);
            add(&stage.exit);
        }
        if let Some(end) = end {
            add(&self.stages[end].entry);
        }
        keys
    }

    /// The criteria among `keys` that do not hold for the deal, each by name. A failing
    /// `all` criterion is listed as its failing parts, which say what to do.
    pub fn unmet(&self, keys: &[CriterionKey], ctx: DealContext<'_>) -> Vec<Unmet> {
        let named = |key: &CriterionKey| self.criteria.get(key);
        let mut unmet = Vec::new();
        let mut visit = |key: &CriterionKey| self.collect_unmet(key, ctx, &named, &mut unmet);
        keys.iter().for_each(&mut visit);
        unmet
    }

    fn collect_unmet<'p>(
        &'p self,
        key: &CriterionKey,
        ctx: DealContext<'_>,
        named: &impl Fn(&CriterionKey) -> Option<&'p Criterion>,
        unmet: &mut Vec<Unmet>,
    ) {
        let Some(criterion) = named(key) else { return };
        if criterion.test.holds(ctx, named) {
            return;
        }
        match &criterion.test {
            Test::All(parts) => {
                for part in parts {
                    self.collect_unmet(part, ctx, named, unmet);
                }
            }
            _ => {
                if !unmet.iter().any(|u| &u.key == key) {
                    unmet.push(Unmet {
                        key: key.clone(),
                        label: criterion.label.clone(),
                    });
                }
            }
        }
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
mod tests;
