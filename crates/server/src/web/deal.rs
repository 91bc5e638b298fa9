//! The deal room: what a rep and their manager look at before a deal review. The summary,
//! the stage path, what the buyer must still show to reach the next stage (each criterion
//! with the control that records it), the evidence, the event timeline and the hygiene
//! findings with their fixes.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Html;
use chrono::Utc;
use maud::{Markup, html};
use pipewise_core::crm::{BuyingRole, Contact};
use pipewise_core::evidence::{Engagement, Gate, GateDecision, MilestoneStatus, Scorecard};
use pipewise_core::ids::{ContactId, OpportunityId};
use pipewise_core::opportunity::{Opportunity, OpportunityEvent, Status};
use pipewise_core::process::{Criterion, CriterionKey, DealContext, Process, ScoreRef, Test};
use pipewise_core::validation::{FieldErrors, InvalidValue};
use pipewise_store::{ContactFilter, PageRequest};

use super::findings;
use super::format::{category, date, money_exact};
use super::layout::{self, Section};
use super::timeline;
use super::viewer::{PageError, Viewer};
use crate::{ApiError, AppState};

/// The account's contacts offered for the stakeholder map, at most.
const MOST_CONTACTS: u32 = 200;

#[derive(serde::Deserialize)]
pub(crate) struct DealPath {
    id: String,
}

/// `GET /app/{workspace}/deals/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(DealPath { id }): Path<DealPath>,
) -> Result<Html<String>, PageError> {
    let caller = &viewer.0;
    let deal_id: OpportunityId = id
        .parse()
        .map_err(|e: InvalidValue| FieldErrors::from(e.at("id")))?;
    let deal = state
        .store
        .opportunity(caller.workspace.id, deal_id)
        .await?;
    if !caller.access.can_read(deal.owner_id) {
        return Err(ApiError::NotFound {
            what: "opportunity",
            key: id,
        }
        .into());
    }
    let events = state
        .store
        .opportunity_events(caller.workspace.id, deal.id)
        .await?;
    let account = state
        .store
        .account(caller.workspace.id, deal.account_id)
        .await?;
    let account_contacts = state
        .store
        .contacts(
            caller.workspace.id,
            PageRequest {
                after: None,
                limit: MOST_CONTACTS,
            },
            &ContactFilter {
                account: Some(deal.account_id),
                email: None,
            },
        )
        .await?
        .items;
    // Stakeholders are mostly the account's people, read above; the others one by one.
    let mut contacts = HashMap::new();
    for stakeholder in deal.evidence.stakeholders.stakeholders() {
        let id = stakeholder.contact_id;
        let contact = match account_contacts.iter().find(|c| c.id == id) {
            Some(contact) => contact.clone(),
            None => state.store.contact(caller.workspace.id, id).await?,
        };
        contacts.insert(id, contact);
    }
    let this_deal = std::collections::HashSet::from([deal.id.to_string()]);
    let mut flags = findings::by_deal(&state.hygiene, caller, &this_deal);
    let room = Room {
        viewer: &viewer,
        process: caller.context.processes.process_of(&deal.process),
        edits: caller.access.check_edit(deal.owner_id).is_ok(),
        contacts: &contacts,
        account_contacts: &account_contacts,
        deal: &deal,
    };
    let content = html! {
        (room.summary(&account.name.to_string()))
        (room.stage_path())
        @if deal.status == Status::Open { (room.next_stage()) }
        (room.evidence())
        (room.findings(flags.as_mut().map(|f| f.remove(&deal.id.to_string()).unwrap_or_default())))
        (room.timeline(&events))
    };
    Ok(Html(
        layout::page(&viewer, Section::Board, deal.name.as_str(), content).into_string(),
    ))
}

struct Room<'a> {
    viewer: &'a Viewer,
    process: &'a Process,
    /// Whether the viewer may change this deal.
    edits: bool,
    contacts: &'a HashMap<ContactId, Contact>,
    /// The account's people, who can be put on the stakeholder map.
    account_contacts: &'a [Contact],
    deal: &'a Opportunity,
}

/// A criterion the next move needs, and whether the deal meets it today.
struct Requirement<'a> {
    criterion: &'a Criterion,
    met: bool,
}

impl Room<'_> {
    fn summary(&self, account: &str) -> Markup {
        let deal = self.deal;
        let category = deal.forecast_category(self.process);
        html! {
            h1 data-deal=(deal.id) data-version=(deal.version) { (deal.name) }
            dl.summary {
                dt { "Account" } dd { (account) }
                dt { "Owner" } dd { (self.viewer.user_name(deal.owner_id)) }
                dt { "Amount" } dd { (deal.amount.map_or_else(|| "Not set".to_owned(), |m| money_exact(m.minor, m.currency))) }
                dt { @if deal.status == Status::Open { "Expected close" } @else { "Closed" } }
                dd { (date(deal.close_date)) }
                dt { "Status" } dd { (deal.status.as_str()) }
                dt { "Forecast category" }
                dd {
                    (self::category(category))
                    @if let Some(o) = &deal.category_override { " (set by hand: " (o.reason) ")" }
                }
                @if let Some(source) = &deal.source { dt { "Source" } dd { (source) } }
                @if let Some(segment) = &deal.segment { dt { "Segment" } dd { (segment) } }
                @if let Some(competitor) = &deal.competitor { dt { "Competitor" } dd { (competitor) } }
                dt { "Next step" }
                dd {
                    @match &deal.next_step {
                        Some(step) => { (step.text) " · " (self.viewer.user_name(step.owner_id)) " · due " (date(step.due)) },
                        None => { "None agreed" },
                    }
                }
            }
            @if self.edits && deal.status == Status::Open { (self.field_form()) }
        }
    }

    /// The deal's own fields: amount, close date, the next step, and how it is labelled.
    fn field_form(&self) -> Markup {
        let deal = self.deal;
        let label = |v: &Option<pipewise_core::text::Label>| v.as_ref().map(|l| l.to_string());
        html! {
            details {
                summary { "Change the deal's fields" }
                form.grid data-form="deal-fields" {
                    label { "Amount (" (deal.amount.map_or(self.viewer.0.workspace.corporate_currency, |m| m.currency)) ")"
                        input name="amount" inputmode="decimal" value=[deal.amount.map(major_text)]; }
                    label { "Expected close" input name="close_date" type="date" value=(deal.close_date); }
                    label { "Next step" input name="next_step_text" value=[deal.next_step.as_ref().map(|n| n.text.to_string())]; }
                    label { "Next step due" input name="next_step_due" type="date" value=[deal.next_step.as_ref().map(|n| n.due)]; }
                    label { "Competitor" input name="competitor" value=[label(&deal.competitor)]; }
                    label { "Source" input name="source" value=[label(&deal.source)]; }
                    label { "Segment" input name="segment" value=[label(&deal.segment)]; }
                    div.problem role="alert" {}
                    button type="submit" { "Save the fields" }
                }
            }
        }
    }

    fn stage_path(&self) -> Markup {
        let at = self.process.position(&self.deal.stage).unwrap_or(0);
        html! {
            nav aria-label="Stage path" {
                ol.path {
                    @for (i, stage) in self.process.stages().iter().enumerate() {
                        li class=(if i < at { "done" } else if i == at { "current" } else { "ahead" })
                            aria-current=[(i == at).then_some("step")] {
                            (stage.name)
                        }
                    }
                }
            }
        }
    }

    /// The criteria of the move to the next stage (or of closing won, from the last one),
    /// expanded to the parts of `all` criteria.
    fn requirements(&self, to: Option<&pipewise_core::process::StageKey>) -> Vec<Requirement<'_>> {
        let ctx = DealContext {
            deal: self.deal,
            today: Utc::now().date_naive(),
        };
        let mut out = Vec::new();
        let mut stack: Vec<CriterionKey> = self
            .process
            .forward_requirements(Some(&self.deal.stage), to);
        stack.reverse();
        while let Some(key) = stack.pop() {
            let Some(criterion) = self.process.criterion(&key) else {
                continue;
            };
            if let Test::All(parts) = &criterion.test {
                stack.extend(parts.iter().rev().cloned());
            } else if !out.iter().any(|r: &Requirement| r.criterion.key == key) {
                let met = self
                    .process
                    .unmet(std::slice::from_ref(&key), ctx)
                    .is_empty();
                out.push(Requirement { criterion, met });
            }
        }
        out
    }

    fn next_stage(&self) -> Markup {
        let at = self.process.position(&self.deal.stage).unwrap_or(0);
        let next = self.process.stages().get(at + 1);
        let requirements = self.requirements(next.map(|s| &s.key));
        let open = requirements.iter().filter(|r| !r.met).count();
        html! {
            section.panel aria-labelledby="next-heading" {
                @match next {
                    Some(stage) => h2 id="next-heading" { "To move to " (stage.name) },
                    None => h2 id="next-heading" { "To close won" },
                }
                @if requirements.is_empty() {
                    p { "Nothing more is needed." }
                } @else {
                    p { (requirements.len() - open) " of " (requirements.len()) " criteria met." }
                    ul.criteria {
                        @for requirement in &requirements {
                            li class=(if requirement.met { "met" } else { "unmet" }) {
                                span.state { (if requirement.met { "Met" } else { "Not yet" }) }
                                " " span.label { (requirement.criterion.label) }
                                @if !requirement.met && self.edits { div.control { (self.control(requirement.criterion)) } }
                            }
                        }
                    }
                }
                @if self.edits {
                    @match next {
                        Some(stage) => button type="button" data-action="move-deal" data-to=(stage.key) { "Move to " (stage.name) },
                        None => button type="button" data-action="close-won" { "Close won" },
                    }
                    div.problem role="alert" {}
                }
            }
        }
    }

    /// The control that records what `criterion` tests, where the deal room has one.
    fn control(&self, criterion: &Criterion) -> Markup {
        let key = criterion.key.as_str();
        match &criterion.test {
            Test::Checklist(item) => html! {
                label.inline {
                    input type="checkbox" data-evidence="checked" data-item=(item);
                    " Mark done: " (criterion.label)
                }
            },
            Test::Gate(gate) => gate_form(*gate, &format!("need-{key}")),
            Test::Score {
                score: ScoreRef::Item(item),
                at_least,
            } => html! {
                label.inline {
                    "Score " (item) " (at least " (at_least) ") "
                    (score_select(*item, self.deal.evidence.scores.get(*item)))
                }
            },
            _ => html! { span.hint { " — record it below" } },
        }
    }

    fn evidence(&self) -> Markup {
        let evidence = &self.deal.evidence;
        let today = Utc::now().date_naive();
        html! {
            section.panel aria-labelledby="gates-heading" {
                h2 id="gates-heading" { "Gates" }
                table {
                    thead { tr { th scope="col" { "Gate" } th scope="col" { "Decision" } th scope="col" { "Plan" } } }
                    tbody {
                        @for gate in Gate::ALL {
                            tr {
                                th scope="row" { (gate.label()) }
                                @match evidence.gates.get(gate) {
                                    Some(GateDecision::Pass { next_step }) => { td.met { "Passed" } td { (next_step) } },
                                    Some(GateDecision::Fail { remedy }) => { td.unmet { "Failed" } td { (remedy) } },
                                    Some(GateDecision::Pause { reason, reentry_trigger }) => { td { "Paused: " (reason) } td { "Re-enter when " (reentry_trigger) } },
                                    None => { td { "Not decided" } td {} },
                                }
                            }
                        }
                    }
                }
                @if self.edits {
                    details {
                        summary { "Record a gate decision" }
                        @for gate in Gate::ALL.iter().filter(|g| !evidence.passed(**g)) {
                            (gate_form(*gate, &format!("gate-{gate}")))
                        }
                    }
                }
            }
            section.panel aria-labelledby="scores-heading" {
                h2 id="scores-heading" { "Scorecards" }
                div.scorecards {
                    @for card in Scorecard::ALL {
                        table {
                            caption { (scorecard_name(*card)) ": " (evidence.scores.total(*card)) " of " (card.max_score()) }
                            tbody {
                                @for item in card.items() {
                                    tr {
                                        th scope="row" { (item.as_str().split('.').nth(1).unwrap_or_default().replace('_', " ")) }
                                        td {
                                            @if self.edits { (score_select(item, evidence.scores.get(item))) }
                                            @else { (evidence.scores.get(item)) " of " (item.max_score()) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.panel aria-labelledby="checklist-heading" {
                h2 id="checklist-heading" { "Buyer checklist" }
                ul.plain {
                    @for item in self.process.checklist() {
                        li {
                            label.inline {
                                input type="checkbox" data-evidence="checked" data-item=(item.key)
                                    checked[evidence.checklist.contains(&item.key)] disabled[!self.edits];
                                " " (item.label)
                            }
                        }
                    }
                }
            }
            section.panel aria-labelledby="plan-heading" {
                h2 id="plan-heading" { "Mutual action plan" }
                @if evidence.plan.milestones().is_empty() {
                    p { "No milestones agreed with the buyer yet." }
                } @else {
                    p { @if evidence.plan.is_on_track(today) { "Agreed and on track." }
                        @else if evidence.plan.is_agreed() { "Agreed, with milestones overdue." }
                        @else { "Not agreed: it needs live milestones on both sides." } }
                    table {
                        thead { tr { th scope="col" { "Milestone" } th scope="col" { "Side" } th scope="col" { "Owner" } th scope="col" { "Due" } th scope="col" { "Status" } } }
                        tbody {
                            @for m in evidence.plan.milestones() {
                                tr class=[m.is_overdue(today).then_some("overdue")] {
                                    td { (m.title) } td { (m.side.as_str()) } td { (m.owner) } td { (date(m.due)) }
                                    td {
                                        (m.status.as_str()) @if m.is_overdue(today) { " (overdue)" }
                                        @if self.edits && m.status == MilestoneStatus::Planned {
                                            " " button type="button" data-milestone=(serde_json::to_string(m).unwrap_or_default()) { "Mark done: " (m.title) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if self.edits {
                section.panel aria-labelledby="plan-add-heading" {
                    h3 id="plan-add-heading" { "Add a milestone to the plan" }
                    form.grid data-evidence-form="milestone_set" data-key-prefix="m" {
                        label { "Milestone" input name="title" required placeholder="Security review signed off"; }
                        label { "Side" select name="side" { option value="buyer" { "Buyer" } option value="seller" { "Seller" } } }
                        label { "Owner" input name="owner" required placeholder="Their or our person"; }
                        label { "Due" input name="due" type="date" required; }
                        input type="hidden" name="status" value="planned";
                        div.problem role="alert" {}
                        button type="submit" { "Add milestone" }
                    }
                }
            }
            section.panel aria-labelledby="stakeholders-heading" {
                h2 id="stakeholders-heading" { "Stakeholder map" }
                @if evidence.stakeholders.stakeholders().is_empty() {
                    p { "Nobody mapped yet." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Person" } th scope="col" { "Title" } th scope="col" { "Role" } th scope="col" { "Engagement" } } }
                        tbody {
                            @for s in evidence.stakeholders.stakeholders() {
                                @let contact = self.contacts.get(&s.contact_id);
                                tr {
                                    td { (contact.map_or("Unknown contact", |c| c.name.as_str())) }
                                    td { (contact.and_then(|c| c.title.as_ref()).map_or("", |t| t.as_str())) }
                                    td { (s.role.as_str().replace('_', " ")) }
                                    td { (s.engagement.as_str()) }
                                }
                            }
                        }
                    }
                }
            }
            @if self.edits && !self.account_contacts.is_empty() {
                section.panel aria-labelledby="stakeholder-add-heading" {
                    h3 id="stakeholder-add-heading" { "Map a stakeholder" }
                    form.grid data-evidence-form="stakeholder_set" {
                        label { "Person" select name="contact_id" {
                            @for c in self.account_contacts { option value=(c.id) { (c.name) @if let Some(t) = &c.title { ", " (t) } } }
                        } }
                        label { "Role" select name="role" {
                            @for role in BuyingRole::ALL { option value=(role) { (role.as_str().replace('_', " ")) } }
                        } }
                        label { "Engagement" select name="engagement" {
                            @for e in Engagement::ALL { option value=(e) { (e.as_str()) } }
                        } }
                        div.problem role="alert" {}
                        button type="submit" { "Map stakeholder" }
                    }
                }
            }
            section.panel aria-labelledby="success-heading" {
                h2 id="success-heading" { "Success criteria" }
                @if evidence.success_criteria.is_empty() {
                    p { "None agreed yet." }
                } @else {
                    ul {
                        @for c in &evidence.success_criteria {
                            li { (c.metric) ": from " (c.baseline) " to " (c.target) " by " (date(c.by)) " — " (c.measurement) }
                        }
                    }
                }
                @if self.edits {
                    form.grid data-evidence-form="success_criterion_set" data-key-prefix="s" {
                        label { "Metric" input name="metric" required placeholder="Hours spent on the monthly close"; }
                        label { "Baseline" input name="baseline" required placeholder="40 hours"; }
                        label { "Target" input name="target" required placeholder="10 hours"; }
                        label { "Measured by" input name="by" type="date" required; }
                        label { "How it is measured" input name="measurement" required placeholder="Finance's close checklist timestamps"; }
                        div.problem role="alert" {}
                        button type="submit" { "Add success criterion" }
                    }
                }
            }
        }
    }

    /// The deal's findings; `None` until the workspace's first hygiene report is worked out.
    fn findings(&self, findings: Option<Vec<pipewise_core::hygiene::Finding>>) -> Markup {
        html! {
            section.panel aria-labelledby="hygiene-heading" {
                h2 id="hygiene-heading" { "Hygiene" }
                @if findings.is_none() {
                    p { "The hygiene rules are still running over the workspace; reload in a moment." }
                } @else if findings.as_ref().is_some_and(Vec::is_empty) {
                    p { "No findings." }
                } @else {
                    ul.findings {
                        @for f in findings.iter().flatten() {
                            li class=(f.severity.as_str()) { strong { (f.detail) } br; "Fix: " (f.fix) }
                        }
                    }
                }
            }
        }
    }

    fn timeline(&self, events: &[OpportunityEvent]) -> Markup {
        let person = |id| self.viewer.user_name(id).to_owned();
        html! {
            section.panel aria-labelledby="timeline-heading" {
                h2 id="timeline-heading" { "Timeline" }
                ol.timeline reversed {
                    @for event in events.iter().rev() {
                        li {
                            time datetime=(event.effective_at.to_rfc3339()) { (date(event.effective_at.date_naive())) }
                            " · " (self.viewer.user_name(event.actor_id)) ": "
                            (timeline::describe(&event.change, self.process, &person))
                        }
                    }
                }
            }
        }
    }
}

/// An amount as typed in a form: `12500.50` for 1,250,050 cents.
fn major_text(money: pipewise_core::money::Money) -> String {
    money
        .to_string()
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn scorecard_name(card: Scorecard) -> &'static str {
    match card {
        Scorecard::Bant => "BANT",
        Scorecard::Meddicc => "MEDDICC",
        Scorecard::Readiness => "Readiness",
        Scorecard::BudgetProcurement => "Budget and procurement",
    }
}

/// A pass for `gate`, with the next step it leads to.
fn gate_form(gate: Gate, id: &str) -> Markup {
    html! {
        form.inline data-form="gate" data-gate=(gate) {
            label for=(id) { "Next step for " (gate.label()) }
            input id=(id) name="next_step" required;
            button type="submit" { "Pass " (gate.label()) }
        }
    }
}

fn score_select(item: pipewise_core::evidence::ScoreItem, value: u8) -> Markup {
    html! {
        select data-evidence="scored" data-item=(item) aria-label={ "Score for " (item) } {
            @for v in 0..=item.max_score() {
                option value=(v) selected[v == value] { (v) }
            }
        }
    }
}
