//! Forecast calls and adjustments: checked against the workspace as stored now (its people
//! and their deals), then added to the workspace's history of submissions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use pipewise_analytics::forecast::ForecastRequest;
use pipewise_analytics::reports::end_of;
use pipewise_core::calendar::Period;
use pipewise_core::forecast::{
    CallLine, CallableDeal, Submission, SubmissionKind, check_adjustment, check_call,
};
use pipewise_core::ids::{SubmissionId, UserId};
use pipewise_core::money::Money;
use pipewise_core::org::{User, Workspace};
use pipewise_core::text::Note;
use pipewise_core::validation::{FieldErrors, InvalidValue};

use crate::{Store, StoreError, processes};

#[derive(Debug, thiserror::Error)]
pub enum SubmitFailed {
    /// The submission breaks a rule; nothing was written.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who is who: the workspace's people by id.
struct People(HashMap<UserId, User>);

impl People {
    async fn of(store: &dyn Store, workspace: &Workspace) -> Result<Self, StoreError> {
        let users = store.users(workspace.id).await?;
        Ok(Self(users.into_iter().map(|u| (u.id, u)).collect()))
    }

    fn check(&self, field: &str, id: UserId) -> Result<(), FieldErrors> {
        match self.0.contains_key(&id) {
            true => Ok(()),
            false => Err(
                InvalidValue::new(&id.to_string(), "a person of this workspace")
                    .at(field)
                    .into(),
            ),
        }
    }

    fn manager_of(&self, id: UserId) -> Option<UserId> {
        self.0.get(&id).and_then(|u| u.manager_id)
    }

    fn has_reports(&self, id: UserId) -> bool {
        self.0.values().any(|u| u.manager_id == Some(id))
    }

    /// Whether `by` may act for `subject`: it is them, or someone above them.
    fn speaks_for(&self, by: UserId, subject: UserId) -> bool {
        by == subject || check_adjustment(by, subject, |u| self.manager_of(u), true).is_ok()
    }
}

/// The calls and adjustments a forecast of `request` reads: those of its period submitted
/// by the end of its as-of day.
pub async fn submitted_for(
    store: &dyn Store,
    workspace: &Workspace,
    request: &ForecastRequest,
) -> Result<Vec<Submission>, StoreError> {
    let period = request.period_in(workspace.fiscal_calendar);
    let until = end_of(request.as_of);
    let mut submissions = store.submissions(workspace.id, period).await?;
    submissions.retain(|s| s.submitted_at <= until);
    Ok(submissions)
}

/// Every call and adjustment of `periods`, as a backtest over them reads them.
pub async fn submitted_in(
    store: &dyn Store,
    workspace: &Workspace,
    periods: &[Period],
) -> Result<Vec<Submission>, StoreError> {
    let mut submissions = Vec::new();
    for period in periods {
        submissions.extend(store.submissions(workspace.id, *period).await?);
    }
    Ok(submissions)
}

/// Records `rep`'s call for `period`, made by `submitted_by` (the rep, or a manager above
/// them entering it for them).
pub async fn call(
    store: &dyn Store,
    workspace: &Workspace,
    period: Period,
    rep: UserId,
    lines: Vec<CallLine>,
    submitted_by: UserId,
    at: DateTime<Utc>,
) -> Result<Submission, SubmitFailed> {
    let people = People::of(store, workspace).await?;
    people.check("rep", rep)?;
    people.check("submitted_by", submitted_by)?;
    if !people.speaks_for(submitted_by, rep) {
        return Err(SubmitFailed::Invalid(
            InvalidValue::new(
                &submitted_by.to_string(),
                "the rep, or a manager above them",
            )
            .at("submitted_by")
            .into(),
        ));
    }
    let processes = processes::current(store, workspace).await?;
    let mut deals = HashMap::new();
    for line in &lines {
        match store.opportunity(workspace.id, line.opportunity_id).await {
            Ok(deal) => {
                let category = deal.forecast_category(processes.process_of(&deal.process));
                deals.insert(
                    deal.id,
                    CallableDeal {
                        id: deal.id,
                        owner_id: deal.owner_id,
                        status: deal.status,
                        category,
                        close_date: deal.close_date,
                    },
                );
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let range = workspace.fiscal_calendar.range(period);
    check_call(rep, range, &lines, |id| deals.get(&id).cloned())?;
    let submission = Submission {
        id: SubmissionId::generate(),
        period,
        subject_id: rep,
        kind: SubmissionKind::Call { lines },
        submitted_by,
        submitted_at: at,
    };
    store.record_submission(workspace.id, &submission).await?;
    Ok(submission)
}

/// Records `manager`'s adjustment of `subject`'s number for `period` to `amount`, in the
/// corporate currency.
#[allow(clippy::too_many_arguments)]
pub async fn adjust(
    store: &dyn Store,
    workspace: &Workspace,
    period: Period,
    subject: UserId,
    amount: Money,
    note: Note,
    manager: UserId,
    at: DateTime<Utc>,
) -> Result<Submission, SubmitFailed> {
    let people = People::of(store, workspace).await?;
    people.check("subject_id", subject)?;
    people.check("submitted_by", manager)?;
    check_adjustment(
        manager,
        subject,
        |u| people.manager_of(u),
        people.has_reports(manager),
    )?;
    if amount.currency != workspace.corporate_currency || amount.minor < 0 {
        return Err(SubmitFailed::Invalid(
            InvalidValue::new(
                &amount.to_string(),
                format!(
                    "an amount of zero or more in {}, the corporate currency",
                    workspace.corporate_currency.code()
                ),
            )
            .at("amount")
            .into(),
        ));
    }
    let submission = Submission {
        id: SubmissionId::generate(),
        period,
        subject_id: subject,
        kind: SubmissionKind::Adjustment { amount, note },
        submitted_by: manager,
        submitted_at: at,
    };
    store.record_submission(workspace.id, &submission).await?;
    Ok(submission)
}
