//! Assessments, the invitations that bring a vendor to them, and their findings: which command each state
//! allows. The store loads the state under a lock, asks here, and applies what is allowed.

use crate::domain::problems::ProblemCode;
use uuid::Uuid;

use super::{Fault, Refusal};
use crate::domain::assessments::{AssessmentStatus, FindingStatus};
use crate::domain::requests::Status as RequestStatus;

/// An assessment as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssessmentState<'a> {
    pub status: AssessmentStatus,
    /// Why it was cancelled, for a cancelled one.
    pub cancel_reason: Option<&'a str>,
}

/// What the vendor does to an assessment it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorWork {
    Answer,
    AddEvidence,
    Submit,
}

impl VendorWork {
    fn describe(self) -> &'static str {
        match self {
            VendorWork::Answer => "answers change",
            VendorWork::AddEvidence => "evidence is added",
            VendorWork::Submit => "it is submitted",
        }
    }
}

/// What each state allows, for the `allowed` of a refusal.
fn allowed_in(status: AssessmentStatus) -> Vec<String> {
    let actions: &[&str] = match status {
        AssessmentStatus::Open | AssessmentStatus::Returned => {
            &["answer", "add_evidence", "submit"]
        }
        AssessmentStatus::Submitted => &["review"],
        AssessmentStatus::Accepted => &["start_reassessment"],
        AssessmentStatus::Cancelled => &[],
    };
    actions.iter().map(|a| a.to_string()).collect()
}

/// A cancelled assessment allows nothing more; the refusal says why it was cancelled.
fn cancelled(state: AssessmentState<'_>) -> Option<Refusal> {
    (state.status == AssessmentStatus::Cancelled).then(|| {
        let why = state
            .cancel_reason
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        Refusal::conflict(
            ProblemCode::AssessmentCancelled,
            format!("the assessment is cancelled{why}; it takes no further answers, submission or review"),
        )
    })
}

/// Refuses unless `allowed`: a cancelled assessment says why it was cancelled; any other state is named, with
/// `why` and the actions it does allow.
fn require(
    state: AssessmentState<'_>,
    allowed: bool,
    code: ProblemCode,
    why: &str,
) -> Result<(), Refusal> {
    if let Some(refusal) = cancelled(state) {
        return Err(refusal);
    }
    if allowed {
        return Ok(());
    }
    Err(Refusal::conflict(
        code,
        format!("the assessment is {}; {why}", state.status.as_str()),
    )
    .with_allowed(allowed_in(state.status)))
}

/// Answers and evidence change, and the answers are submitted, only while the vendor holds the assessment: open,
/// or returned for revision.
pub fn vendor_may(state: AssessmentState<'_>, work: VendorWork) -> Result<(), Refusal> {
    let why = format!("{} only while it is open or returned", work.describe());
    require(
        state,
        state.status.editable(),
        ProblemCode::AssessmentNotEditable,
        &why,
    )
}

/// Only a submitted assessment is reviewed.
pub fn may_review(state: AssessmentState<'_>) -> Result<(), Refusal> {
    require(
        state,
        state.status == AssessmentStatus::Submitted,
        ProblemCode::AssessmentNotSubmitted,
        "only a submitted assessment is reviewed",
    )
}

/// A new review cycle starts from an accepted assessment.
pub fn may_start_cycle(state: AssessmentState<'_>) -> Result<(), Refusal> {
    require(
        state,
        state.status == AssessmentStatus::Accepted,
        ProblemCode::AssessmentNotAccepted,
        "a new review cycle starts from an accepted assessment",
    )
}

/// A finding moves forward only (see [`FindingStatus::may_become`]).
pub fn may_change_finding(from: FindingStatus, to: FindingStatus) -> Result<(), Refusal> {
    if from.may_become(to) {
        return Ok(());
    }
    Err(Refusal::conflict(
        ProblemCode::TransitionNotAllowed,
        format!(
            "a finding that is {} cannot become {}",
            from.as_str(),
            to.as_str()
        ),
    ))
}

/// An invitation is revoked once; a buyer (`revoker` their department) revokes only those issued for their
/// department's requests, and any other answers as if it did not exist.
pub fn may_revoke(
    revoker: InviterDepartment<'_>,
    request_department: Option<&str>,
    already_revoked: bool,
) -> Result<(), Refusal> {
    if revoker.is_some_and(|own| request_department != Some(own)) {
        return Err(Refusal::NotFound("invitation"));
    }
    if already_revoked {
        return Err(Refusal::conflict(
            ProblemCode::AlreadyRevoked,
            "the invitation is already revoked",
        ));
    }
    Ok(())
}

/// The request an invitation is asked for, as loaded.
#[derive(Debug, Clone)]
pub struct InvitationTarget<'a> {
    /// The vendor the invitation is for (the path's).
    pub vendor: Uuid,
    pub request_vendor: Uuid,
    pub request_department: &'a str,
    pub request_status: RequestStatus,
    /// The request's assessments and their states.
    pub assessments: &'a [(Uuid, AssessmentStatus)],
}

/// Who may invite for which request: a buyer for their own department's requests (`Some(code)`), analysts and
/// admins for any (`None`).
pub type InviterDepartment<'a> = Option<&'a str>;

/// Checks an invitation for `target` and returns the assessments it names (empty: the whole request).
///
/// A request outside the inviter's department answers as if it did not exist; the vendor must be the request's;
/// a withdrawn or denied request takes no invitation; named assessments must be the request's and not cancelled.
pub fn plan_invitation(
    inviter: InviterDepartment<'_>,
    target: &InvitationTarget<'_>,
    named: Option<&[Uuid]>,
) -> Result<Vec<Uuid>, Refusal> {
    if inviter.is_some_and(|own| own != target.request_department) {
        return Err(Refusal::NotFound("request"));
    }
    let mut faults = Vec::new();
    if target.request_vendor != target.vendor {
        faults.push(Fault {
            field: "request_id".into(),
            message: "the request is for another vendor: invite the request's vendor".into(),
        });
    }
    let mut chosen = Vec::new();
    match named {
        None => {}
        Some([]) => faults.push(Fault {
            field: "assessment_ids".into(),
            message: "name at least one assessment, or leave the field out to invite to every assessment of \
                      the request"
                .into(),
        }),
        Some(ids) => {
            for (i, id) in ids.iter().enumerate() {
                match target.assessments.iter().find(|(a, _)| a == id) {
                    None => faults.push(Fault {
                        field: format!("assessment_ids[{i}]"),
                        message: "is not an assessment of this request".into(),
                    }),
                    Some((_, AssessmentStatus::Cancelled)) => faults.push(Fault {
                        field: format!("assessment_ids[{i}]"),
                        message: "is cancelled".into(),
                    }),
                    Some(_) if chosen.contains(id) => {}
                    Some(_) => chosen.push(*id),
                }
            }
        }
    }
    if !faults.is_empty() {
        return Err(Refusal::Invalid(faults));
    }
    if matches!(
        target.request_status,
        RequestStatus::Withdrawn | RequestStatus::Denied
    ) {
        return Err(Refusal::conflict(
            ProblemCode::RequestClosed,
            format!(
                "the request is {}; a closed request takes no new invitation",
                target.request_status.as_str()
            ),
        ));
    }
    Ok(chosen)
}

/// The assessments that closing a request cancels: every one not yet accepted (an accepted one keeps its result,
/// and one already cancelled stays as it is).
pub fn plan_close(assessments: &[(Uuid, AssessmentStatus)]) -> Vec<Uuid> {
    assessments
        .iter()
        .filter(|(_, status)| {
            !matches!(
                status,
                AssessmentStatus::Accepted | AssessmentStatus::Cancelled
            )
        })
        .map(|(id, _)| *id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssessmentStatus::*;

    fn state(status: AssessmentStatus) -> AssessmentState<'static> {
        AssessmentState {
            status,
            cancel_reason: (status == Cancelled).then_some("the request was withdrawn"),
        }
    }

    fn conflict_code(r: Result<(), Refusal>) -> &'static str {
        r.unwrap_err().code().as_str()
    }

    #[test]
    fn the_vendor_works_only_on_an_open_or_returned_assessment() {
        for work in [
            VendorWork::Answer,
            VendorWork::AddEvidence,
            VendorWork::Submit,
        ] {
            assert!(vendor_may(state(Open), work).is_ok());
            assert!(vendor_may(state(Returned), work).is_ok());
            assert_eq!(
                conflict_code(vendor_may(state(Submitted), work)),
                "assessment_not_editable"
            );
            assert_eq!(
                conflict_code(vendor_may(state(Accepted), work)),
                "assessment_not_editable"
            );
            assert_eq!(
                conflict_code(vendor_may(state(Cancelled), work)),
                "assessment_cancelled"
            );
        }
        let refusal = vendor_may(state(Submitted), VendorWork::Answer).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the assessment is submitted; answers change only while it is open or returned"
        );
        assert!(matches!(refusal, Refusal::Conflict { allowed, .. } if allowed == ["review"]));
    }

    #[test]
    fn a_cancelled_assessment_refuses_everything_and_says_why() {
        let refusal = may_review(state(Cancelled)).unwrap_err();
        assert_eq!(refusal.code(), "assessment_cancelled");
        assert!(
            refusal.to_string().contains("the request was withdrawn"),
            "{refusal}"
        );
        assert_eq!(
            conflict_code(may_start_cycle(state(Cancelled))),
            "assessment_cancelled"
        );
        assert!(matches!(refusal, Refusal::Conflict { allowed, .. } if allowed.is_empty()));
    }

    #[test]
    fn a_review_needs_a_submitted_assessment_and_a_new_cycle_an_accepted_one() {
        type Rule = fn(AssessmentState<'static>) -> Result<(), Refusal>;
        let rules: [(Rule, AssessmentStatus, &str); 2] = [
            (may_review, Submitted, "assessment_not_submitted"),
            (may_start_cycle, Accepted, "assessment_not_accepted"),
        ];
        for (rule, wanted, code) in rules {
            for s in [Open, Returned, Submitted, Accepted] {
                if s == wanted {
                    assert!(rule(state(s)).is_ok(), "{s:?}");
                } else {
                    assert_eq!(conflict_code(rule(state(s))), code, "{s:?}");
                }
            }
        }
    }

    #[test]
    fn a_finding_does_not_move_backwards() {
        assert!(may_change_finding(FindingStatus::Open, FindingStatus::Resolved).is_ok());
        let refusal =
            may_change_finding(FindingStatus::Resolved, FindingStatus::RiskAccepted).unwrap_err();
        assert_eq!(refusal.code(), "transition_not_allowed");
        assert_eq!(
            refusal.to_string(),
            "a finding that is resolved cannot become risk_accepted"
        );
    }

    #[test]
    fn an_invitation_is_revoked_once_and_by_a_buyer_only_for_their_department() {
        assert!(may_revoke(None, Some("ISD"), false).is_ok());
        assert!(may_revoke(Some("ISD"), Some("ISD"), false).is_ok());
        assert_eq!(
            conflict_code(may_revoke(None, Some("ISD"), true)),
            "already_revoked"
        );
        assert_eq!(
            may_revoke(Some("BPD"), Some("ISD"), false),
            Err(Refusal::NotFound("invitation"))
        );
        // One made before invitations named a request: for analysts and admins to revoke.
        assert_eq!(
            may_revoke(Some("BPD"), None, false),
            Err(Refusal::NotFound("invitation"))
        );
        assert!(may_revoke(None, None, false).is_ok());
    }

    const VENDOR: Uuid = Uuid::from_u128(1);
    const A1: Uuid = Uuid::from_u128(11);
    const A2: Uuid = Uuid::from_u128(12);
    const A3: Uuid = Uuid::from_u128(13);
    const ASSESSMENTS: &[(Uuid, AssessmentStatus)] =
        &[(A1, Open), (A2, Submitted), (A3, Cancelled)];

    fn target(status: RequestStatus, request_vendor: Uuid) -> InvitationTarget<'static> {
        InvitationTarget {
            vendor: VENDOR,
            request_vendor,
            request_department: "ISD",
            request_status: status,
            assessments: ASSESSMENTS,
        }
    }

    fn fields(refusal: Refusal) -> Vec<String> {
        match refusal {
            Refusal::Invalid(faults) => faults.into_iter().map(|f| f.field).collect(),
            other => panic!("not a validation refusal: {other:?}"),
        }
    }

    #[test]
    fn a_buyer_invites_only_for_their_own_departments_requests() {
        let t = target(RequestStatus::InReview, VENDOR);
        assert_eq!(plan_invitation(Some("ISD"), &t, None), Ok(Vec::new()));
        assert_eq!(
            plan_invitation(Some("BPD"), &t, None),
            Err(Refusal::NotFound("request"))
        );
        // Analysts and admins invite for any department's request.
        assert_eq!(plan_invitation(None, &t, None), Ok(Vec::new()));
    }

    #[test]
    fn the_request_must_be_the_vendors() {
        let t = target(RequestStatus::InReview, Uuid::from_u128(99));
        let refusal = plan_invitation(None, &t, None).unwrap_err();
        assert_eq!(fields(refusal), vec!["request_id"]);
    }

    #[test]
    fn named_assessments_must_be_the_requests_and_still_open_to_work() {
        let t = target(RequestStatus::InReview, VENDOR);
        assert_eq!(
            plan_invitation(None, &t, Some(&[A2, A1, A2])),
            Ok(vec![A2, A1])
        );
        let stranger = Uuid::from_u128(50);
        let refusal = plan_invitation(None, &t, Some(&[A1, stranger, A3])).unwrap_err();
        assert_eq!(
            fields(refusal),
            vec!["assessment_ids[1]", "assessment_ids[2]"]
        );
        let refusal = plan_invitation(None, &t, Some(&[])).unwrap_err();
        assert_eq!(fields(refusal), vec!["assessment_ids"]);
    }

    #[test]
    fn a_withdrawn_or_denied_request_takes_no_invitation() {
        for status in [RequestStatus::Withdrawn, RequestStatus::Denied] {
            let refusal = plan_invitation(None, &target(status, VENDOR), None).unwrap_err();
            assert_eq!(refusal.code(), "request_closed");
        }
        for status in [
            RequestStatus::Draft,
            RequestStatus::InReview,
            RequestStatus::Approved,
        ] {
            assert!(plan_invitation(None, &target(status, VENDOR), None).is_ok());
        }
    }

    #[test]
    fn closing_cancels_what_is_not_yet_accepted() {
        let all = [
            (Uuid::from_u128(1), Open),
            (Uuid::from_u128(2), Submitted),
            (Uuid::from_u128(3), Returned),
            (Uuid::from_u128(4), Accepted),
            (Uuid::from_u128(5), Cancelled),
        ];
        assert_eq!(
            plan_close(&all),
            vec![Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3)]
        );
        assert!(plan_close(&[]).is_empty());
    }
}
