//! The stable machine-readable codes of the problems the API answers with.

use poem_openapi::Enum;
use serde::Serialize;
use strum::{IntoStaticStr, VariantArray};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum ProblemCode {
    // BEGIN VARIANTS
    AlreadyConfirmed,
    AlreadyDecided,
    AlreadyDismissed,
    AlreadyReviewed,
    AlreadyRevoked,
    AppealTooLate,
    AppealUsed,
    AssessmentCancelled,
    AssessmentNotAccepted,
    AssessmentNotEditable,
    AssessmentNotSubmitted,
    BadBody,
    BadParameter,
    BadRequest,
    BodyTimeout,
    BodyTooLarge,
    BudgetExists,
    BudgetNotDraft,
    BudgetNotSubmitted,
    BudgetUnderReview,
    ChangedDuringEdit,
    ChangedDuringSubmission,
    ConcurrentPublish,
    ConfirmationNotRequired,
    ContentTypeMismatch,
    ContractCancelled,
    ContractDecommissioned,
    ContractNotStarted,
    ContractStarted,
    CouncilDocumentsMissing,
    CouncilStepSettled,
    DeliveryNotDead,
    DuplicateContract,
    DuplicateDepartment,
    DuplicateProfile,
    DuplicateService,
    DuplicateVendor,
    EncryptedWorkbook,
    EvidenceOnHold,
    EvidencePreserved,
    ExceptionExists,
    FileTooLarge,
    Forbidden,
    FormatMismatch,
    FormatNotFound,
    ImportTooSlow,
    ImportsBusy,
    IncidentClosed,
    IncidentState,
    InternalError,
    LineApproved,
    LineInUse,
    MethodNotAllowed,
    NoCouncilStep,
    NoDecidedVersion,
    NoDuplicateReview,
    NoOpenException,
    NoRoute,
    NoSafeguardsStep,
    NotFound,
    NotInReview,
    NotReady,
    NotRouted,
    NoticesOutstanding,
    OidcState,
    OrderClosed,
    OrderState,
    OrderStatusBeforeAppealUnknown,
    PreconditionRequired,
    ProductExists,
    ReportExists,
    RequestClosed,
    RequestFailed,
    ReviewRequired,
    SeparationOfDuties,
    StaleEtag,
    StepNotInRoute,
    TemplateNotLoaded,
    TooLargeUncompressed,
    TooManyCells,
    TooManyEntries,
    TransitionNotAllowed,
    Unauthorized,
    UnsupportedFile,
    UnsupportedFormatVersion,
    UnsupportedMediaType,
    ValidationFailed,
    XmlEntities,
    // END VARIANTS
}

impl ProblemCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl PartialEq<&str> for ProblemCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ProblemCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
