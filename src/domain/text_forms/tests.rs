//! Every state and kind enum's text form against the forms serde and poem-openapi give the same value, and
//! against its parse: one rule (`snake_case`, or a variant's own `serialize`) makes all of them, and these
//! checks keep it so. The helpers are shared with the enums of the planners and the API, tested where they live.

use std::fmt::Debug;
use std::str::FromStr;

use poem_openapi::types::{ParseFromJSON, ToJSON};
use serde::Serialize;
use serde_json::Value;
use strum::VariantArray;

use crate::domain::assessments::{AssessmentReviewVerdict, AssessmentStatus, FindingStatus};
use crate::domain::audit::VerifyScope;
use crate::domain::budgets::{BudgetReviewVerdict, BudgetStatus, Centralization};
use crate::domain::catalog::ServiceStatus;
use crate::domain::contracts::{ContractStatus, DataDisposition};
use crate::domain::council::{CouncilDocumentKind, CouncilOutcome};
use crate::domain::duplicate_learning::AliasProposalStatus;
use crate::domain::duplicates::{CandidateKind, ExceptionStatus, MatchClass};
use crate::domain::incidents::{EvidenceKind, IncidentStatus, NoticeRecipient};
use crate::domain::mail::Event;
use crate::domain::orders::{AppealOutcome, OrderStatus};
use crate::domain::policy::{DataClass, Hosting, NumericFact, StepKindTag};
use crate::domain::questionnaires::{AnswerKind, Severity, Weight};
use crate::domain::requests::{Status, VersionKind};
use crate::domain::reuse::Standing;
use crate::domain::roles::Role;
use crate::domain::route::{DenialReason, Outcome, StepState};
use crate::domain::safeguards::{AppliesTo, Level, SafeguardState};
use crate::domain::webhooks::{DeliveryChannel, DeliveryStatus};

/// Each value of `T` with its text form; no two values share a form.
pub(crate) fn forms<T>() -> Vec<(T, &'static str)>
where
    T: VariantArray + Copy + Into<&'static str>,
{
    let forms: Vec<(T, &'static str)> = T::VARIANTS.iter().map(|v| (*v, (*v).into())).collect();
    let mut seen: Vec<&str> = forms.iter().map(|(_, form)| *form).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), forms.len(), "{}", std::any::type_name::<T>());
    forms
}

/// serde writes each value as its text form.
pub(crate) fn serde_agrees<T>()
where
    T: VariantArray + Copy + Into<&'static str> + Serialize + Debug,
{
    for (value, form) in forms::<T>() {
        assert_eq!(
            serde_json::to_value(value).unwrap(),
            Value::String(form.to_string()),
            "{value:?}"
        );
    }
}

/// poem-openapi sends each value as its text form and reads the form back as the value.
pub(crate) fn openapi_agrees<T>()
where
    T: VariantArray + Copy + Into<&'static str> + ToJSON + ParseFromJSON + Debug + PartialEq,
{
    for (value, form) in forms::<T>() {
        let json = Value::String(form.to_string());
        assert_eq!(value.to_json(), Some(json.clone()), "{value:?}");
        assert_eq!(T::parse_from_json(Some(json)).ok(), Some(value), "{form}");
    }
}

/// The text form parses back as the value.
pub(crate) fn parses_back<T>()
where
    T: VariantArray + Copy + Into<&'static str> + FromStr + Debug + PartialEq,
{
    for (value, form) in forms::<T>() {
        assert_eq!(T::from_str(form).ok(), Some(value), "{form}");
    }
}

/// For an enum with no serde or OpenAPI form to agree with: its text forms are `expected`, as stored and sent.
pub(crate) fn pinned<T>(expected: &[&str])
where
    T: VariantArray + Copy + Into<&'static str>,
{
    let written: Vec<&str> = forms::<T>().into_iter().map(|(_, form)| form).collect();
    assert_eq!(written, expected, "{}", std::any::type_name::<T>());
}

macro_rules! each {
    ($check:ident: $($ty:ty),+ $(,)?) => {
        $($check::<$ty>();)+
    };
}

#[test]
fn every_text_form_is_the_serde_form() {
    each!(
        serde_agrees: Status, StepState, Outcome, DenialReason, AssessmentStatus, FindingStatus,
        ServiceStatus, CouncilOutcome, Role, IncidentStatus, NoticeRecipient, EvidenceKind,
        OrderStatus, AppealOutcome, Centralization, BudgetStatus, VerifyScope, ContractStatus,
        DataClass, Hosting, StepKindTag, NumericFact, AppliesTo, Level, AnswerKind, Weight,
        Standing, CandidateKind, MatchClass, AssessmentReviewVerdict, BudgetReviewVerdict, DeliveryStatus, DeliveryChannel,
        VersionKind, ExceptionStatus, SafeguardState, AliasProposalStatus, Severity,
        DataDisposition, CouncilDocumentKind,
    );
}

#[test]
fn every_published_text_form_is_the_openapi_form() {
    each!(
        openapi_agrees: Status, StepState, Outcome, DenialReason, AssessmentStatus,
        FindingStatus, ServiceStatus, CouncilOutcome, Role, IncidentStatus, NoticeRecipient,
        EvidenceKind, OrderStatus, AppealOutcome, Centralization, BudgetStatus, VerifyScope,
        ContractStatus, AssessmentReviewVerdict, BudgetReviewVerdict, DeliveryStatus, DeliveryChannel,
        VersionKind, ExceptionStatus, SafeguardState, AliasProposalStatus, Hosting, CandidateKind,
        MatchClass, Severity, DataDisposition, CouncilDocumentKind,
    );
}

#[test]
fn every_parsed_text_form_reads_back_as_its_value() {
    each!(
        parses_back: Status, StepState, Outcome, DenialReason, AssessmentStatus, FindingStatus,
        ServiceStatus, CouncilOutcome, Role, IncidentStatus, NoticeRecipient, EvidenceKind,
        OrderStatus, Centralization, BudgetStatus, DataClass, Hosting, StepKindTag, AppliesTo,
        Level, AnswerKind, Weight, AppealOutcome, AssessmentReviewVerdict, BudgetReviewVerdict, DeliveryStatus, DeliveryChannel,
        VersionKind, ExceptionStatus, SafeguardState, AliasProposalStatus, CandidateKind, MatchClass,
        VerifyScope, Severity, DataDisposition, CouncilDocumentKind,
    );
}

#[test]
fn forms_are_read_as_written_but_a_catalogue_status_in_any_case() {
    assert!(Status::from_str("In_Review").is_err());
    assert!(Role::from_str("Admin").is_err());
    assert_eq!(
        ServiceStatus::from_str("Retiring"),
        Ok(ServiceStatus::Retiring)
    );
}

#[test]
fn display_writes_the_text_form() {
    for (value, form) in forms::<AnswerKind>() {
        assert_eq!(value.to_string(), form);
    }
    for (value, form) in forms::<AppliesTo>() {
        assert_eq!(value.to_string(), form);
    }
}

/// A notification's kind is stored.
#[test]
fn notification_kinds_are_as_stored() {
    pinned::<Event>(&[
        "invitation_sent",
        "request_submitted",
        "request_approved",
        "request_denied",
        "request_changes_requested",
        "request_reopened",
        "assessment_submitted",
        "assessment_returned",
        "assessment_accepted",
        "finding_raised",
        "risk_accepted",
        "duplicate_exception_requested",
        "duplicate_exception_decided",
        "duplicate_flagged",
    ]);
}
