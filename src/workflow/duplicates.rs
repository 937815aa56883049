//! The CIO's review of a likely duplicate of a central service [EO 2025 Art. 3]: dismissing a match, and a
//! buyer's exception and the CIO's answer to it.

use crate::domain::duplicate_learning::AliasProposalStatus;
use crate::domain::policy::StepKindTag;
use crate::domain::problems::ProblemCode;
use crate::domain::roles::Role;
use crate::domain::route::StepState;

use super::requests::{Action, Plan, RequestState, StepChange, ensure, status_after};
use super::{Caller, Refusal};

fn cio_not_author(state: &RequestState, caller: &Caller) -> Result<(), Refusal> {
    if !caller.has(Role::Cio) {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "the CIO reviews likely duplicates",
        ));
    }
    if state.authors.contains(&caller.key) {
        return Err(Refusal::forbidden(
            ProblemCode::SeparationOfDuties,
            "you created, edited or submitted a version of this request: someone else reviews it",
        ));
    }
    Ok(())
}

fn settle_duplicate_step(
    state: &RequestState,
    new_state: StepState,
    note: String,
    audit_action: &'static str,
) -> Plan {
    let change = StepChange {
        kind: StepKindTag::CioDuplicateReview,
        state: new_state,
        note,
        conditions: Vec::new(),
        settled_in: Some(state.submission),
    };
    status_after(state, vec![change], audit_action)
}

fn duplicate_step_waiting(state: &RequestState) -> bool {
    state
        .steps
        .iter()
        .any(|s| s.kind == StepKindTag::CioDuplicateReview && s.state == StepState::Pending)
}

/// The CIO sets a recorded match aside with a reason. When no likely duplicate is left standing, the duplicate
/// review step is satisfied; otherwise its note names those still standing. `recorded`: the name of the
/// match, when it was recorded for the current submission; `standing`: the likely duplicates still standing
/// once this one is dismissed, described.
pub fn dismiss(
    state: &RequestState,
    caller: &Caller,
    recorded: Option<&str>,
    standing: &[String],
    reason: &str,
) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::DismissDuplicate)?;
    cio_not_author(state, caller)?;
    let Some(name) = recorded else {
        return Err(Refusal::NotFound("duplicate candidate of this request"));
    };
    if duplicate_step_waiting(state) && standing.is_empty() {
        let note = format!(
            "likely duplicate {name} dismissed by {}: {reason}",
            caller.subject
        );
        return Ok(settle_duplicate_step(
            state,
            StepState::Satisfied,
            note,
            "request.duplicate_dismissed",
        ));
    }
    if duplicate_step_waiting(state) {
        let note = format!(
            "{name} dismissed by {}: {reason}; still standing: {}",
            caller.subject,
            standing.join("; ")
        );
        let change = StepChange {
            kind: StepKindTag::CioDuplicateReview,
            state: StepState::Pending,
            note,
            conditions: Vec::new(),
            settled_in: None,
        };
        return Ok(status_after(
            state,
            vec![change],
            "request.duplicate_dismissed",
        ));
    }
    Ok(status_after(
        state,
        Vec::new(),
        "request.duplicate_dismissed",
    ))
}

/// A buyer of the department asks the CIO to let the purchase go ahead although it looks like a duplicate,
/// while the duplicate review waits; one exception per submitted version.
pub fn ask_exception(state: &RequestState, caller: &Caller) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::AskException)?;
    if !duplicate_step_waiting(state) {
        return Err(Refusal::conflict(
            ProblemCode::NoDuplicateReview,
            "an exception is asked while the request waits for the CIO's duplicate review",
        ));
    }
    if state.open_exception {
        return Err(Refusal::conflict(
            ProblemCode::ExceptionExists,
            "an exception was already asked for this version",
        ));
    }
    Ok(status_after(
        state,
        Vec::new(),
        "request.exception_requested",
    ))
}

/// The CIO grants (the duplicate review step is waived) or refuses the buyer's exception.
pub fn decide_exception(
    state: &RequestState,
    caller: &Caller,
    grant: bool,
    reason: &str,
) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::DecideException)?;
    cio_not_author(state, caller)?;
    if !state.open_exception {
        return Err(Refusal::conflict(
            ProblemCode::NoOpenException,
            "no exception is waiting for a decision on this version",
        ));
    }
    let action = if grant {
        "request.exception_granted"
    } else {
        "request.exception_refused"
    };
    if grant && duplicate_step_waiting(state) {
        let note = format!("exception granted by {}: {reason}", caller.subject);
        return Ok(settle_duplicate_step(
            state,
            StepState::Waived,
            note,
            action,
        ));
    }
    Ok(status_after(state, Vec::new(), action))
}

/// A proposed alias (from a denial as a duplicate) is accepted or rejected once: `status` is the proposal's.
pub fn decide_alias_proposal(status: AliasProposalStatus) -> Result<(), Refusal> {
    if status != AliasProposalStatus::Proposed {
        return Err(Refusal::conflict(
            ProblemCode::AlreadyDecided,
            format!("this alias proposal was already {}", status.as_str()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_alias_proposal_is_decided_once() {
        use crate::domain::duplicate_learning::AliasProposalStatus;
        assert!(super::decide_alias_proposal(AliasProposalStatus::Proposed).is_ok());
        for done in [AliasProposalStatus::Accepted, AliasProposalStatus::Rejected] {
            let refusal = super::decide_alias_proposal(done).unwrap_err();
            assert_eq!(
                refusal.code(),
                crate::domain::problems::ProblemCode::AlreadyDecided,
                "{refusal:?}"
            );
        }
    }

    use super::*;
    use crate::workflow::requests::tests::{caller, draft};
    use crate::workflow::route::tests::fields;

    fn in_review() -> RequestState {
        let mut state = draft(fields());
        state.status = crate::domain::requests::Status::AwaitingDecision;
        state.submission = 1;
        let route = crate::workflow::route::route_for(
            &state.fields,
            "DOIT",
            &crate::workflow::route::Routing {
                likely_duplicate: Some(
                    "Citywide e-signature (central service, match score 0.81)".into(),
                ),
                ..crate::workflow::route::tests::routing()
            },
        );
        state.steps = route
            .steps
            .iter()
            .map(|s| crate::workflow::requests::Step {
                kind: s.kind,
                state: StepState::Pending,
                note: "waiting".into(),
                detail: s.clone(),
                conditions: vec![],
                settled_in: None,
            })
            .collect();
        state.route = Some(route);
        state
    }

    #[test]
    fn dismissing_the_last_likely_match_satisfies_the_duplicate_review() {
        let state = in_review();
        let cio = caller("carla", Role::Cio);
        let plan = dismiss(
            &state,
            &cio,
            Some("Citywide e-signature"),
            &[],
            "different scope",
        )
        .unwrap();
        assert_eq!(plan.step_changes[0].state, StepState::Satisfied);
        assert!(plan.step_changes[0].note.contains("Citywide e-signature"));
        let left = vec!["Box file sharing (central service, match score 0.70)".to_string()];
        let kept = dismiss(
            &state,
            &cio,
            Some("Citywide e-signature"),
            &left,
            "different scope",
        )
        .unwrap();
        assert_eq!(kept.step_changes[0].state, StepState::Pending);
        assert!(
            kept.step_changes[0]
                .note
                .ends_with("still standing: Box file sharing (central service, match score 0.70)"),
            "{}",
            kept.step_changes[0].note
        );
        assert_eq!(
            dismiss(&state, &cio, None, &[], "x").unwrap_err(),
            Refusal::NotFound("duplicate candidate of this request")
        );
        assert_eq!(
            dismiss(&state, &caller("BEA", Role::Cio), Some("x"), &[], "x")
                .unwrap_err()
                .code(),
            "separation_of_duties"
        );
    }

    #[test]
    fn an_exception_is_asked_once_and_a_grant_waives_the_review() {
        let mut state = in_review();
        let buyer = caller("bea", Role::Buyer);
        assert!(ask_exception(&state, &buyer).is_ok());
        assert_eq!(
            decide_exception(&state, &caller("carla", Role::Cio), true, "ok")
                .unwrap_err()
                .code(),
            "no_open_exception"
        );
        state.open_exception = true;
        assert_eq!(
            ask_exception(&state, &buyer).unwrap_err().code(),
            "exception_exists"
        );
        let plan = decide_exception(&state, &caller("carla", Role::Cio), true, "ok").unwrap();
        assert_eq!(plan.step_changes[0].state, StepState::Waived);
    }

    #[test]
    fn denying_as_a_duplicate_of_a_service_that_was_no_candidate_needs_a_confirmation() {
        use crate::domain::route::{CheckedDecision, DenialReason, NamedService, Outcome};
        let state = in_review();
        let cio = caller("carla", Role::Cio);
        let deny = |confirm: bool| CheckedDecision {
            step: StepKindTag::CioDuplicateReview,
            outcome: Outcome::Deny,
            conditions: vec![],
            reason_code: Some(DenialReason::DuplicateOfCentralService),
            rationale: Some("use the central service".into()),
            service_id: Some(uuid::Uuid::nil()),
            confirm_not_candidate: confirm,
        };
        let elsewhere = NamedService {
            known: true,
            candidate: false,
        };
        let refused = crate::workflow::requests::decide(&state, &cio, deny(false), elsewhere);
        assert_eq!(
            refused.unwrap_err(),
            Refusal::field(
                "confirm_not_candidate",
                "this service was not among the request's duplicate candidates at submission: send \
                 confirm_not_candidate: true to deny it as a duplicate of this service anyway"
            )
        );
        assert!(crate::workflow::requests::decide(&state, &cio, deny(true), elsewhere).is_ok());
        assert!(
            crate::workflow::requests::decide(&state, &cio, deny(false), NamedService::CANDIDATE)
                .is_ok()
        );
    }
}
