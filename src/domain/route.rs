//! Route steps and decisions: the state of each step, who decides which step, what a decision may say, and the
//! request status that follows from the steps. The planners that use them are in `crate::workflow::requests`.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

use crate::domain::invalid::{FieldError as Fault, Refusal};
use crate::domain::policy::{Ground, Route, RouteStep, StepKindTag};
use crate::domain::requests::Status;
use crate::domain::roles::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum StepState {
    Pending,
    Satisfied,
    Waived,
    /// Denied, or refused by a prohibition or a Council vote.
    Blocked,
    /// No longer awaited: the request was withdrawn, denied on another step, or sent back for changes. The note
    /// says which.
    Closed,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn is_done(self) -> bool {
        matches!(self, StepState::Satisfied | StepState::Waived)
    }
}

/// The role that decides a step, for steps that are decisions.
pub fn decider(kind: StepKindTag) -> Option<Role> {
    match kind {
        StepKindTag::CioApproval | StepKindTag::CioDuplicateReview => Some(Role::Cio),
        StepKindTag::FinanceApproval => Some(Role::Finance),
        _ => None,
    }
}

/// What a pending step is waiting for, in words a buyer can read.
pub fn pending_note(step: &RouteStep) -> String {
    match step.kind {
        StepKindTag::CioDuplicateReview => {
            "awaiting the CIO's review of the likely duplicate".into()
        }
        StepKindTag::CioApproval => "awaiting the CIO's decision".into(),
        StepKindTag::FinanceApproval => "awaiting Finance's decision".into(),
        StepKindTag::SecurityReview => format!(
            "awaiting the vendor's answers to {} and the security analyst's acceptance",
            step.questionnaires.join(", ")
        ),
        StepKindTag::ContractSafeguards => format!(
            "awaiting the contract clauses {}, each recorded present or waived",
            step.clauses.join(", ")
        ),
        StepKindTag::Evidence => format!("awaiting evidence: {}", step.items.join(", ")),
        StepKindTag::CouncilApproval => format!(
            "awaiting the City Council's vote, recorded with {} attached",
            step.attachments.join(" and ")
        ),
    }
}

/// The status a routed request takes from the state of its steps.
pub fn status_from_steps(
    route: &Route,
    states: &[(StepKindTag, StepState)],
    with_conditions: bool,
) -> Status {
    if route.is_prohibited() || states.iter().any(|(_, s)| *s == StepState::Blocked) {
        return Status::Denied;
    }
    let pending: Vec<StepKindTag> = states
        .iter()
        .filter(|(_, s)| !s.is_done())
        .map(|(k, _)| *k)
        .collect();
    if pending.is_empty() {
        if with_conditions {
            Status::ApprovedWithConditions
        } else {
            Status::Approved
        }
    } else if pending.iter().all(|k| decider(*k).is_some()) {
        Status::AwaitingDecision
    } else {
        Status::InReview
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    Approve,
    ApproveWithConditions,
    Deny,
    RequestChanges,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum DenialReason {
    SecurityRisk,
    Cost,
    ContractTerms,
    ProhibitedTechnology,
    DuplicateOfCentralService,
    /// The City Council voted against the surveillance technology [Boston 16-63]; recorded by the service.
    CouncilRejected,
    Other,
}

/// A decision as a CIO or Finance sends it.
#[derive(Debug, Clone, Object, Deserialize)]
pub struct DecisionInput {
    /// The step decided: `cio_approval`, `cio_duplicate_review` (CIO) or `finance_approval` (Finance).
    pub step: String,
    pub outcome: Outcome,
    /// For `approve_with_conditions`: each condition the purchase must meet.
    #[oai(default)]
    #[serde(default)]
    pub conditions: Vec<String>,
    /// For `deny`.
    pub reason_code: Option<DenialReason>,
    /// Why; required to deny or to request changes.
    pub rationale: Option<String>,
    /// For a denial as `duplicate_of_central_service`: the catalogue service the buyer should use instead.
    pub service_id: Option<Uuid>,
    /// `true` to deny as a duplicate of a service that was not among the request's duplicate candidates at
    /// submission (without it such a denial is refused, naming this field).
    #[oai(default)]
    #[serde(default)]
    pub confirm_not_candidate: bool,
}

/// The central service a buyer is told to use instead of a purchase denied as a duplicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
pub struct UseInstead {
    pub service_id: Uuid,
    pub name: String,
    pub owning_team: String,
    /// How a department gets access: a contact or a link.
    pub access: String,
}

/// The `step` of the decision the policy itself records when it prohibits a purchase (no person decided it).
pub const POLICY_STEP: &str = "policy";

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
pub struct Decision {
    pub id: Uuid,
    pub request_id: Uuid,
    /// The submitted version decided.
    pub submission: i64,
    /// The route step decided, or `policy` for the denial the policy itself gives a prohibited purchase.
    pub step: String,
    pub outcome: Outcome,
    pub conditions: Vec<String>,
    pub reason_code: Option<DenialReason>,
    pub rationale: Option<String>,
    pub decided_by: String,
    pub role: String,
    pub decided_at: DateTime<Utc>,
    /// For a duplicate denial: what to use instead.
    pub use_instead: Option<UseInstead>,
}

/// A checked decision.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedDecision {
    pub step: StepKindTag,
    pub outcome: Outcome,
    pub conditions: Vec<String>,
    pub reason_code: Option<DenialReason>,
    pub rationale: Option<String>,
    pub service_id: Option<Uuid>,
    /// The CIO confirmed a duplicate denial naming a service that was not a candidate.
    pub confirm_not_candidate: bool,
}

/// What the store found about the service a decision names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedService {
    /// A catalogue service has the id.
    pub known: bool,
    /// The duplicate check recorded it as a candidate of the submitted version decided.
    pub candidate: bool,
}

impl NamedService {
    /// A known service that was a candidate (or no service named).
    pub const CANDIDATE: NamedService = NamedService {
        known: true,
        candidate: true,
    };
}

impl CheckedDecision {
    pub fn parse(input: DecisionInput) -> Result<CheckedDecision, Refusal> {
        let mut errors = Vec::new();
        let kind = StepKindTag::try_from(input.step.trim()).ok();
        let step = kind.filter(|k| decider(*k).is_some());
        match kind {
            Some(StepKindTag::CouncilApproval) => errors.push(Fault::new(
                "step",
                "council_approval is settled by the City Council's vote: an admin records it with \
                 POST /api/v1/requests/{id}/council/vote",
            )),
            _ if step.is_none() => errors.push(Fault::new(
                "step",
                format!(
                    "{:?} is not a decision step: one of cio_approval, cio_duplicate_review, finance_approval",
                    input.step
                ),
            )),
            _ => {}
        }
        if input.reason_code == Some(DenialReason::CouncilRejected) {
            errors.push(Fault::new(
                "reason_code",
                "council_rejected is recorded by the service from the Council's vote, not by a decider",
            ));
        }
        let rationale = input
            .rationale
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if rationale.as_ref().is_some_and(|r| r.chars().count() > 5000) {
            errors.push(Fault::new("rationale", "must be at most 5000 characters"));
        }
        let conditions: Vec<String> = input
            .conditions
            .into_iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        match input.outcome {
            Outcome::ApproveWithConditions if conditions.is_empty() => {
                errors.push(Fault::new("conditions", "list at least one condition"));
            }
            Outcome::Approve | Outcome::Deny | Outcome::RequestChanges
                if !conditions.is_empty() =>
            {
                errors.push(Fault::new(
                    "conditions",
                    "only approve_with_conditions takes conditions",
                ));
            }
            _ => {}
        }
        if input.outcome == Outcome::Deny && input.reason_code.is_none() {
            errors.push(Fault::new("reason_code", "a denial needs a reason code"));
        }
        if input.outcome != Outcome::Deny && input.reason_code.is_some() {
            errors.push(Fault::new(
                "reason_code",
                "only a denial takes a reason code",
            ));
        }
        if matches!(input.outcome, Outcome::Deny | Outcome::RequestChanges) && rationale.is_none() {
            errors.push(Fault::new("rationale", "say why: the buyer reads it"));
        }
        let duplicate_denial = input.reason_code == Some(DenialReason::DuplicateOfCentralService);
        if duplicate_denial && input.service_id.is_none() {
            errors.push(Fault::new(
                "service_id",
                "name the catalogue service the buyer should use instead",
            ));
        }
        if !duplicate_denial && input.service_id.is_some() {
            errors.push(Fault::new(
                "service_id",
                "only a denial as duplicate_of_central_service names a service",
            ));
        }
        if !duplicate_denial && input.confirm_not_candidate {
            errors.push(Fault::new(
                "confirm_not_candidate",
                "only a denial as duplicate_of_central_service is confirmed",
            ));
        }
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        Ok(CheckedDecision {
            step: step.expect("checked"),
            outcome: input.outcome,
            conditions,
            reason_code: input.reason_code,
            rationale,
            service_id: input.service_id,
            confirm_not_candidate: input.confirm_not_candidate,
        })
    }
}

/// Grounds rendered for a denial the system records itself (a prohibition).
pub fn prohibition_rationale(route: &Route) -> String {
    route
        .prohibitions
        .iter()
        .flat_map(|p| p.grounds.iter().map(Ground::to_string))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(kinds: &[StepKindTag]) -> Route {
        Route {
            policy_label: "t".into(),
            total_contract_value_cents: 0,
            fy_vendor_total_cents: 0,
            fiscal_year: 2027,
            fast_path: false,
            prohibitions: vec![],
            steps: kinds
                .iter()
                .map(|k| RouteStep {
                    kind: *k,
                    questionnaires: vec![],
                    clauses: vec![],
                    attachments: vec![],
                    items: vec![],
                    grounds: vec![],
                })
                .collect(),
            renewal: None,
            comparison: None,
            budget: None,
            notices: vec![],
            dismissed_earlier: vec![],
            product: None,
        }
    }

    #[test]
    fn status_follows_the_steps() {
        use StepKindTag::*;
        let r = route(&[CioApproval, SecurityReview]);
        let states = [
            (CioApproval, StepState::Pending),
            (SecurityReview, StepState::Pending),
        ];
        assert_eq!(status_from_steps(&r, &states, false), Status::InReview);
        let states = [
            (CioApproval, StepState::Pending),
            (SecurityReview, StepState::Satisfied),
        ];
        assert_eq!(
            status_from_steps(&r, &states, false),
            Status::AwaitingDecision
        );
        let states = [
            (CioApproval, StepState::Satisfied),
            (SecurityReview, StepState::Waived),
        ];
        assert_eq!(
            status_from_steps(&r, &states, true),
            Status::ApprovedWithConditions
        );
        assert_eq!(status_from_steps(&route(&[]), &[], false), Status::Approved);
        let states = [(CioApproval, StepState::Blocked)];
        assert_eq!(status_from_steps(&r, &states, false), Status::Denied);
    }

    fn faults(result: Result<CheckedDecision, Refusal>) -> Vec<String> {
        match result {
            Err(Refusal::Invalid(faults)) => faults.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation refusal, got {other:?}"),
        }
    }

    fn input(outcome: Outcome) -> DecisionInput {
        DecisionInput {
            step: "cio_approval".into(),
            outcome,
            conditions: vec![],
            reason_code: None,
            rationale: None,
            service_id: None,
            confirm_not_candidate: false,
        }
    }

    #[test]
    fn a_denial_needs_a_reason_code_and_a_rationale() {
        let fields = faults(CheckedDecision::parse(input(Outcome::Deny)));
        assert_eq!(fields, ["reason_code", "rationale"]);
        let mut ok = input(Outcome::Deny);
        ok.reason_code = Some(DenialReason::Cost);
        ok.rationale = Some("over budget".into());
        assert!(CheckedDecision::parse(ok.clone()).is_ok());
        ok.reason_code = Some(DenialReason::DuplicateOfCentralService);
        assert_eq!(faults(CheckedDecision::parse(ok.clone())), ["service_id"]);
        ok.service_id = Some(Uuid::nil());
        assert!(CheckedDecision::parse(ok).is_ok());
    }

    #[test]
    fn conditions_belong_to_conditional_approvals_only() {
        assert_eq!(
            faults(CheckedDecision::parse(input(
                Outcome::ApproveWithConditions
            ))),
            ["conditions"]
        );
        let mut plain = input(Outcome::Approve);
        plain.conditions = vec!["SSO".into()];
        assert_eq!(faults(CheckedDecision::parse(plain)), ["conditions"]);
    }

    #[test]
    fn only_decision_steps_can_be_decided() {
        let mut i = input(Outcome::Approve);
        i.step = "security_review".into();
        assert_eq!(faults(CheckedDecision::parse(i.clone())), ["step"]);
        i.step = "council_approval".into();
        let Err(Refusal::Invalid(found)) = CheckedDecision::parse(i) else {
            panic!("council_approval is not decided here")
        };
        assert!(found[0].message.contains("council/vote"), "{found:?}");
        assert_eq!(decider(StepKindTag::FinanceApproval), Some(Role::Finance));
        assert_eq!(decider(StepKindTag::CioDuplicateReview), Some(Role::Cio));
    }
}
