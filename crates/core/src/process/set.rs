//! A workspace's process definitions as one versioned set: one TOML file per process, parsed
//! and checked together, and the differences between two versions in words.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::definition::{DefinitionError, DefinitionErrors, parse_process};
use super::{ENTERPRISE_TOML, Process, ProcessKey, ProcessVersion, SMB_TOML};
use crate::ids::UserId;

/// A process file as RevOps wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProcessFile {
    /// The file's name, such as `enterprise.toml`; errors refer to it.
    pub name: String,
    pub text: String,
}

/// The processes in force in a workspace at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSet {
    version: ProcessVersion,
    processes: Vec<Process>,
    files: Vec<ProcessFile>,
}

/// Who changed a workspace's processes, when, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProcessRevision {
    pub version: ProcessVersion,
    pub changed_by: Option<UserId>,
    pub changed_at: DateTime<Utc>,
    /// One line per change, such as `enterprise: stage \`shortlisted\` exit criteria changed`.
    pub changes: Vec<String>,
}

impl ProcessSet {
    /// Parses every file; refuses the set with every problem in every file, and when two
    /// files define the same process key.
    pub fn parse(
        version: ProcessVersion,
        files: Vec<ProcessFile>,
    ) -> Result<Self, DefinitionErrors> {
        let mut errors = Vec::new();
        let mut processes: Vec<Process> = Vec::new();
        // The file each parsed process came from.
        let mut sources: Vec<&str> = Vec::new();
        if files.is_empty() {
            errors.push(DefinitionError {
                file: "(none)".into(),
                line: 1,
                column: 1,
                key: String::new(),
                message: "a workspace needs at least one process file".into(),
            });
        }
        for (i, file) in files.iter().enumerate() {
            if files[..i].iter().any(|earlier| earlier.name == file.name) {
                errors.push(DefinitionError {
                    file: file.name.clone(),
                    line: 1,
                    column: 1,
                    key: String::new(),
                    message: "another file of the set has the same name".into(),
                });
                continue;
            }
            match parse_process(&file.name, &file.text, version) {
                Ok(process) => {
                    let earlier = processes.iter().position(|p| p.key == process.key);
                    if let Some(first) = earlier {
                        let line = file
                            .text
                            .lines()
                            .position(|l| l.trim_start().starts_with("key"))
                            .map_or(1, |i| i + 1);
                        errors.push(DefinitionError {
                            file: file.name.clone(),
                            line,
                            column: 1,
                            key: "key".into(),
                            message: format!(
                                "process `{}` is already defined by another file ({})",
                                process.key, sources[first]
                            ),
                        });
                    } else {
                        processes.push(process);
                        sources.push(&file.name);
                    }
                }
                Err(DefinitionErrors(found)) => errors.extend(found),
            }
        }
        if errors.is_empty() {
            Ok(Self {
                version,
                processes,
                files,
            })
        } else {
            Err(DefinitionErrors(errors))
        }
    }

    /// The processes a new workspace starts with: the shipped enterprise and SMB files.
    pub fn shipped() -> Self {
        Self {
            version: ProcessVersion(1),
            processes: vec![Process::default_enterprise(), Process::default_smb()],
            files: shipped_files(),
        }
    }

    pub fn version(&self) -> ProcessVersion {
        self.version
    }

    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    pub fn files(&self) -> &[ProcessFile] {
        &self.files
    }

    pub fn get(&self, key: &ProcessKey) -> Option<&Process> {
        self.processes.iter().find(|p| &p.key == key)
    }

    /// The process a deal follows: its own, or the default one if its process has since been
    /// removed (only closed deals can be in that case, whose category needs no stage).
    pub fn process_of(&self, key: &ProcessKey) -> &Process {
        self.get(key).unwrap_or_else(|| self.default_process())
    }

    /// The process new deals use unless told otherwise: the first file's.
    pub fn default_process(&self) -> &Process {
        // `parse` refuses an empty set, so there is always a first process.
        &self.processes[0]
    }

    /// What changed from `older` to this set, one line per change; empty if nothing did.
    pub fn changes_since(&self, older: &ProcessSet) -> Vec<String> {
        let mut changes = Vec::new();
        let (now, then) = (&self.default_process().key, &older.default_process().key);
        if now != then {
            changes.push(format!("default process changed from `{then}` to `{now}`"));
        }
        for process in &self.processes {
            match older.get(&process.key) {
                None => changes.push(format!("process `{}` added", process.key)),
                Some(before) => changes.extend(
                    process
                        .changes_since(before)
                        .into_iter()
                        .map(|c| format!("{}: {c}", process.key)),
                ),
            }
        }
        for process in &older.processes {
            if self.get(&process.key).is_none() {
                changes.push(format!("process `{}` removed", process.key));
            }
        }
        changes
    }
}

/// The shipped process files, as a new workspace gets them.
pub fn shipped_files() -> Vec<ProcessFile> {
    vec![
        ProcessFile {
            name: "enterprise.toml".into(),
            text: ENTERPRISE_TOML.into(),
        },
        ProcessFile {
            name: "smb.toml".into(),
            text: SMB_TOML.into(),
        },
    ]
}

impl Process {
    /// What changed from `before` (the same process at an earlier version).
    fn changes_since(&self, before: &Process) -> Vec<String> {
        let mut changes = Vec::new();
        if self.name != before.name || self.description != before.description {
            changes.push("name or description changed".to_owned());
        }
        if self.categories != before.categories {
            changes.push("phase categories changed".to_owned());
        }
        if self.sal_stage().key != before.sal_stage().key {
            changes.push(format!(
                "SAL stage moved from `{}` to `{}`",
                before.sal_stage().key,
                self.sal_stage().key
            ));
        }
        let order = |p: &Process| p.stages.iter().map(|s| s.key.clone()).collect::<Vec<_>>();
        for stage in &self.stages {
            match before.stage(&stage.key) {
                None => changes.push(format!("stage `{}` added", stage.key)),
                Some(old) => {
                    let fields = stage.changed_fields(old);
                    if !fields.is_empty() {
                        changes.push(format!(
                            "stage `{}` changed: {}",
                            stage.key,
                            fields.join(", ")
                        ));
                    }
                }
            }
        }
        for stage in &before.stages {
            if self.stage(&stage.key).is_none() {
                changes.push(format!("stage `{}` removed", stage.key));
            }
        }
        let (now, then) = (order(self), order(before));
        let kept_now: Vec<_> = now.iter().filter(|k| then.contains(k)).collect();
        let kept_then: Vec<_> = then.iter().filter(|k| now.contains(k)).collect();
        if kept_now != kept_then {
            changes.push("stages reordered".to_owned());
        }
        for criterion in self.criteria.values() {
            match before.criteria.get(&criterion.key) {
                None => changes.push(format!("criterion `{}` added", criterion.key)),
                Some(old) if old != criterion => {
                    changes.push(format!("criterion `{}` changed", criterion.key))
                }
                Some(_) => {}
            }
        }
        for key in before.criteria.keys() {
            if !self.criteria.contains_key(key) {
                changes.push(format!("criterion `{key}` removed"));
            }
        }
        if self.checklist != before.checklist {
            changes.push("checklist items changed".to_owned());
        }
        changes
    }
}

impl super::Stage {
    fn changed_fields(&self, old: &Self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut check = |changed: bool, field| {
            if changed {
                fields.push(field);
            }
        };
        check(self.name != old.name, "name");
        check(self.description != old.description, "description");
        check(self.phase != old.phase, "phase");
        check(self.entry != old.entry, "entry criteria");
        check(self.exit != old.exit, "exit criteria");
        check(self.evidence != old.evidence, "evidence");
        check(
            self.required_fields != old.required_fields,
            "required fields",
        );
        check(self.no_go != old.no_go, "no-go rule");
        check(self.owner_role != old.owner_role, "owner role");
        check(self.typical_days != old.typical_days, "typical days");
        check(self.probability != old.probability, "probability");
        fields
    }
}
