//! City Council approval of surveillance technology [Boston 16-63]: the documents the Council reads, and its
//! vote, which an admin records. An approving vote with every document satisfies the step; a rejecting vote
//! denies the request.

use crate::domain::problems::ProblemCode;
use chrono::NaiveDate;

use crate::domain::council::{CouncilDocumentKind, CouncilOutcome};
use crate::domain::policy::StepKindTag;
use crate::domain::roles::Role;
use crate::domain::route::StepState;

use super::requests::{Action, Evidence, Plan, RequestState, ensure, settle_plan};
use super::{Caller, Fault, Refusal};

/// A vote as an admin sends it, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct VoteInput {
    pub docket: String,
    pub vote_date: NaiveDate,
    pub outcome: CouncilOutcome,
    pub note: Option<String>,
}

fn council_step(state: &RequestState) -> Result<&super::requests::Step, Refusal> {
    state
        .steps
        .iter()
        .find(|s| s.kind == StepKindTag::CouncilApproval)
        .ok_or_else(|| {
            Refusal::conflict(
                ProblemCode::NoCouncilStep,
                "this request's route has no council_approval step: the ordinance does not cover it",
            )
        })
}

/// A document for the Council may be attached by a buyer of the department or an admin while the Council step
/// waits, and only of a kind the step names: that kind.
pub fn attach_document(
    state: &RequestState,
    caller: &Caller,
    kind: &str,
) -> Result<CouncilDocumentKind, Refusal> {
    ensure(state, caller, Action::AttachCouncilDocument)?;
    if !(caller.buys_for(&state.department) || caller.has(Role::Admin)) {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "a buyer of the department or an admin attaches the Council's documents",
        ));
    }
    let step = council_step(state)?;
    if step.state != StepState::Pending {
        return Err(Refusal::conflict(
            ProblemCode::CouncilStepSettled,
            format!(
                "the council_approval step is already {}",
                step.state.as_str()
            ),
        ));
    }
    // The policy names only kinds the service keeps, so a kind the step names is one.
    match kind.parse() {
        Ok(known) if step.detail.attachments.iter().any(|a| a == kind) => Ok(known),
        _ => Err(Refusal::field(
            "kind",
            format!(
                "{kind:?} is not a document this step needs: one of {}",
                step.detail.attachments.join(", ")
            ),
        )),
    }
}

/// Checks a vote and plans what it settles. An approving vote needs every attachment the step names on file;
/// a vote is recorded once per submitted version and dated no later than `today`.
pub fn record_vote(
    state: &RequestState,
    caller: &Caller,
    vote: &VoteInput,
    evidence: &Evidence,
    today: NaiveDate,
) -> Result<Plan, Refusal> {
    ensure(state, caller, Action::RecordCouncilVote)?;
    if !caller.has(Role::Admin) {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "an admin records the City Council's vote",
        ));
    }
    let mut faults = Vec::new();
    if vote.docket.trim().is_empty() || vote.docket.chars().count() > 100 {
        faults.push(Fault::new(
            "docket",
            "the Council's docket or order number, 1 to 100 characters",
        ));
    }
    if vote.vote_date > today {
        faults.push(Fault::new(
            "vote_date",
            format!(
                "{} is in the future: record a vote once it is taken",
                vote.vote_date
            ),
        ));
    }
    if !faults.is_empty() {
        return Err(Refusal::Invalid(faults));
    }
    let step = council_step(state)?;
    if step.state != StepState::Pending {
        return Err(Refusal::conflict(
            ProblemCode::CouncilStepSettled,
            format!(
                "the council_approval step is already {}: a vote is recorded once",
                step.state.as_str()
            ),
        ));
    }
    if vote.outcome == CouncilOutcome::Approved {
        let missing: Vec<&str> = step
            .detail
            .attachments
            .iter()
            .filter(|a| !evidence.council_documents.contains(*a))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Refusal::conflict(
                ProblemCode::CouncilDocumentsMissing,
                format!(
                    "an approval is recorded with the documents the Council approved: attach {} first",
                    missing.join(" and ")
                ),
            )
            .with_allowed(vec![Action::AttachCouncilDocument.as_str().to_string()]));
        }
    }
    let with_vote = Evidence {
        council_vote: Some((vote.outcome, vote.docket.trim().to_string(), vote.vote_date)),
        ..evidence.clone()
    };
    let mut plan = settle_plan(state, &with_vote).ok_or_else(|| {
        Refusal::conflict(
            ProblemCode::CouncilStepSettled,
            "the vote settles nothing on this request",
        )
    })?;
    plan.audit_action = "request.council_vote_recorded";
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;
    use crate::domain::policy::DataClass;
    use crate::domain::requests::Status;
    use crate::workflow::requests::tests::{applied, caller, draft};
    use crate::workflow::requests::{self, Evidence};
    use crate::workflow::route::tests::{fields, routing};

    fn surveillance_in_review() -> RequestState {
        let mut f = fields();
        f.surveillance = true;
        f.data_classes = [DataClass::Confidential].into();
        f.annual_operating_cost_cents = 100_000;
        let state = draft(f);
        let mut r = routing();
        r.ordinance_covered = true;
        let plan = requests::submit(
            &state,
            &caller("bea", Role::Buyer),
            &r,
            &Evidence::default(),
            1,
        )
        .unwrap();
        applied(&state, &plan)
    }

    fn vote(outcome: CouncilOutcome) -> VoteInput {
        VoteInput {
            docket: "Docket #0412".into(),
            vote_date: NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
            outcome,
            note: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    #[test]
    fn an_approving_vote_needs_both_documents_and_satisfies_the_step() {
        let state = surveillance_in_review();
        let admin = caller("ada", Role::Admin);
        let none = record_vote(
            &state,
            &admin,
            &vote(CouncilOutcome::Approved),
            &Evidence::default(),
            today(),
        );
        assert_eq!(none.unwrap_err().code(), "council_documents_missing");
        let documents = Evidence {
            council_documents: CouncilDocumentKind::VARIANTS
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            ..Evidence::default()
        };
        let plan = record_vote(
            &state,
            &admin,
            &vote(CouncilOutcome::Approved),
            &documents,
            today(),
        )
        .unwrap();
        let council = plan
            .step_changes
            .iter()
            .find(|c| c.kind == StepKindTag::CouncilApproval)
            .unwrap();
        assert_eq!(council.state, StepState::Satisfied);
        assert_eq!(
            council.note,
            "approved by the City Council (docket Docket #0412, vote of 2026-11-04)"
        );
        assert_eq!(plan.status, Status::InReview);
    }

    #[test]
    fn a_rejecting_vote_denies_the_request_with_the_citation_and_closes_the_rest() {
        let state = surveillance_in_review();
        let plan = record_vote(
            &state,
            &caller("ada", Role::Admin),
            &vote(CouncilOutcome::Rejected),
            &Evidence::default(),
            today(),
        )
        .unwrap();
        assert_eq!(plan.status, Status::Denied);
        assert!(plan.close.is_some());
        let decision = plan.decision.as_ref().unwrap();
        assert!(
            decision
                .decision
                .rationale
                .as_ref()
                .unwrap()
                .contains("[Boston 16-63]")
        );
        let after = applied(&state, &plan);
        assert!(after.steps.iter().all(|s| s.state != StepState::Pending));
    }

    #[test]
    fn a_vote_is_dated_and_docketed_and_only_an_admin_records_it() {
        let state = surveillance_in_review();
        let mut future = vote(CouncilOutcome::Rejected);
        future.vote_date = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        future.docket = " ".into();
        let Err(Refusal::Invalid(faults)) = record_vote(
            &state,
            &caller("ada", Role::Admin),
            &future,
            &Evidence::default(),
            today(),
        ) else {
            panic!("refused")
        };
        let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["docket", "vote_date"]);
        assert_eq!(
            record_vote(
                &state,
                &caller("carla", Role::Cio),
                &vote(CouncilOutcome::Approved),
                &Evidence::default(),
                today()
            )
            .unwrap_err()
            .code(),
            "forbidden"
        );
        assert_eq!(
            attach_document(
                &state,
                &caller("bea", Role::Buyer),
                "surveillance_use_policy"
            ),
            Ok(CouncilDocumentKind::SurveillanceUsePolicy)
        );
        assert_eq!(
            attach_document(&state, &caller("bea", Role::Buyer), "minutes")
                .unwrap_err()
                .code(),
            "validation_failed"
        );
    }
}
