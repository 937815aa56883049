//! Rows as the store returns them, and the filters and scopes it takes.

mod budgets;
mod incidents;
mod paging;
mod sessions;

pub use budgets::*;
pub use incidents::*;
pub use paging::*;
pub use sessions::*;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::policy::{Policy, Route, RouteStep};
use crate::domain::requests::{RequestFields, Status};
use crate::error::ApiError;

/// Which objects a caller may see. Out-of-scope objects answer 404, exactly like missing ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// A buyer: their own department's objects.
    Department(String),
}

impl Scope {
    pub fn admits_department(&self, code: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Department(own) => own == code,
        }
    }
}

/// A request's row without its route's document: what reads, lists and the register show.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestSummary {
    pub id: Uuid,
    pub department_code: String,
    pub vendor_id: Uuid,
    pub status: Status,
    pub title: String,
    pub fields: Json<RequestFields>,
    pub total_contract_value_cents: i64,
    pub fiscal_year: i32,
    pub submission: i32,
    pub policy_version: Option<i32>,
    pub created_by: String,
    pub submitted_by: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The submitted version whose decision stands (an approved one), if any.
    pub decided_submission: Option<i32>,
}

/// The columns of [`RequestSummary`], of a table aliased `r`.
pub const REQUEST_SUMMARY_COLUMNS: &str = "r.id, r.department_code, r.vendor_id, r.status, r.title, r.fields, \
     r.total_contract_value_cents, r.fiscal_year, r.submission, r.policy_version, r.created_by, r.submitted_by, \
     r.version, r.created_at, r.updated_at, r.decided_submission";

/// A row of the requests register: what its columns show, the vendor's name joined in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRegisterRow {
    pub title: String,
    pub department_code: String,
    /// None only if the vendor row is gone (the register shows an empty cell, never fails for it).
    pub vendor_name: Option<String>,
    pub fields: Json<RequestFields>,
    pub status: Status,
    pub submission: i32,
    pub total_contract_value_cents: i64,
    pub fiscal_year: i32,
    pub submitted_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Receives each row of a streamed read, in order; an error ends the read with it.
pub type EachRow<'a, R> = dyn FnMut(R) -> Result<(), ApiError> + Send + 'a;

/// A page of requests, each with what deciding a caller's actions reads of it, and the next page's keyset.
pub type StandingPage = (
    crate::store::Paged<(RequestSummary, crate::workflow::requests::Standing)>,
    Option<Keyset>,
);

/// A request's whole row: the summary and the route of its current submission, which the planners read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRecord {
    #[sqlx(flatten)]
    pub summary: RequestSummary,
    pub route: Option<Json<Route>>,
}

impl std::ops::Deref for RequestRecord {
    type Target = RequestSummary;

    fn deref(&self) -> &RequestSummary {
        &self.summary
    }
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub status: Option<Status>,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    /// Only requests with a pending step of one of these kinds (the caller's decision queue).
    pub awaiting_kinds: Option<Vec<String>>,
    /// With `awaiting_kinds`: leave out requests this subject (a subject key) wrote a version of.
    pub awaiting_subject_key: Option<String>,
    pub q: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepRecord {
    pub kind: crate::domain::policy::StepKindTag,
    pub position: i32,
    pub state: crate::domain::route::StepState,
    pub detail: Json<RouteStep>,
    pub note: String,
    pub updated_at: DateTime<Utc>,
    /// The conditions of an approval with conditions.
    pub conditions: Json<Vec<String>>,
    /// The submitted version whose decision or evidence settled the step.
    pub settled_in: Option<i32>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRecord {
    pub submission: i32,
    pub fields: Json<RequestFields>,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub kind: crate::domain::requests::VersionKind,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRecord {
    pub version: i32,
    pub label: String,
    pub document: Json<Policy>,
    pub content_hash: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct CatalogFilter {
    pub status: Option<crate::domain::catalog::ServiceStatus>,
    pub category: Option<String>,
    /// Matches name, description, aliases or capabilities.
    pub q: Option<String>,
}

/// A request as the duplicate index sees it: what was bought, from whom, by which department.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PurchaseRecord {
    pub id: Uuid,
    pub department_code: String,
    pub status: Status,
    pub fields: Json<RequestFields>,
    pub vendor_name: String,
    pub updated_at: DateTime<Utc>,
}

/// What the duplicate check found for a request, and the request version it looked at.
#[derive(Debug, Clone)]
pub struct Detection {
    pub for_version: i64,
    pub candidates: Vec<crate::domain::duplicates::Candidate>,
    /// The CIO office's earlier dismissals that carry over to this request (same department and product).
    pub carried: Vec<crate::domain::duplicate_learning::PriorDismissal>,
}

/// A candidate recorded at submission.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DuplicateRecord {
    pub submission: i32,
    pub candidate_kind: crate::domain::duplicates::CandidateKind,
    pub candidate_id: String,
    pub name: String,
    pub score: f64,
    pub class: crate::domain::duplicates::MatchClass,
    pub evidence: Json<serde_json::Value>,
    /// The earlier dismissal (same department and product) that set this candidate aside at submission.
    pub carried_from: Option<Json<crate::domain::duplicate_learning::PriorDismissal>>,
}

/// A CIO dismissal of a match for a request.
pub type DismissalRecord = crate::domain::duplicate_learning::PriorDismissal;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExceptionRecord {
    pub id: Uuid,
    pub submission: i32,
    pub justification: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub status: crate::domain::duplicates::ExceptionStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct InvitationRecord {
    pub id: Uuid,
    pub vendor_id: Uuid,
    /// The request it reaches; `None` only for invitations made before invitations were scoped (refused now).
    pub request_id: Option<Uuid>,
    /// The assessments of the request it names; empty for all of them.
    #[sqlx(skip)]
    pub assessment_ids: Vec<Uuid>,
    pub contact_email: String,
    pub contact_name: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    /// Why the service revoked it (the request was closed); absent when a person revoked it.
    pub revoke_reason: Option<String>,
}

impl InvitationRecord {
    /// Neither revoked nor expired at `at`: its token still opens what it names.
    pub fn is_active_at(&self, at: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > at
    }
}

/// An invitation to make, checked for form by the caller; the store checks it against the request.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub vendor_id: Uuid,
    pub request_id: Uuid,
    /// Assessments of the request to name; `None` for all of them.
    pub assessment_ids: Option<Vec<Uuid>>,
    /// The inviter's department when a buyer invites (only their department's requests); `None` for any.
    pub inviter_department: Option<String>,
    pub contact_email: String,
    pub contact_name: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Which assessments and findings a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorScope {
    All,
    /// A buyer: the assessments of their department's requests.
    Department(String),
    /// A vendor token from the identity provider or the CLI: every one of the vendor's.
    Vendor(Uuid),
    /// A vendor invitation token: the assessments it was issued for.
    Invitation(crate::domain::invitations::InvitationGrant),
}

/// What closing a request did to the work hanging off it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClosedWork {
    /// Assessments cancelled (those not yet accepted).
    pub cancelled_assessments: Vec<Uuid>,
    /// Invitations revoked (those issued for the request and still active).
    pub revoked_invitations: Vec<Uuid>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AssessmentRecord {
    pub id: Uuid,
    pub request_id: Uuid,
    pub vendor_id: Uuid,
    pub template_id: String,
    pub template_version: String,
    pub status: crate::domain::assessments::AssessmentStatus,
    pub due_date: chrono::NaiveDate,
    pub submission: i32,
    pub score: Option<Json<crate::domain::assessments::ScoreView>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The review cycle: 1 for the first, one more for each re-assessment.
    pub cycle: i32,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    /// The product it belongs to, when its request named one.
    #[sqlx(default)]
    pub product_id: Option<Uuid>,
    /// What it was asked for (data classes, hosting, users): what its acceptance covers.
    #[sqlx(default)]
    pub scope: Option<Json<crate::domain::reuse::Scope>>,
    /// The assessment of the product this one continues as its next cycle.
    #[sqlx(default)]
    pub previous_assessment_id: Option<Uuid>,
}

impl AssessmentRecord {
    pub fn status(&self) -> crate::domain::assessments::AssessmentStatus {
        self.status
    }

    /// The assessment as the workflow's rules see it.
    pub fn state(&self) -> crate::workflow::assessments::AssessmentState<'_> {
        crate::workflow::assessments::AssessmentState {
            status: self.status(),
            cancel_reason: self.cancel_reason.as_deref(),
        }
    }
}

/// A saved import profile: a hand mapping under a name.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ImportProfileRecord {
    pub id: Uuid,
    pub name: String,
    #[serde(skip)]
    pub name_key: String,
    #[sqlx(json)]
    pub mapping: crate::domain::crosswalk::Mapping,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AnswerRecord {
    pub question_id: String,
    pub value: Json<serde_json::Value>,
    pub comment: Option<String>,
    /// Where the vendor points for support, e.g. `SOC 2 report, section 4`.
    pub evidence_ref: Option<String>,
    /// `vendor`, or where a derived answer came from (`caiq-v4:IAM-14.1`).
    pub source: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One answer to store, or to clear when `value` is `None` (a cleared answer keeps no comment or reference).
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerEntry {
    pub question_id: String,
    pub value: Option<serde_json::Value>,
    pub comment: Option<String>,
    pub evidence_ref: Option<String>,
    /// `vendor`, `workbook`, or the sources a derived answer came from.
    pub source: String,
}

impl AnswerEntry {
    /// Clears the answer to `question_id`.
    pub fn cleared(question_id: impl Into<String>, source: impl Into<String>) -> AnswerEntry {
        AnswerEntry {
            question_id: question_id.into(),
            value: None,
            comment: None,
            evidence_ref: None,
            source: source.into(),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct EvidenceRecord {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub question_id: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ReviewRecord {
    pub id: Uuid,
    pub submission: i32,
    pub outcome: crate::domain::assessments::AssessmentReviewVerdict,
    pub comments: Json<Vec<crate::store::ReviewComment>>,
    pub reviewer: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, poem_openapi::Object)]
pub struct ReviewComment {
    pub question_id: String,
    pub comment: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct FindingRecord {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub request_id: Uuid,
    pub vendor_id: Uuid,
    pub question_id: String,
    pub severity: crate::domain::questionnaires::Severity,
    pub title: String,
    pub reason: String,
    pub citation: Option<String>,
    pub status: crate::domain::assessments::FindingStatus,
    pub remediation_plan: Option<String>,
    pub remediation_due: Option<chrono::NaiveDate>,
    pub resolution_note: Option<String>,
    pub risk_rationale: Option<String>,
    pub risk_expires_on: Option<chrono::NaiveDate>,
    pub decided_by: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub request_id: Option<Uuid>,
    pub assessment_id: Option<Uuid>,
    pub status: Option<String>,
    pub severity: Option<String>,
}

/// A finding to raise when an assessment is accepted.
#[derive(Debug, Clone)]
pub struct NewFinding {
    pub question_id: String,
    pub severity: crate::domain::questionnaires::Severity,
    pub title: String,
    pub reason: String,
    pub citation: Option<String>,
}

/// A clause of a request's checklist that someone has dealt with.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SafeguardRecord {
    pub clause_id: String,
    pub status: crate::domain::safeguards::SafeguardState,
    pub document: Option<String>,
    pub section: Option<String>,
    pub attested_by: Option<String>,
    pub attested_at: Option<DateTime<Utc>>,
    pub justification: Option<String>,
    pub waived_by: Option<String>,
    pub waived_at: Option<DateTime<Utc>>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl SafeguardRecord {
    pub fn clause_status(&self) -> crate::domain::safeguards::ClauseStatus {
        use crate::domain::safeguards::{ClauseStatus, SafeguardState};
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match self.status {
            SafeguardState::Present => ClauseStatus::Present {
                document: text(&self.document),
                section: text(&self.section),
                attested_by: text(&self.attested_by),
                attested_at: self.attested_at.unwrap_or(self.updated_at),
            },
            SafeguardState::Waived => ClauseStatus::Waived {
                justification: text(&self.justification),
                waived_by: text(&self.waived_by),
                waived_at: self.waived_at.unwrap_or(self.updated_at),
            },
            SafeguardState::Missing => ClauseStatus::Missing,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ContractRecord {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub contract_number: String,
    pub title: String,
    pub start_date: chrono::NaiveDate,
    pub end_date: chrono::NaiveDate,
    pub value_cents: i64,
    pub renewal_notice_days: i32,
    pub notice_starts_on: chrono::NaiveDate,
    pub safeguard_clauses: Json<Vec<String>>,
    pub decommissioned_on: Option<chrono::NaiveDate>,
    pub data_disposition: Option<crate::domain::contracts::DataDisposition>,
    pub certificate_reference: Option<String>,
    pub certified_by: Option<String>,
    pub decommission_note: Option<String>,
    pub decommissioned_by: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<String>,
    pub cancellation_reason: Option<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ContractRecord {
    /// The days that decide the contract's status, and how it was closed.
    pub fn days(&self) -> crate::domain::contracts::ContractDays {
        use crate::domain::contracts::Closed;
        crate::domain::contracts::ContractDays {
            start: self.start_date,
            end: self.end_date,
            notice_starts_on: self.notice_starts_on,
            closed: if self.cancelled_at.is_some() {
                Some(Closed::Cancelled)
            } else if self.decommissioned_on.is_some() {
                Some(Closed::Decommissioned)
            } else {
                None
            },
        }
    }
}

/// A contract with what is linked to it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContractDetail {
    pub contract: ContractRecord,
    pub request_ids: Vec<Uuid>,
    /// Whether a safeguard clause is recorded for it: on the contract itself, or present on a linked request's
    /// checklist.
    pub safeguard_recorded: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    pub vendor_id: Option<Uuid>,
    pub status: Option<crate::domain::contracts::ContractStatus>,
    pub request_id: Option<Uuid>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct NotificationRecord {
    pub id: Uuid,
    pub recipient_role: String,
    pub recipient_dept: Option<String>,
    pub recipient_vendor: Option<Uuid>,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub dedup_key: String,
    pub message: String,
    pub payload: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    /// When the reader it was listed for marked it read (absent where no reader is in question).
    #[sqlx(default)]
    pub read_at: Option<DateTime<Utc>>,
}

/// A notification the job runner wants to make; ignored when its `dedup_key` was made before.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub recipient_role: String,
    pub recipient_dept: Option<String>,
    pub recipient_vendor: Option<Uuid>,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub dedup_key: String,
    pub message: String,
    pub payload: serde_json::Value,
}

/// Whose notifications to list: a role, and for a buyer or a vendor, their own.
#[derive(Debug, Clone)]
pub struct NotificationAudience {
    pub role: String,
    pub department: Option<String>,
    pub vendor: Option<Uuid>,
    /// Who is reading: read marks are kept per reader (the subject's normalised key).
    pub reader: String,
    /// For a vendor invitation token: only notifications about the assessments it reaches and their findings.
    pub invitation: Option<crate::domain::invitations::InvitationGrant>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub url: String,
    pub body: String,
    pub status: crate::domain::webhooks::DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A webhook (url is the receiver's) or an e-mail (url is `mailto:ADDRESS`).
    pub channel: crate::domain::webhooks::DeliveryChannel,
    /// An e-mail's Message-ID, made with the row and kept across retries.
    pub message_id: Option<String>,
    /// An e-mail that waits for its address's daily digest.
    pub digest: bool,
}

/// How one delivery attempt went.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    Delivered,
    /// Failed; try again at `retry_at`, or dead-letter it when `None`.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// The dates the reminder job looks at, read in one pass.
#[derive(Debug, Clone, Default)]
pub struct ReminderSources {
    /// Open or returned assessments: id, vendor, due date, the request's department.
    pub questionnaires: Vec<(Uuid, Uuid, chrono::NaiveDate, String)>,
    /// Findings with a remediation plan: id, vendor, due date.
    pub remediations: Vec<(Uuid, Uuid, chrono::NaiveDate)>,
    /// Findings whose risk is accepted: id, expiry.
    pub risk_acceptances: Vec<(Uuid, Uuid, chrono::NaiveDate)>,
    /// Contracts neither decommissioned nor cancelled, not yet ended: id, start date, end date, renewal notice
    /// days.
    pub contracts: Vec<(Uuid, chrono::NaiveDate, chrono::NaiveDate, i32)>,
    /// The departments of the requests each of those contracts is linked to: contract id, department.
    pub contract_departments: Vec<(Uuid, String)>,
    /// Requests awaiting a decision: id, since when, department.
    pub waiting_decisions: Vec<(Uuid, DateTime<Utc>, String)>,
}

/// A new review cycle of an accepted assessment, worked out by the caller against the template version it moves to.
#[derive(Debug, Clone)]
pub struct NewCycle {
    pub template_version: String,
    pub due_date: chrono::NaiveDate,
    pub carry: crate::domain::assessments::CarryOver,
    pub note: Option<String>,
}

/// A surveillance technology the City Council approved for a covered department [Boston 16-63].
#[derive(Debug, Clone, serde::Serialize)]
pub struct TechnologyRecord {
    pub request_id: Uuid,
    pub department_code: String,
    pub department_name: String,
    pub title: String,
    pub technology: String,
    pub vendor_name: String,
    pub request_status: Status,
    pub docket: String,
    pub vote_date: chrono::NaiveDate,
    /// Each Surveillance Use Policy filed for it, oldest first: version 1, 2, ...
    pub use_policies: Vec<UsePolicyRecord>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct UsePolicyRecord {
    pub id: Uuid,
    pub request_id: Uuid,
    pub file_name: String,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SurveillanceReportRecord {
    pub id: Uuid,
    pub request_id: Uuid,
    pub department_code: String,
    pub year: i32,
    pub usage: String,
    pub non_suspect_capture: String,
    pub sharing: Json<Vec<crate::workflow::surveillance::Sharing>>,
    pub complaints: String,
    pub audits: String,
    pub violations: String,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An entry the CIO office added to the duplicate check's vocabulary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct VocabularyRecord {
    pub id: Uuid,
    pub concept: String,
    pub label: String,
    #[sqlx(json)]
    pub phrases: Vec<String>,
    pub abbreviation: String,
    pub expansion: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl VocabularyRecord {
    /// What the matcher reads.
    pub fn entry(&self) -> crate::domain::duplicates::VocabularyEntry {
        crate::domain::duplicates::VocabularyEntry {
            concept: self.concept.clone(),
            label: self.label.clone(),
            phrases: self.phrases.clone(),
            abbreviation: self.abbreviation.clone(),
            expansion: self.expansion.clone(),
        }
    }
}

/// A vendor's product or service, as stored.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ProductRecord {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub name: String,
    pub name_key: String,
    pub aliases: Json<Vec<String>>,
    pub hosting: crate::domain::policy::Hosting,
    pub data_classes: Json<Vec<String>>,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new product, checked.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub vendor_id: Uuid,
    pub name: String,
    pub aliases: Vec<String>,
    pub hosting: crate::domain::policy::Hosting,
    pub data_classes: Vec<String>,
}

/// An assessment of a product with the department that asked for it and its last acceptance.
#[derive(Debug, Clone)]
pub struct ProductAssessment {
    pub assessment: AssessmentRecord,
    pub department_code: String,
    /// When and by whom it was last accepted.
    pub accepted: Option<(DateTime<Utc>, String)>,
}

/// A finding standing on an assessment of a product, with the questionnaire and the asking department.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductFinding {
    #[sqlx(flatten)]
    pub finding: FindingRecord,
    pub template_id: String,
    pub department_code: String,
}

/// A product with its assessments and standing findings.
#[derive(Debug, Clone)]
pub struct ProductDetail {
    pub product: ProductRecord,
    pub assessments: Vec<ProductAssessment>,
    pub open_findings: Vec<ProductFinding>,
}

/// A catalogue alias proposed by a denial as a duplicate of a central service, with the service's name.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AliasProposalRecord {
    pub id: Uuid,
    pub service_id: Uuid,
    pub service_name: String,
    pub alias: String,
    pub alias_key: String,
    pub request_id: Uuid,
    pub submission: i32,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    pub status: crate::domain::duplicate_learning::AliasProposalStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}
