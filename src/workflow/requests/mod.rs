//! The rules of a procurement request's life, as planners: who may do what in which state, routing a
//! submission, what an edit of a decided request re-opens, decisions, settling the steps that evidence
//! completes, withdrawal and closing. Each planner reads a [`RequestState`] the store loaded and returns a
//! [`Plan`] for the store to apply in one transaction, or a [`Refusal`] naming the rule.

mod commands;

pub use commands::{Reevaluation, create, decide, edit, reroute, submit, withdraw};

use crate::domain::problems::ProblemCode;
use std::collections::{BTreeMap, BTreeSet};

use strum::{IntoStaticStr, VariantArray};
use uuid::Uuid;

use crate::domain::contracts::{LIBRARY, checklist, unsettled};
use crate::domain::council::CouncilOutcome;
use crate::domain::policy::{Route, RouteStep, StepKindTag};
use crate::domain::questionnaires::Severity;
pub use crate::domain::requests::VersionKind;
use crate::domain::requests::{RequestFields, Status};
use crate::domain::roles::Role;
use crate::domain::route::{
    CheckedDecision, DenialReason, Outcome, StepState, decider, pending_note, status_from_steps,
};
use crate::domain::safeguards::ClauseStatus;

use super::route::{self, DecidedVersion};
use super::{Caller, Refusal};

/// One step of a submitted version, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub kind: StepKindTag,
    pub state: StepState,
    /// What the step waits for, or how it was settled or closed.
    pub note: String,
    /// The route's step: grounds, questionnaires, clauses, items, attachments.
    pub detail: RouteStep,
    /// The conditions of an approval with conditions; they travel with the step when it is carried.
    pub conditions: Vec<String>,
    /// The submitted version whose decision or evidence settled the step (an earlier one for a carried step).
    pub settled_in: Option<i32>,
}

/// A request as the planners see it: its row, the steps of its current submission, who wrote it, and the
/// version whose decision stands.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestState {
    pub id: Uuid,
    pub department: String,
    pub status: Status,
    /// The ETag version of the row.
    pub version: i64,
    /// The current submitted version (0 for a draft never submitted).
    pub submission: i32,
    pub fields: RequestFields,
    pub route: Option<Route>,
    pub policy_version: Option<i32>,
    pub steps: Vec<Step>,
    /// The subject keys of everyone who created, edited or submitted any version.
    pub authors: BTreeSet<String>,
    /// The subject keys of everyone who decided a step of any version: they write no version of it.
    pub deciders: BTreeSet<String>,
    /// The last version whose decision stands (set when a submission is approved).
    pub decided: Option<DecidedVersion>,
    /// Whether a buyer's duplicate exception waits for the CIO on the current submission.
    pub open_exception: bool,
}

impl RequestState {
    fn step(&self, kind: StepKindTag) -> Option<&Step> {
        self.steps.iter().find(|s| s.kind == kind)
    }

    /// What deciding the caller's actions reads of this state.
    pub fn standing(&self) -> Standing {
        Standing {
            status: self.status,
            department: self.department.clone(),
            steps: self.steps.iter().map(|s| (s.kind, s.state)).collect(),
            authors: self.authors.clone(),
            deciders: self.deciders.clone(),
            open_exception: self.open_exception,
        }
    }
}

/// What [`allowed_actions`] reads of a request: its status, the kind and state of each step of the current
/// submission (in route order; they are the route's steps, one for one, which the invariants check), who wrote
/// a version and who decided a step, and whether an exception waits. Reads and lists load only this, not the
/// route's document nor the decided version.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub status: Status,
    pub department: String,
    pub steps: Vec<(StepKindTag, StepState)>,
    pub authors: BTreeSet<String>,
    pub deciders: BTreeSet<String>,
    pub open_exception: bool,
}

impl Standing {
    fn has(&self, kind: StepKindTag) -> bool {
        self.steps.iter().any(|(k, _)| *k == kind)
    }

    fn pending(&self, kind: StepKindTag) -> bool {
        self.steps
            .iter()
            .any(|(k, s)| *k == kind && *s == StepState::Pending)
    }
}

/// What the evidence of a request says, for the steps that evidence rather than a decider completes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Questionnaires this request's vendor has an accepted assessment of, for this request.
    pub accepted_questionnaires: BTreeSet<String>,
    /// Critical findings of those assessments still open or only planned.
    pub standing_critical_findings: u32,
    /// The contract clauses recorded for the request.
    pub clauses: BTreeMap<String, ClauseStatus>,
    /// The City Council's vote on the current submission, with its docket and date.
    pub council_vote: Option<(CouncilOutcome, String, chrono::NaiveDate)>,
    /// Kinds of Council document attached to the request.
    pub council_documents: BTreeSet<String>,
    /// Questionnaires satisfied by reference to the product whose reuse a security analyst confirmed.
    pub confirmed_reuse: BTreeSet<String>,
    /// Critical findings still standing on the product's assessments this submission refers to.
    pub reused_critical_findings: u32,
}

/// Something a caller can do to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Edit,
    Submit,
    Withdraw,
    Decide,
    Reroute,
    RecordSafeguards,
    DismissDuplicate,
    AskException,
    DecideException,
    AttachCouncilDocument,
    RecordCouncilVote,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the request's state allows the action at all, whoever asks.
    fn state_allows(self, status: Status) -> bool {
        match self {
            Action::Edit => matches!(
                status,
                Status::Draft
                    | Status::ChangesRequested
                    | Status::Approved
                    | Status::ApprovedWithConditions
            ),
            Action::Submit => status == Status::Draft,
            Action::Withdraw => {
                status == Status::Draft || status == Status::ChangesRequested || status.in_review()
            }
            _ => status.in_review(),
        }
    }
}

/// What this caller may do to the request now: the state allows it, the caller's role and scope do, and no
/// rule of separation forbids it.
pub fn allowed_actions(state: &Standing, caller: &Caller) -> Vec<Action> {
    Action::VARIANTS
        .iter()
        .copied()
        .filter(|a| a.state_allows(state.status) && may(state, caller, *a))
        .collect()
}

fn may(state: &Standing, caller: &Caller, action: Action) -> bool {
    let buyer = caller.buys_for(&state.department);
    let author = state.authors.contains(&caller.key);
    let duplicate_pending = state.pending(StepKindTag::CioDuplicateReview);
    let council_pending = state.pending(StepKindTag::CouncilApproval);
    let decided_before = state.deciders.contains(&caller.key);
    match action {
        Action::Edit | Action::Submit => buyer && !decided_before,
        Action::Withdraw => buyer,
        Action::Decide => {
            !author
                && state.steps.iter().any(|(kind, step)| {
                    *step == StepState::Pending
                        && decider(*kind).is_some_and(|role| caller.has(role))
                })
        }
        Action::Reroute => caller.has(Role::Admin),
        Action::RecordSafeguards => {
            (caller.has(Role::SecurityAnalyst) || caller.has(Role::Cio))
                && (state.has(StepKindTag::ContractSafeguards) || state.has(StepKindTag::Evidence))
        }
        Action::DismissDuplicate => caller.has(Role::Cio) && !author && duplicate_pending,
        Action::AskException => buyer && duplicate_pending && !state.open_exception,
        Action::DecideException => {
            caller.has(Role::Cio) && !author && duplicate_pending && state.open_exception
        }
        Action::AttachCouncilDocument => (buyer || caller.has(Role::Admin)) && council_pending,
        Action::RecordCouncilVote => caller.has(Role::Admin) && council_pending,
    }
}

/// Refuses with 409 unless the request's state allows `action`, listing what the caller may do instead.
pub fn ensure(state: &RequestState, caller: &Caller, action: Action) -> Result<(), Refusal> {
    if action.state_allows(state.status) {
        return Ok(());
    }
    let allowed: Vec<String> = allowed_actions(&state.standing(), caller)
        .into_iter()
        .map(|a| a.as_str().to_string())
        .collect();
    let status = state.status.as_str();
    let detail = if allowed.is_empty() {
        format!(
            "a request that is {status} cannot {}, and you can do nothing more with it",
            action.as_str()
        )
    } else {
        format!(
            "a request that is {status} cannot {}; you can: {}",
            action.as_str(),
            allowed.join(", ")
        )
    };
    Err(Refusal::conflict(ProblemCode::TransitionNotAllowed, detail).with_allowed(allowed))
}

/// A new submitted version with its route and steps.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    pub submission: i32,
    pub kind: VersionKind,
    pub fields: RequestFields,
    pub policy_version: i32,
    pub route: Route,
    pub steps: Vec<Step>,
}

/// A change to one step of the current submission.
#[derive(Debug, Clone, PartialEq)]
pub struct StepChange {
    pub kind: StepKindTag,
    pub state: StepState,
    pub note: String,
    pub conditions: Vec<String>,
    pub settled_in: Option<i32>,
}

/// A decision to record: by a decider, or by the service itself (a prohibition, a Council vote).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDecision {
    /// The step decided, or `policy` for a prohibition found on submission.
    pub step: String,
    pub decision: CheckedDecision,
    pub decided_by: String,
    pub role: String,
}

/// What a command changes, for the store to apply in one transaction (and audit as `audit_action`).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub status: Status,
    /// New current fields without a new version (a draft's edit).
    pub fields: Option<RequestFields>,
    /// A new submitted version; its steps replace the current ones.
    pub version: Option<NewVersion>,
    /// The current submission re-evaluated in place (an admin's re-route).
    pub rerouted: Option<(i32, Route, Vec<Step>)>,
    /// Changes to steps of the current submission.
    pub step_changes: Vec<StepChange>,
    pub decision: Option<NewDecision>,
    /// The submission whose decision now stands, when this plan approves one.
    pub decided_submission: Option<i32>,
    /// Questionnaires the vendor must answer (assessments made if not there yet).
    pub assessments: Vec<String>,
    /// When set, the request closes: its open assessments are cancelled and invitations for it revoked.
    pub close: Option<String>,
    /// Whether the caller becomes one of the request's authors.
    pub author: bool,
    pub audit_action: &'static str,
}

impl Plan {
    fn new(status: Status, audit_action: &'static str) -> Plan {
        Plan {
            status,
            fields: None,
            version: None,
            rerouted: None,
            step_changes: Vec::new(),
            decision: None,
            decided_submission: None,
            assessments: Vec::new(),
            close: None,
            author: false,
            audit_action,
        }
    }
}

/// The status steps give, with conditions if an approval with conditions settled one of them.
fn status_of(route: &Route, steps: &[Step]) -> Status {
    let states: Vec<(StepKindTag, StepState)> = steps.iter().map(|s| (s.kind, s.state)).collect();
    let conditions = steps.iter().any(|s| !s.conditions.is_empty());
    status_from_steps(route, &states, conditions)
}

/// A plan that changes these steps of the current submission and takes the status they then give (approving
/// the submission when nothing waits any more).
pub fn status_after(
    state: &RequestState,
    changes: Vec<StepChange>,
    audit_action: &'static str,
) -> Plan {
    let after = apply(&state.steps, &changes);
    let status = match &state.route {
        Some(route) => status_of(route, &after),
        None => state.status,
    };
    let mut plan = Plan::new(status, audit_action);
    if status.is_approved() && !state.status.is_approved() {
        plan.decided_submission = Some(state.submission);
    }
    plan.step_changes = changes;
    plan
}

/// Closes every step still waiting, saying why.
fn close_waiting(steps: &[Step], skip: Option<StepKindTag>, note: &str) -> Vec<StepChange> {
    steps
        .iter()
        .filter(|s| route::waiting(s) && Some(s.kind) != skip)
        .map(|s| StepChange {
            kind: s.kind,
            state: StepState::Closed,
            note: note.to_string(),
            conditions: Vec::new(),
            settled_in: None,
        })
        .collect()
}

fn apply(steps: &[Step], changes: &[StepChange]) -> Vec<Step> {
    steps
        .iter()
        .map(|s| match changes.iter().find(|c| c.kind == s.kind) {
            Some(c) => Step {
                state: c.state,
                note: c.note.clone(),
                conditions: c.conditions.clone(),
                settled_in: c.settled_in,
                ..s.clone()
            },
            None => s.clone(),
        })
        .collect()
}

/// The state evidence gives each step that evidence completes; decision steps and steps it does not change
/// are left out. A security review is satisfied once every questionnaire it names is accepted and no critical
/// finding stands; contract safeguards and evidence once each clause is present or waived (and back to pending
/// when one is set back to missing); Council approval by an approving vote with every attachment, or blocked
/// by a rejecting one [Boston 16-63].
pub fn settle(
    route: &Route,
    steps: &[Step],
    fields: &RequestFields,
    evidence: &Evidence,
    submission: i32,
) -> Vec<StepChange> {
    let entries = checklist(&LIBRARY, route, &fields.data_classes);
    let mut changes = Vec::new();
    for step in steps {
        let change = |state: StepState, note: String| StepChange {
            kind: step.kind,
            state,
            note,
            conditions: Vec::new(),
            settled_in: (state != StepState::Pending).then_some(submission),
        };
        match (step.kind, step.state) {
            (StepKindTag::SecurityReview, StepState::Pending) => {
                let questionnaires = &step.detail.questionnaires;
                let by_reference = route
                    .product
                    .as_ref()
                    .map(|p| p.satisfied(&evidence.confirmed_reuse))
                    .unwrap_or_default();
                if !questionnaires.is_empty()
                    && questionnaires.iter().all(|q| {
                        evidence.accepted_questionnaires.contains(q) || by_reference.contains(q)
                    })
                    && evidence.standing_critical_findings == 0
                    && evidence.reused_critical_findings == 0
                {
                    let referred: Vec<&str> = questionnaires
                        .iter()
                        .filter(|q| {
                            !evidence.accepted_questionnaires.contains(*q)
                                && by_reference.contains(*q)
                        })
                        .map(|q| q.as_str())
                        .collect();
                    changes.push(change(
                        StepState::Satisfied,
                        if referred.is_empty() {
                            "every questionnaire accepted; no critical finding stands".into()
                        } else {
                            format!(
                                "every questionnaire accepted ({} by reference to the product's accepted \
                                 review); no critical finding stands",
                                referred.join(", ")
                            )
                        },
                    ));
                }
            }
            (
                StepKindTag::ContractSafeguards | StepKindTag::Evidence,
                StepState::Pending | StepState::Satisfied | StepState::Waived,
            ) => {
                let open = unsettled(&entries, step.kind, &evidence.clauses);
                if step.state == StepState::Pending && open.is_empty() {
                    let all_waived =
                        entries
                            .iter()
                            .filter(|e| e.step == Some(step.kind))
                            .all(|e| {
                                matches!(
                                    evidence.clauses.get(&e.clause_id),
                                    Some(ClauseStatus::Waived { .. })
                                )
                            });
                    changes.push(if all_waived {
                        change(StepState::Waived, "every clause waived by the CIO".into())
                    } else {
                        change(
                            StepState::Satisfied,
                            "every clause present in the contract or waived".into(),
                        )
                    });
                } else if step.state != StepState::Pending
                    && !open.is_empty()
                    && step.settled_in == Some(submission)
                {
                    changes.push(change(StepState::Pending, pending_note(&step.detail)));
                }
            }
            (StepKindTag::CouncilApproval, StepState::Pending) => match &evidence.council_vote {
                Some((CouncilOutcome::Approved, docket, date))
                    if step
                        .detail
                        .attachments
                        .iter()
                        .all(|a| evidence.council_documents.contains(a)) =>
                {
                    changes.push(change(
                        StepState::Satisfied,
                        format!("approved by the City Council (docket {docket}, vote of {date})"),
                    ));
                }
                Some((CouncilOutcome::Rejected, docket, date)) => {
                    changes.push(change(
                        StepState::Blocked,
                        format!(
                            "rejected by the City Council (docket {docket}, vote of {date}) [Boston 16-63]"
                        ),
                    ));
                }
                _ => {}
            },
            _ => {}
        }
    }
    changes
}

/// What settling the current submission with this evidence changes, if anything: the steps, the status,
/// and — when a Council vote blocked the request — the denial and the closing of everything else.
pub fn settle_plan(state: &RequestState, evidence: &Evidence) -> Option<Plan> {
    let route = state.route.as_ref()?;
    if !state.status.in_review() {
        return None;
    }
    let mut changes = settle(
        route,
        &state.steps,
        &state.fields,
        evidence,
        state.submission,
    );
    if changes.is_empty() {
        return None;
    }
    let after = apply(&state.steps, &changes);
    let status = status_of(route, &after);
    let mut plan = Plan::new(status, "request.steps_settled");
    if status == Status::Denied {
        let note = "closed: the City Council rejected the purchase";
        changes.extend(close_waiting(&after, None, note));
        plan.close = Some("the City Council rejected the purchase [Boston 16-63]".into());
        if let Some((_, docket, date)) = &evidence.council_vote {
            plan.decision = Some(NewDecision {
                step: StepKindTag::CouncilApproval.as_str().into(),
                decision: CheckedDecision {
                    step: StepKindTag::CouncilApproval,
                    outcome: Outcome::Deny,
                    conditions: Vec::new(),
                    reason_code: Some(DenialReason::CouncilRejected),
                    rationale: Some(format!(
                        "the City Council voted against the surveillance technology (docket {docket}, vote of \
                         {date}) [Boston 16-63]"
                    )),
                    service_id: None,
                    confirm_not_candidate: false,
                },
                decided_by: "city-council".into(),
                role: "council".into(),
            });
        }
    }
    if status.is_approved() {
        plan.decided_submission = Some(state.submission);
    }
    plan.step_changes = changes;
    Some(plan)
}

/// The questionnaires of the route's security review the vendor must answer for this request: all of them but
/// those the product's accepted review satisfies by reference (or will, once an analyst confirms the reuse).
fn to_answer(route: &Route) -> Vec<String> {
    let Some(review) = route.step(StepKindTag::SecurityReview) else {
        return Vec::new();
    };
    review
        .questionnaires
        .iter()
        .filter(|q| {
            !route
                .product
                .as_ref()
                .and_then(|p| p.get(q))
                .is_some_and(|r| r.satisfies(true))
        })
        .cloned()
        .collect()
}

/// The evidence as it stands once this route refers to the product's accepted assessments: the critical findings
/// standing on those assessments, as routing loaded them, hold the security review like the request's own.
fn with_product(evidence: &Evidence, route: &Route) -> Evidence {
    let Some(product) = &route.product else {
        return evidence.clone();
    };
    let referenced: BTreeSet<Uuid> = product
        .referenced()
        .into_iter()
        .map(|(_, id, _)| id)
        .collect();
    let critical = product
        .open_findings
        .iter()
        .filter(|f| f.severity == Severity::Critical && referenced.contains(&f.assessment_id))
        .count();
    Evidence {
        reused_critical_findings: critical as u32,
        ..evidence.clone()
    }
}

#[cfg(test)]
pub(crate) mod tests;
