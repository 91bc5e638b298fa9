//! `pipewise process`: check, apply, show and list versions of sales process definitions.

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::Utc;
use pipewise_core::org::{Role, User, Workspace};
use pipewise_core::process::{ProcessFile, ProcessSet, ProcessVersion};
use pipewise_store::Store;
use pipewise_store::processes::{self, Applied};

use crate::cli::{ProcessCommand, WorkspaceArgs};

pub async fn run(command: ProcessCommand) -> anyhow::Result<()> {
    match command {
        ProcessCommand::Check { files } => {
            let set = ProcessSet::parse(ProcessVersion(1), read(&files)?)
                .map_err(|errors| anyhow::anyhow!("{errors}"))?;
            for process in set.processes() {
                let stages = process.stages().len();
                println!(
                    "ok: {} ({}): {stages} stage{}, {} criteria, SAL stage `{}`",
                    process.key,
                    process.name,
                    if stages == 1 { "" } else { "s" },
                    process.criteria().count(),
                    process.sal_stage().key
                );
            }
            Ok(())
        }
        ProcessCommand::Apply { target, by, files } => {
            let (store, workspace) = open(&target).await?;
            let user = admin(&*store, &workspace, &by, "change the sales process").await?;
            match processes::apply(&*store, &workspace, read(&files)?, user.id, Utc::now()).await? {
                Applied::Unchanged(version) => {
                    println!("No change: the files define version {} already.", version.0)
                }
                Applied::NewVersion(revision) => {
                    println!("Version {} is in force. Changes:", revision.version.0);
                    for change in &revision.changes {
                        println!("  - {change}");
                    }
                }
            }
            Ok(())
        }
        ProcessCommand::Show { target, version } => {
            let (store, workspace) = open(&target).await?;
            let set = match version {
                Some(v) => processes::at_version(&*store, &workspace, ProcessVersion(v)).await?,
                None => processes::current(&*store, &workspace).await?,
            };
            for file in set.files() {
                println!(
                    "# {} (version {})\n{}",
                    file.name,
                    set.version().0,
                    file.text
                );
            }
            Ok(())
        }
        ProcessCommand::History { target } => {
            let (store, workspace) = open(&target).await?;
            let users = store.users(workspace.id).await?;
            for revision in store.process_history(workspace.id).await? {
                let who = revision
                    .changed_by
                    .and_then(|id| users.iter().find(|u| u.id == id))
                    .map_or_else(|| "pipewise".to_owned(), |u| u.email.to_string());
                println!(
                    "version {}  {}  {}",
                    revision.version.0,
                    revision.changed_at.format("%Y-%m-%d %H:%M UTC"),
                    who
                );
                for change in &revision.changes {
                    println!("  - {change}");
                }
            }
            Ok(())
        }
    }
}

fn read(paths: &[PathBuf]) -> anyhow::Result<Vec<ProcessFile>> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(ProcessFile {
                // Stored under its file name; errors name it the same way.
                name: path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                text,
            })
        })
        .collect()
}

pub async fn open(
    target: &WorkspaceArgs,
) -> anyhow::Result<(
    std::sync::Arc<dyn pipewise_store::Store>,
    pipewise_core::org::Workspace,
)> {
    let store = crate::open(&target.database_url).await?;
    let workspace = store
        .workspace(&target.workspace)
        .await
        .with_context(|| format!("--workspace: no workspace `{}`", target.workspace))?;
    Ok((store, workspace))
}

/// The admin `--by` names, making a change only admins make (`what`).
pub(crate) async fn admin(
    store: &dyn Store,
    workspace: &Workspace,
    by: &str,
    what: &str,
) -> anyhow::Result<User> {
    let users = store.users(workspace.id).await?;
    let Some(user) = users
        .into_iter()
        .find(|u| u.email.as_str().eq_ignore_ascii_case(by.trim()))
    else {
        bail!("--by: `{by}` is not a user of workspace {}", workspace.slug);
    };
    if user.role != Role::Admin {
        bail!(
            "--by: {} is a {}; only admins {what}",
            user.email,
            user.role
        );
    }
    Ok(user)
}
