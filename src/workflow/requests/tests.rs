use super::*;
use crate::domain::policy::{DataClass, Hosting, Policy};
use crate::domain::route::NamedService;
use crate::domain::text_forms::tests::pinned;
use crate::workflow::route::tests as fixtures;

pub(crate) fn caller(subject: &str, role: Role) -> Caller {
    let department = (role == Role::Buyer).then(|| "DOIT".to_string());
    Caller::new(subject, vec![role], department)
}

pub(crate) fn draft(fields: RequestFields) -> RequestState {
    RequestState {
        id: Uuid::new_v4(),
        department: "DOIT".into(),
        status: Status::Draft,
        version: 1,
        submission: 0,
        fields,
        route: None,
        policy_version: None,
        steps: Vec::new(),
        authors: ["bea".to_string()].into(),
        deciders: BTreeSet::new(),
        decided: None,
        open_exception: false,
    }
}

/// Applies a plan the way the store does, in memory.
pub(crate) fn applied(state: &RequestState, plan: &Plan) -> RequestState {
    let mut next = state.clone();
    next.version += 1;
    next.status = plan.status;
    if let Some(f) = &plan.fields {
        next.fields = f.clone();
    }
    if let Some(v) = &plan.version {
        next.submission = v.submission;
        next.fields = v.fields.clone();
        next.route = Some(v.route.clone());
        next.policy_version = Some(v.policy_version);
        next.steps = v.steps.clone();
        next.open_exception = false;
    }
    if let Some((policy_version, route, steps)) = &plan.rerouted {
        next.route = Some(route.clone());
        next.policy_version = Some(*policy_version);
        next.steps = steps.clone();
    }
    next.steps = apply(&next.steps, &plan.step_changes);
    if let Some(d) = &plan.decision
        && (d.role == "cio" || d.role == "finance")
    {
        next.deciders
            .insert(crate::workflow::subject_key(&d.decided_by));
    }
    if let Some(n) = plan.decided_submission {
        next.decided = Some(DecidedVersion {
            submission: n,
            fields: next.fields.clone(),
            route: next.route.clone().unwrap(),
            policy_version: next.policy_version.unwrap(),
            steps: next.steps.clone(),
        });
    }
    next
}

fn submitted(fields: RequestFields) -> RequestState {
    let state = draft(fields);
    let plan = submit(
        &state,
        &caller("bea", Role::Buyer),
        &fixtures::routing(),
        &Evidence::default(),
        1,
    )
    .unwrap();
    applied(&state, &plan)
}

fn approve(state: &RequestState, kind: StepKindTag, who: &Caller) -> RequestState {
    let decision = CheckedDecision {
        step: kind,
        outcome: Outcome::Approve,
        conditions: vec![],
        reason_code: None,
        rationale: None,
        service_id: None,
        confirm_not_candidate: false,
    };
    applied(
        state,
        &decide(state, who, decision, NamedService::CANDIDATE).unwrap(),
    )
}

#[test]
fn actions_and_version_kinds_are_named_as_stored_and_sent() {
    pinned::<Action>(&[
        "edit",
        "submit",
        "withdraw",
        "decide",
        "reroute",
        "record_safeguards",
        "dismiss_duplicate",
        "ask_exception",
        "decide_exception",
        "attach_council_document",
        "record_council_vote",
    ]);
    pinned::<VersionKind>(&["submitted", "edited", "reopened"]);
}

#[test]
fn a_draft_over_the_threshold_waits_for_the_cio_and_her_approval_approves_it() {
    let state = submitted(fixtures::fields());
    assert_eq!(state.status, Status::AwaitingDecision);
    assert_eq!(state.submission, 1);
    let cio = caller("carla", Role::Cio);
    assert_eq!(allowed_actions(&state.standing(), &cio), [Action::Decide]);
    assert_eq!(
        allowed_actions(&state.standing(), &caller("bea", Role::Buyer)),
        [Action::Withdraw]
    );
    let approved = approve(&state, StepKindTag::CioApproval, &cio);
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.decided.as_ref().unwrap().submission, 1);
}

#[test]
fn nobody_who_wrote_a_version_decides_it_whatever_the_case_of_their_name() {
    let state = submitted(fixtures::fields());
    let decision = CheckedDecision {
        step: StepKindTag::CioApproval,
        outcome: Outcome::Approve,
        conditions: vec![],
        reason_code: None,
        rationale: None,
        service_id: None,
        confirm_not_candidate: false,
    };
    for subject in ["bea", "BEA", " Bea "] {
        let cio = caller(subject, Role::Cio);
        assert_eq!(
            decide(&state, &cio, decision.clone(), NamedService::CANDIDATE)
                .unwrap_err()
                .code(),
            "separation_of_duties"
        );
        assert!(!allowed_actions(&state.standing(), &cio).contains(&Action::Decide));
    }
}

#[test]
fn a_denial_closes_every_other_waiting_step_and_the_work() {
    let mut f = fixtures::fields();
    f.annual_operating_cost_cents = 15_000_000;
    f.hosting = Hosting::VendorCloud;
    let state = submitted(f);
    assert_eq!(state.status, Status::InReview);
    let decision = CheckedDecision {
        step: StepKindTag::FinanceApproval,
        outcome: Outcome::Deny,
        conditions: vec![],
        reason_code: Some(DenialReason::Cost),
        rationale: Some("no budget".into()),
        service_id: None,
        confirm_not_candidate: false,
    };
    let plan = decide(
        &state,
        &caller("fin", Role::Finance),
        decision,
        NamedService::CANDIDATE,
    )
    .unwrap();
    assert!(plan.close.is_some());
    let after = applied(&state, &plan);
    assert_eq!(after.status, Status::Denied);
    assert!(after.steps.iter().all(|s| s.state != StepState::Pending));
    let cio = after
        .steps
        .iter()
        .find(|s| s.kind == StepKindTag::CioApproval)
        .unwrap();
    assert_eq!(cio.state, StepState::Closed);
    assert_eq!(
        cio.note,
        "closed: fin denied the request on finance_approval"
    );
    assert!(allowed_actions(&after.standing(), &caller("carla", Role::Cio)).is_empty());
}

#[test]
fn withdrawal_closes_the_steps_and_the_work() {
    let state = submitted(fixtures::fields());
    let plan = withdraw(&state, &caller("bea", Role::Buyer)).unwrap();
    assert_eq!(
        plan.close.as_deref(),
        Some("the request was withdrawn by bea")
    );
    let after = applied(&state, &plan);
    assert!(after.steps.iter().all(|s| s.state == StepState::Closed));
    let again = withdraw(&after, &caller("bea", Role::Buyer)).unwrap_err();
    assert_eq!(again.code(), "transition_not_allowed");
}

#[test]
fn an_edit_of_an_approved_request_reopens_review_when_the_route_needs_more() {
    let state = submitted(fixtures::fields());
    let approved = approve(
        &state,
        StepKindTag::CioApproval,
        &caller("carla", Role::Cio),
    );
    let mut next = approved.fields.clone();
    next.expected_users = 5000;
    let r = Reevaluation {
        decided_policy: Policy::default_policy(),
        routing: fixtures::routing(),
        evidence: Evidence::default(),
        checked_at: approved.version,
    };
    let plan = edit(
        &approved,
        &caller("bea", Role::Buyer),
        next,
        true,
        true,
        Some(&r),
    )
    .unwrap();
    assert_eq!(plan.audit_action, "request.reopened");
    let after = applied(&approved, &plan);
    assert_eq!(after.status, Status::AwaitingDecision);
    assert_eq!(after.submission, 2);
    let cio = after
        .steps
        .iter()
        .find(|s| s.kind == StepKindTag::CioApproval)
        .unwrap();
    assert_eq!(cio.state, StepState::Pending);
    assert!(
        cio.note
            .contains("re-opened: a new ground for CIO approval"),
        "{}",
        cio.note
    );
    let comparison = after.route.unwrap().comparison.unwrap();
    assert_eq!(comparison.decided_submission, 1);
    assert_eq!(comparison.changes, ["expected_users: 100 -> 5,000"]);
}

#[test]
fn an_edit_that_changes_nothing_material_keeps_the_decision_as_a_new_version() {
    let state = submitted(fixtures::fields());
    let approved = approve(
        &state,
        StepKindTag::CioApproval,
        &caller("carla", Role::Cio),
    );
    let mut next = approved.fields.clone();
    next.description = "Sign permits and licences online".into();
    next.annual_operating_cost_cents = 6_300_000;
    let r = Reevaluation {
        decided_policy: Policy::default_policy(),
        routing: fixtures::routing(),
        evidence: Evidence::default(),
        checked_at: approved.version,
    };
    let plan = edit(
        &approved,
        &caller("bea", Role::Buyer),
        next,
        true,
        true,
        Some(&r),
    )
    .unwrap();
    assert_eq!(plan.audit_action, "request.edited");
    let after = applied(&approved, &plan);
    assert_eq!(after.status, Status::Approved);
    assert_eq!(after.submission, 2);
    assert_eq!(after.decided.as_ref().unwrap().submission, 1);
    assert!(
        after.steps[0]
            .note
            .starts_with("carried from version 1: approved by carla")
    );
}

#[test]
fn a_face_surveillance_purchase_is_denied_on_submission_with_nothing_waiting() {
    let mut f = fixtures::fields();
    f.surveillance = true;
    f.face_surveillance = true;
    f.data_classes = [DataClass::Confidential].into();
    let state = submitted(f);
    assert_eq!(state.status, Status::Denied);
    assert!(state.steps.iter().all(|s| s.state == StepState::Blocked));
}

#[test]
fn evidence_on_file_settles_a_resubmitted_security_review() {
    let mut f = fixtures::fields();
    f.annual_operating_cost_cents = 100_000;
    f.hosting = Hosting::VendorCloud;
    let state = draft(f);
    let evidence = Evidence {
        accepted_questionnaires: ["city-baseline".to_string()].into(),
        ..Evidence::default()
    };
    let plan = submit(
        &state,
        &caller("bea", Role::Buyer),
        &fixtures::routing(),
        &evidence,
        1,
    )
    .unwrap();
    let after = applied(&state, &plan);
    assert_eq!(after.status, Status::Approved);
    assert_eq!(after.steps[0].state, StepState::Satisfied);
}
#[test]
fn a_products_valid_acceptance_settles_the_review_by_reference_and_asks_only_the_rest() {
    use crate::domain::assessments::AssessmentStatus;
    use crate::domain::reuse::{Held, OpenFinding, ProductFacts, Scope, Standing};
    use chrono::{TimeZone, Utc};
    let mut f = fixtures::fields();
    f.annual_operating_cost_cents = 100_000;
    f.hosting = Hosting::VendorCloud;
    f.data_classes = [DataClass::Confidential].into();
    f.product_id = Some(Uuid::from_u128(1));
    let baseline = Uuid::from_u128(2);
    let product = ProductFacts {
        id: Uuid::from_u128(1),
        vendor_id: f.vendor_id,
        name: "MeetNow".into(),
        assessments: vec![Held {
            id: baseline,
            template_id: "city-baseline".into(),
            current_version: true,
            status: AssessmentStatus::Accepted,
            scope: Some(Scope {
                data_classes: [DataClass::Confidential].into(),
                hosting: Hosting::VendorCloud,
                users: 500,
            }),
            cycle: 1,
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            accepted: Some((
                Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap(),
                "ana".into(),
            )),
        }],
        open_findings: Vec::new(),
    };
    let mut routing = fixtures::routing();
    // No product: the request names one that is not this vendor's.
    let refused = submit(
        &draft(f.clone()),
        &caller("bea", Role::Buyer),
        &routing,
        &Evidence::default(),
        1,
    );
    assert!(
        matches!(refused, Err(Refusal::Invalid(ref faults)) if faults[0].field == "product_id")
    );

    routing.product = Some(product.clone());
    let state = draft(f.clone());
    let plan = submit(
        &state,
        &caller("bea", Role::Buyer),
        &routing,
        &Evidence::default(),
        1,
    )
    .unwrap();
    let after = applied(&state, &plan);
    assert!(plan.assessments.is_empty(), "{:?}", plan.assessments);
    let review = after
        .steps
        .iter()
        .find(|s| s.kind == StepKindTag::SecurityReview)
        .unwrap();
    assert_eq!(review.state, StepState::Satisfied);
    assert!(
        review.note.contains("city-baseline by reference"),
        "{}",
        review.note
    );
    let product_review = after.route.as_ref().unwrap().product.clone().unwrap();
    assert_eq!(product_review.questionnaires[0].standing, Standing::Reused);

    // A critical finding standing on the reused assessment holds the step, and shows on the route.
    routing.product.as_mut().unwrap().open_findings = vec![OpenFinding {
        id: Uuid::from_u128(3),
        assessment_id: baseline,
        template_id: "city-baseline".into(),
        question_id: "IAM-01".into(),
        severity: crate::domain::questionnaires::Severity::Critical,
        title: "No single sign-on".into(),
        status: crate::domain::assessments::FindingStatus::Open,
    }];
    let plan = submit(
        &state,
        &caller("bea", Role::Buyer),
        &routing,
        &Evidence::default(),
        1,
    )
    .unwrap();
    let after = applied(&state, &plan);
    let review = after
        .steps
        .iter()
        .find(|s| s.kind == StepKindTag::SecurityReview)
        .unwrap();
    assert_eq!(review.state, StepState::Pending);
    assert_eq!(after.route.unwrap().product.unwrap().open_findings.len(), 1);

    // Health data widens the scope: the baseline is asked again (a new cycle) and the addendum is new.
    routing.product.as_mut().unwrap().open_findings.clear();
    f.data_classes = [DataClass::Confidential, DataClass::Health].into();
    let plan = submit(
        &draft(f),
        &caller("bea", Role::Buyer),
        &routing,
        &Evidence::default(),
        1,
    )
    .unwrap();
    assert_eq!(plan.assessments, ["city-baseline", "hipaa-addendum"]);
    let route = plan.version.unwrap().route;
    let p = route.product.unwrap();
    assert_eq!(p.get("city-baseline").unwrap().continues(), Some(baseline));
    assert_eq!(
        p.get("hipaa-addendum").unwrap().standing,
        Standing::NeedsReview
    );
}
