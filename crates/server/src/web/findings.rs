//! Hygiene findings on deals, for the flags on board cards and the deal room: the shipped
//! rules run over the workspace as of today, as `GET …/hygiene` runs them.

use std::collections::HashMap;

use chrono::Utc;
use pipewise_core::hygiene::{Finding, RecordKind};

use crate::AppState;
use crate::auth::Caller;
use crate::routes::hygiene::visible_report;

/// Each deal's findings, by deal id. Hygiene decorates a page, so a failure to work it out
/// leaves the page without flags (and is logged) instead of failing it.
pub(crate) async fn by_deal(state: &AppState, caller: &Caller) -> HashMap<String, Vec<Finding>> {
    let report = visible_report(state, caller, Utc::now().date_naive()).await;
    let mut by_deal: HashMap<String, Vec<Finding>> = HashMap::new();
    match report {
        Ok(report) => {
            for finding in report.findings {
                if finding.record_kind == RecordKind::Opportunity {
                    by_deal
                        .entry(finding.record_id.clone())
                        .or_default()
                        .push(finding);
                }
            }
        }
        Err(error) => tracing::warn!(?error, "hygiene findings for a page failed"),
    }
    by_deal
}
