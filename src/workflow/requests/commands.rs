//! The planners of the commands on a request: create, submit, edit (and what an edit of a decided request
//! re-opens), decide, withdraw and reroute, with the routing of a new version that submit and edit share.

use crate::domain::policy::{Policy, StepKindTag};
use crate::domain::problems::ProblemCode;
use crate::domain::requests::{RequestFields, Status};
use crate::domain::roles::Role;
use crate::domain::route::{
    CheckedDecision, DenialReason, NamedService, Outcome, StepState, decider, pending_note,
    prohibition_rationale,
};
use crate::workflow::route::{self, DecidedVersion, Routing};
use crate::workflow::{Caller, Fault, Refusal};

use super::{
    Action, Evidence, NewDecision, NewVersion, Plan, RequestState, Step, StepChange, VersionKind,
    apply, close_waiting, ensure, settle, status_of, to_answer, with_product,
};

/// Routes `fields` as a new submitted version. Steps of `carry` (a decided version) that settle the new
/// route's steps keep their state; the rest wait, then evidence already on file settles what it can.
fn new_version(
    state: &RequestState,
    fields: RequestFields,
    routing: &Routing,
    evidence: &Evidence,
    kind: VersionKind,
    carry: Option<(&DecidedVersion, bool)>,
    comparison: Option<crate::domain::comparison::Comparison>,
) -> Result<Plan, Refusal> {
    if !routing.vendor_known {
        return Err(Refusal::field(
            "vendor_id",
            "no vendor is registered with this id",
        ));
    }
    if let Some(link) = fields.renews {
        if link.id() == state.id {
            return Err(Refusal::field(
                link.field(),
                "a request cannot renew itself",
            ));
        }
        if routing.prior.is_none() {
            return Err(Refusal::field(
                link.field(),
                format!("names no {} you may renew", link.kind()),
            ));
        }
    }
    if fields.product_id.is_some() && routing.product.is_none() {
        return Err(Refusal::field(
            "product_id",
            "names no product of this request's vendor",
        ));
    }
    let mut route = route::route_for(&fields, &state.department, routing);
    route.comparison = comparison.clone();
    let evidence = &with_product(evidence, &route);
    let submission = state.submission + 1;
    let reopened_because = comparison
        .as_ref()
        .map(|c| c.reasons.join("; "))
        .unwrap_or_default();
    let steps: Vec<Step> = route
        .steps
        .iter()
        .map(|step| {
            let earlier = carry.and_then(|(decided, value_rose)| {
                decided
                    .steps
                    .iter()
                    .find(|e| route::carries(step, e, value_rose))
                    .map(|e| (e, decided.submission))
            });
            match earlier {
                _ if route.is_prohibited() => Step {
                    kind: step.kind,
                    state: StepState::Blocked,
                    note: "the purchase is prohibited".into(),
                    detail: step.clone(),
                    conditions: Vec::new(),
                    settled_in: Some(submission),
                },
                Some((e, from)) => route::carried(step, e, from),
                None => Step {
                    kind: step.kind,
                    state: StepState::Pending,
                    note: if reopened_because.is_empty() {
                        pending_note(step)
                    } else {
                        format!("{}; re-opened: {reopened_because}", pending_note(step))
                    },
                    detail: step.clone(),
                    conditions: Vec::new(),
                    settled_in: None,
                },
            }
        })
        .collect();
    let settled = settle(&route, &steps, &fields, evidence, submission);
    let steps = apply(&steps, &settled);
    let status = status_of(&route, &steps);
    let audit_action = match kind {
        VersionKind::Submitted => "request.submitted",
        VersionKind::Edited => "request.edited",
        VersionKind::Reopened => "request.reopened",
    };
    let mut plan = Plan::new(status, audit_action);
    if route.is_prohibited() {
        plan.decision = Some(NewDecision {
            step: crate::domain::route::POLICY_STEP.into(),
            decision: CheckedDecision {
                step: StepKindTag::CioApproval,
                outcome: Outcome::Deny,
                conditions: Vec::new(),
                reason_code: Some(DenialReason::ProhibitedTechnology),
                rationale: Some(prohibition_rationale(&route)),
                service_id: None,
                confirm_not_candidate: false,
            },
            decided_by: "policy".into(),
            role: "system".into(),
        });
        plan.close = Some("the purchase is prohibited".into());
    } else {
        plan.assessments = to_answer(&route);
    }
    if status.is_approved() {
        plan.decided_submission = Some(submission);
    }
    plan.author = true;
    plan.version = Some(NewVersion {
        submission,
        kind,
        fields,
        policy_version: routing.policy_version,
        route,
        steps,
    });
    Ok(plan)
}

/// Someone who decided a step of a request writes no version of it: the decision and the thing decided stay
/// with different people, whichever came first.
fn not_a_decider(state: &RequestState, caller: &Caller) -> Result<(), Refusal> {
    if state.deciders.contains(&caller.key) {
        return Err(Refusal::forbidden(
            ProblemCode::SeparationOfDuties,
            "you decided a step of this request: someone else edits or submits it",
        ));
    }
    Ok(())
}

/// A buyer drafts a request for a department that is registered, with a registered vendor; a renewal names
/// something the buyer may renew.
pub fn create(
    caller: &Caller,
    department_known: bool,
    fields: &RequestFields,
    vendor_known: bool,
    renewal_known: bool,
    product_known: bool,
) -> Result<(), Refusal> {
    let department = caller.department.as_deref().unwrap_or_default();
    if !caller.has(Role::Buyer) || !department_known {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            format!("your token names department {department:?}, which is not registered"),
        ));
    }
    let mut faults = Vec::new();
    if !vendor_known {
        faults.push(Fault::new(
            "vendor_id",
            "no vendor is registered with this id",
        ));
    }
    if let Some(link) = fields.renews
        && !renewal_known
    {
        faults.push(Fault::new(
            link.field(),
            format!("names no {} you may renew", link.kind()),
        ));
    }
    if fields.product_id.is_some() && !product_known {
        faults.push(Fault::new(
            "product_id",
            "names no product of this request's vendor",
        ));
    }
    if faults.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(faults))
    }
}

/// Submits a draft: routes it under the current policy. `checked_at` is the row version the duplicate check
/// read; if the request changed since, the caller checks again.
pub fn submit(
    state: &RequestState,
    caller: &Caller,
    routing: &Routing,
    evidence: &Evidence,
    checked_at: i64,
) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::Submit)?;
    not_a_decider(state, caller)?;
    if checked_at != state.version {
        return Err(Refusal::conflict(
            ProblemCode::ChangedDuringSubmission,
            "the request changed while it was being checked; submit again",
        ));
    }
    new_version(
        state,
        state.fields.clone(),
        routing,
        evidence,
        VersionKind::Submitted,
        None,
        None,
    )
}

/// What an edit of a decided request needs besides the new fields.
#[derive(Debug, Clone)]
pub struct Reevaluation {
    /// The policy version the decided version was routed under.
    pub decided_policy: Policy,
    /// Routing of the new fields under the current policy (for a review that re-opens).
    pub routing: Routing,
    pub evidence: Evidence,
    /// The row version the duplicate check read.
    pub checked_at: i64,
}

/// Edits a request. A draft or a request sent back for changes stays (becomes) a draft. An edit of an approved
/// request is a new version, judged against the version whose decision stands under the policy it was
/// decided under: when nothing material changed the decision stands and the steps are carried; otherwise
/// review re-opens under the current policy, with a route that says why and steps that the decided version
/// still covers carried.
pub fn edit(
    state: &RequestState,
    caller: &Caller,
    next: RequestFields,
    vendor_known: bool,
    product_known: bool,
    reevaluation: Option<&Reevaluation>,
) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::Edit)?;
    not_a_decider(state, caller)?;
    if next.vendor_id != state.fields.vendor_id && !vendor_known {
        return Err(Refusal::field(
            "vendor_id",
            "no vendor is registered with this id",
        ));
    }
    if next.product_id.is_some() && !product_known {
        return Err(Refusal::field(
            "product_id",
            "names no product of this request's vendor",
        ));
    }
    if !state.status.is_approved() {
        let mut plan = Plan::new(Status::Draft, "request.updated");
        plan.fields = Some(next);
        plan.author = true;
        return Ok(plan);
    }
    let decided = state.decided.as_ref().ok_or_else(|| {
        Refusal::conflict(
            ProblemCode::NoDecidedVersion,
            "the request is approved but no decided version is recorded; an admin must re-route it",
        )
    })?;
    let r = reevaluation.ok_or_else(|| {
        Refusal::conflict(
            ProblemCode::ChangedDuringEdit,
            "the request was approved while the edit was being checked; send the edit again",
        )
    })?;
    if r.checked_at != state.version {
        return Err(Refusal::conflict(
            ProblemCode::ChangedDuringEdit,
            "the request changed while the edit was being checked; send it again",
        ));
    }
    let comparison = route::compare(
        decided,
        &r.decided_policy,
        &next,
        &state.department,
        &r.routing,
    );
    if comparison.material {
        let value_rose = route::rose_more_than(
            decided.fields.total_contract_value_cents(),
            next.total_contract_value_cents(),
            r.decided_policy.material_change_cost_percent,
        );
        let carry = (decided.fields.vendor_id == next.vendor_id).then_some((decided, value_rose));
        return new_version(
            state,
            next,
            &r.routing,
            &r.evidence,
            VersionKind::Reopened,
            carry,
            Some(comparison),
        );
    }
    let submission = state.submission + 1;
    let mut route = decided.route.clone();
    route.comparison = Some(comparison);
    let steps = decided
        .steps
        .iter()
        .map(|s| route::carried(&s.detail, s, decided.submission))
        .collect();
    let mut plan = Plan::new(state.status, "request.edited");
    plan.author = true;
    plan.version = Some(NewVersion {
        submission,
        kind: VersionKind::Edited,
        fields: next,
        policy_version: decided.policy_version,
        route,
        steps,
    });
    Ok(plan)
}

/// Records a decision on a step. Only the step's decider decides it, never someone who created, edited or
/// submitted any version of the request; a denial closes every other waiting step and the request's open
/// work; a request for changes closes this submission's waiting steps (the next submission is routed
/// afresh); an approval that settles the last step approves the request.
pub fn decide(
    state: &RequestState,
    caller: &Caller,
    decision: CheckedDecision,
    service: NamedService,
) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::Decide)?;
    let kind = decision.step;
    let role = decider(kind).expect("a checked decision names a decision step");
    if !caller.has(role) {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            format!(
                "the {} step is decided by the {} role",
                kind.as_str(),
                role.as_str()
            ),
        ));
    }
    if state.authors.contains(&caller.key) {
        return Err(Refusal::forbidden(
            ProblemCode::SeparationOfDuties,
            "you created, edited or submitted a version of this request: someone else decides it",
        ));
    }
    let waiting: Vec<String> = state
        .steps
        .iter()
        .filter(|s| route::waiting(s) && decider(s.kind).is_some_and(|r| caller.has(r)))
        .map(|s| s.kind.as_str().to_string())
        .collect();
    let Some(step) = state.step(kind) else {
        return Err(Refusal::conflict(
            ProblemCode::StepNotInRoute,
            format!("this request's route has no {} step", kind.as_str()),
        )
        .with_allowed(waiting));
    };
    if step.state != StepState::Pending {
        return Err(Refusal::conflict(
            ProblemCode::AlreadyDecided,
            format!(
                "the {} step is already {}",
                kind.as_str(),
                step.state.as_str()
            ),
        )
        .with_allowed(waiting));
    }
    if decision.service_id.is_some() && !service.known {
        return Err(Refusal::field(
            "service_id",
            "no catalogue service has this id",
        ));
    }
    // Denying as a duplicate of a service the check never put forward is allowed, but said out loud.
    if decision.service_id.is_some() && !service.candidate && !decision.confirm_not_candidate {
        return Err(Refusal::field(
            "confirm_not_candidate",
            "this service was not among the request's duplicate candidates at submission: send \
             confirm_not_candidate: true to deny it as a duplicate of this service anyway",
        ));
    }
    let who = &caller.subject;
    let (step_state, note, conditions) = match decision.outcome {
        Outcome::Approve => (
            StepState::Satisfied,
            format!("approved by {who}"),
            Vec::new(),
        ),
        Outcome::ApproveWithConditions => (
            StepState::Satisfied,
            format!(
                "approved by {who} with conditions: {}",
                decision.conditions.join("; ")
            ),
            decision.conditions.clone(),
        ),
        Outcome::Deny => (StepState::Blocked, format!("denied by {who}"), Vec::new()),
        Outcome::RequestChanges => (
            StepState::Closed,
            format!("changes requested by {who}"),
            Vec::new(),
        ),
    };
    let mut changes = vec![StepChange {
        kind,
        state: step_state,
        note,
        conditions,
        settled_in: Some(state.submission),
    }];
    let after = apply(&state.steps, &changes);
    let route = state
        .route
        .as_ref()
        .expect("a request under review has a route");
    let mut plan = match decision.outcome {
        Outcome::Deny => {
            changes.extend(close_waiting(
                &after,
                None,
                &format!("closed: {} denied the request on {}", who, kind.as_str()),
            ));
            let mut plan = Plan::new(Status::Denied, "request.decided");
            plan.close = Some(format!("denied on {} by {who}", kind.as_str()));
            plan
        }
        Outcome::RequestChanges => {
            changes.extend(close_waiting(
                &after,
                None,
                &format!(
                    "closed: {who} asked for changes on {}; the next submission is routed afresh",
                    kind.as_str()
                ),
            ));
            Plan::new(Status::ChangesRequested, "request.decided")
        }
        Outcome::Approve | Outcome::ApproveWithConditions => {
            let status = status_of(route, &after);
            let mut plan = Plan::new(status, "request.decided");
            if status.is_approved() {
                plan.decided_submission = Some(state.submission);
            }
            plan
        }
    };
    plan.step_changes = changes;
    plan.decision = Some(NewDecision {
        step: kind.as_str().to_string(),
        decision,
        decided_by: caller.subject.clone(),
        role: role.as_str().to_string(),
    });
    Ok(plan)
}

/// Withdraws a request: every waiting step closes, and its open work (assessments, invitations) with it.
pub fn withdraw(state: &RequestState, caller: &Caller) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::Withdraw)?;
    let mut plan = Plan::new(Status::Withdrawn, "request.withdrawn");
    plan.step_changes = close_waiting(
        &state.steps,
        None,
        &format!("closed: {} withdrew the request", caller.subject),
    );
    plan.close = Some(format!("the request was withdrawn by {}", caller.subject));
    Ok(plan)
}

/// Re-evaluates the current submission under the current policy (an admin's command). Steps already
/// settled keep their state; new steps wait; evidence on file settles what it can; a route that is now
/// prohibited denies the request.
pub fn reroute(
    state: &RequestState,
    caller: &Caller,
    routing: &Routing,
    evidence: &Evidence,
) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::Reroute)?;
    let mut route = route::route_for(&state.fields, &state.department, routing);
    route.comparison = state.route.as_ref().and_then(|r| r.comparison.clone());
    let evidence = &with_product(evidence, &route);
    let steps: Vec<Step> = route
        .steps
        .iter()
        .map(|step| {
            let kept = state
                .steps
                .iter()
                .find(|s| s.kind == step.kind && s.state.is_done());
            match kept {
                _ if route.is_prohibited() => Step {
                    kind: step.kind,
                    state: StepState::Blocked,
                    note: "the purchase is prohibited".into(),
                    detail: step.clone(),
                    conditions: Vec::new(),
                    settled_in: Some(state.submission),
                },
                Some(k) => Step {
                    detail: step.clone(),
                    ..k.clone()
                },
                None => Step {
                    kind: step.kind,
                    state: StepState::Pending,
                    note: pending_note(step),
                    detail: step.clone(),
                    conditions: Vec::new(),
                    settled_in: None,
                },
            }
        })
        .collect();
    let settled = settle(&route, &steps, &state.fields, evidence, state.submission);
    let steps = apply(&steps, &settled);
    let status = status_of(&route, &steps);
    let mut plan = Plan::new(status, "request.rerouted");
    if route.is_prohibited() {
        plan.close = Some("the purchase is prohibited under the current policy".into());
    } else {
        plan.assessments = to_answer(&route);
    }
    if status.is_approved() {
        plan.decided_submission = Some(state.submission);
    }
    plan.rerouted = Some((routing.policy_version, route, steps));
    Ok(plan)
}
