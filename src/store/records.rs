//! Rows as the store returns them, and the filters and scopes it takes.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::policy::{Policy, Route, RouteStep};
use crate::domain::request::{RequestFields, Status};

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
    pub status: String,
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

impl RequestSummary {
    /// The status; a value the service does not know is an error, never read as some default.
    pub fn status(&self) -> Result<Status, crate::error::ApiError> {
        Status::parse(&self.status).ok_or_else(|| {
            crate::error::ApiError::Internal(anyhow::anyhow!(
                "request {} has an unknown status {:?}",
                self.id,
                self.status
            ))
        })
    }
}

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
    pub kind: String,
    pub position: i32,
    pub state: String,
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
    /// `submitted`, `edited` (a decided request's edit that changed nothing material) or `reopened`.
    pub kind: String,
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
    pub status: String,
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
    pub candidate_kind: String,
    pub candidate_id: String,
    pub name: String,
    pub score: f64,
    pub class: String,
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
    pub status: String,
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
    Invitation(crate::domain::invitation::InvitationGrant),
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
    pub status: crate::domain::assessment::AssessmentStatus,
    pub due_date: chrono::NaiveDate,
    pub submission: i32,
    pub score: Option<Json<crate::domain::assessment::ScoreView>>,
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
    pub fn status(&self) -> crate::domain::assessment::AssessmentStatus {
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
    pub mapping: crate::sheets::external::Mapping,
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
    pub outcome: String,
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
    pub severity: String,
    pub title: String,
    pub reason: String,
    pub citation: Option<String>,
    pub status: crate::domain::assessment::FindingStatus,
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
    pub severity: String,
    pub title: String,
    pub reason: String,
    pub citation: Option<String>,
}

/// A clause of a request's checklist that someone has dealt with.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SafeguardRecord {
    pub clause_id: String,
    pub status: String,
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
        use crate::domain::safeguards::ClauseStatus;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match self.status.as_str() {
            "present" => ClauseStatus::Present {
                document: text(&self.document),
                section: text(&self.section),
                attested_by: text(&self.attested_by),
                attested_at: self.attested_at.unwrap_or(self.updated_at),
            },
            "waived" => ClauseStatus::Waived {
                justification: text(&self.justification),
                waived_by: text(&self.waived_by),
                waived_at: self.waived_at.unwrap_or(self.updated_at),
            },
            _ => ClauseStatus::Missing,
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
    pub data_disposition: Option<String>,
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
    pub fn days(&self) -> crate::domain::lifecycle::ContractDays {
        use crate::domain::lifecycle::Closed;
        crate::domain::lifecycle::ContractDays {
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
    pub status: Option<crate::domain::lifecycle::ContractStatus>,
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
    pub invitation: Option<crate::domain::invitation::InvitationGrant>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub url: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `webhook` (url is the receiver's) or `email` (url is `mailto:ADDRESS`).
    pub channel: String,
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
    pub carry: crate::domain::assessment::CarryOver,
    pub note: Option<String>,
}

/// An item of the City Technology Plan [EO 2025 Art. 1].
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct PlanItemRecord {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub departments: Json<Vec<String>>,
    pub centralization: String,
    pub priority: i32,
    pub first_fiscal_year: i32,
    pub last_fiscal_year: i32,
    pub capital_cents: i64,
    pub operating_cents: i64,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A department's technology budget for one fiscal year [EO 2025 Art. 2].
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct BudgetRecord {
    pub id: Uuid,
    pub department_code: String,
    pub fiscal_year: i32,
    pub status: String,
    pub amendment: i32,
    pub submission: i32,
    pub approved_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct BudgetLineRecord {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub position: i32,
    pub label: String,
    pub plan_item_id: Option<Uuid>,
    pub capital_cents: i64,
    pub operating_staff_cents: i64,
    pub operating_other_cents: i64,
    pub approved_capital_cents: Option<i64>,
    pub approved_operating_cents: Option<i64>,
}

/// A line with its plan item and what the requests on it draw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BudgetLineDetail {
    pub line: BudgetLineRecord,
    pub plan_item_title: Option<String>,
    /// Requests in review or approved on the line: their capital and yearly operating costs, and how many.
    pub committed_capital_cents: i64,
    pub committed_operating_cents: i64,
    pub committed_requests: i64,
    /// Requests of any status that name the line.
    pub named_by: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct BudgetReviewRecord {
    pub submission: i32,
    pub role: String,
    pub outcome: String,
    pub comments: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BudgetDetail {
    pub budget: BudgetRecord,
    pub lines: Vec<BudgetLineDetail>,
    pub reviews: Vec<BudgetReviewRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct BudgetFilter {
    pub department: Option<String>,
    pub fiscal_year: Option<i32>,
    pub status: Option<String>,
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
    pub request_status: String,
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

/// Which incidents and orders a caller may see. Out-of-scope objects answer 404, like missing ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentScope {
    /// City staff: every incident; for orders, every order.
    All,
    /// A vendor: the incidents that name it (which include all it reported) and the orders against it.
    Vendor(Uuid),
    /// A vendor's invitation token: the vendor's incidents that name the invitation's request.
    Invitation { vendor: Uuid, request: Uuid },
    /// A buyer, for orders: the orders against its department (incidents: all, as for staff).
    Department(String),
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IncidentRecord {
    pub id: Uuid,
    pub vendor_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub systems: Json<Vec<String>>,
    pub data_classes: Json<Vec<String>>,
    pub contract_ids: Json<Vec<Uuid>>,
    pub request_ids: Json<Vec<Uuid>>,
    pub residents_ma: i64,
    pub residents_ct: i64,
    pub residents_other: i64,
    pub ssn_involved: bool,
    pub tin_involved: bool,
    pub discovered_at: DateTime<Utc>,
    pub city_notified_at: DateTime<Utc>,
    pub steps_taken: Option<String>,
    pub responsible_person: Option<String>,
    pub status: String,
    pub not_breach_reason: Option<String>,
    pub review_findings: Option<String>,
    pub review_finding_ids: Json<Vec<Uuid>>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub hold: bool,
    pub hold_reason: Option<String>,
    pub reported_by: String,
    pub reporter_role: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IncidentEvidenceRecord {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub kind: crate::domain::incidents::EvidenceKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_role: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IncidentNoticeRecord {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub recipient: String,
    pub sent_at: DateTime<Utc>,
    pub method: String,
    pub reference: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// An incident with its evidence (without the bytes) and the notices recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IncidentDetail {
    pub incident: IncidentRecord,
    pub evidence: Vec<IncidentEvidenceRecord>,
    pub notices: Vec<IncidentNoticeRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<crate::domain::incidents::IncidentStatus>,
    pub vendor_id: Option<Uuid>,
}

/// A step of an incident's lifecycle, with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentStep {
    Triage,
    Contain,
    Review {
        findings: String,
        /// The vendor's assessment the review raises findings on.
        assessment_id: Option<Uuid>,
        vendor_findings: Vec<crate::workflow::incidents::ReviewFinding>,
    },
    Close,
    NotABreach {
        reason: String,
    },
}

/// A notice the city sent about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub recipient: crate::domain::incidents::NoticeRecipient,
    pub sent_at: DateTime<Utc>,
    pub method: String,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct OrderRecord {
    pub id: Uuid,
    pub vendor_id: Option<Uuid>,
    pub department_code: Option<String>,
    pub incident_id: Option<Uuid>,
    pub finding_ids: Json<Vec<Uuid>>,
    pub actions: Json<Vec<String>>,
    pub due_date: chrono::NaiveDate,
    pub status: String,
    pub status_before_appeal: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub completion_note: Option<String>,
    pub completion_evidence: Option<String>,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub reopen_reason: Option<String>,
    pub appeal_grounds: Option<String>,
    pub appealed_by: Option<String>,
    pub appealed_at: Option<DateTime<Utc>>,
    pub appeal_outcome: Option<String>,
    pub appeal_reason: Option<String>,
    pub appeal_decided_by: Option<String>,
    pub appeal_decided_at: Option<DateTime<Utc>>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<crate::domain::orders::OrderStatus>,
    pub vendor_id: Option<Uuid>,
    pub incident_id: Option<Uuid>,
}

/// A change of a remediation order, with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderChange {
    Acknowledge,
    Completion {
        note: String,
        evidence: String,
    },
    Verify,
    Reopen {
        reason: String,
    },
    Appeal {
        grounds: String,
    },
    DecideAppeal {
        outcome: crate::domain::orders::AppealOutcome,
        reason: String,
    },
}

impl IncidentRecord {
    /// The stored status; the table's CHECK admits only known names, so another is a fault of the store.
    pub fn status(
        &self,
    ) -> Result<crate::domain::incidents::IncidentStatus, crate::error::ApiError> {
        crate::domain::incidents::IncidentStatus::parse(&self.status)
            .map_err(|e| crate::error::ApiError::Internal(anyhow::anyhow!(e)))
    }

    /// What the deadlines read of the incident.
    pub fn facts(&self) -> crate::domain::incidents::IncidentFacts {
        crate::domain::incidents::IncidentFacts {
            discovered_at: self.discovered_at,
            city_notified_at: self.city_notified_at,
            vendor_concerned: self.vendor_id.is_some(),
            residents_ma: self.residents_ma,
            residents_ct: self.residents_ct,
            ssn_involved: self.ssn_involved,
            tin_involved: self.tin_involved,
        }
    }
}

impl IncidentDetail {
    /// The notices recorded, by recipient and time sent.
    pub fn sent(&self) -> Vec<(crate::domain::incidents::NoticeRecipient, DateTime<Utc>)> {
        self.notices
            .iter()
            .filter_map(|n| {
                crate::domain::incidents::NoticeRecipient::parse(&n.recipient)
                    .ok()
                    .map(|r| (r, n.sent_at))
            })
            .collect()
    }

    /// Whether a written law-enforcement determination is on file [c.93H §4].
    pub fn law_enforcement_delay(&self) -> bool {
        self.evidence
            .iter()
            .any(|e| e.kind == crate::domain::incidents::EvidenceKind::LawEnforcementDetermination)
    }
}

impl IncidentScope {
    pub fn admits(&self, incident: &IncidentRecord) -> bool {
        match self {
            IncidentScope::All | IncidentScope::Department(_) => true,
            IncidentScope::Vendor(v) => incident.vendor_id == Some(*v),
            IncidentScope::Invitation { vendor, request } => {
                incident.vendor_id == Some(*vendor) && incident.request_ids.0.contains(request)
            }
        }
    }

    pub fn admits_order(&self, order: &OrderRecord) -> bool {
        match self {
            IncidentScope::All => true,
            IncidentScope::Vendor(v) => order.vendor_id == Some(*v),
            IncidentScope::Invitation { .. } => false,
            IncidentScope::Department(d) => order.department_code.as_deref() == Some(d),
        }
    }
}

impl OrderRecord {
    /// The stored status, refused by name when unknown (see [`IncidentRecord::status`]).
    pub fn status(&self) -> Result<crate::domain::orders::OrderStatus, sqlx::Error> {
        crate::domain::orders::OrderStatus::parse(&self.status)
            .map_err(|e| sqlx::Error::Decode(e.into()))
    }
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
    pub hosting: String,
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
    pub hosting: String,
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

/// A one-time console sign-in link (`procurement-review login-link`): who it signs in, until when, and whether it
/// was used. The code itself is never stored, only its SHA-256.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct LoginLinkRecord {
    pub id: Uuid,
    #[serde(skip)]
    pub code_hash: String,
    pub subject: String,
    pub role: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A console session: a row per signed-in browser, found by the SHA-256 of its cookie. Roles are kept space
/// separated, as the token claims them.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: Uuid,
    #[serde(skip)]
    pub token_hash: String,
    #[serde(skip)]
    pub csrf_token: String,
    pub subject: String,
    pub name: Option<String>,
    pub roles: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub invitation_id: Option<Uuid>,
    pub method: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The address the identity provider gave (OpenID Connect sessions only).
    pub email: Option<String>,
}

/// What a new session is opened with.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub subject: String,
    pub name: Option<String>,
    pub roles: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub invitation_id: Option<Uuid>,
    pub method: String,
    pub expires_at: DateTime<Utc>,
    pub email: Option<String>,
}

/// An OpenID Connect sign-in under way: the `state` sent to the provider (its SHA-256), the browser that started
/// it (the SHA-256 of its cookie), and what the callback checks the provider's answer with. Used once.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct OidcAttemptRecord {
    pub id: Uuid,
    #[serde(skip)]
    pub state_hash: String,
    #[serde(skip)]
    pub browser_hash: String,
    #[serde(skip)]
    pub nonce: String,
    #[serde(skip)]
    pub pkce_verifier: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// What a new OpenID Connect sign-in is started with.
#[derive(Debug, Clone)]
pub struct NewOidcAttempt {
    pub state_hash: String,
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub expires_at: DateTime<Utc>,
}

/// Someone who signed in through the identity provider and gave an address, as of their last sign-in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct IdentityPerson {
    pub subject_key: String,
    pub subject: String,
    pub name: Option<String>,
    pub email: String,
    /// Space separated, as on a session.
    pub roles: String,
    pub department: Option<String>,
    pub last_signed_in: DateTime<Utc>,
}

/// What a new login link is issued with.
#[derive(Debug, Clone)]
pub struct NewLoginLink {
    pub code_hash: String,
    pub subject: String,
    pub role: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
}

/// Where a newest-first page ends: the creation time and id of its last row. The next page starts after it,
/// so a page costs the same however deep it is, and rows added meanwhile do not shift it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Keyset {
    /// An opaque token for the client: URL-safe base64 of `<RFC 3339 time>|<id>`.
    pub fn encode(&self) -> String {
        use base64::Engine;
        let text = format!(
            "{}|{}",
            self.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            self.id
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// The keyset a token names, or `None` for anything this service did not hand out.
    pub fn decode(token: &str) -> Option<Keyset> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (time, id) = text.split_once('|')?;
        Some(Keyset {
            created_at: DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc),
            id: id.parse().ok()?,
        })
    }
}

impl Keyset {
    /// Cuts a page read with one row more than `limit` back to `limit` rows; returns where the next page starts
    /// (the last row kept, by `key`) when there was that one more row.
    pub fn next_of<T>(
        items: &mut Vec<T>,
        limit: i64,
        key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    ) -> Option<Keyset> {
        if items.len() as i64 <= limit {
            return None;
        }
        items.truncate(limit as usize);
        items.last().map(|row| {
            let (created_at, id) = key(row);
            Keyset { created_at, id }
        })
    }
}

/// Where an oldest-first page of a sequence-numbered list (the audit trail) ends: the number of its last row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqCursor(pub i64);

impl SeqCursor {
    /// An opaque token for the client: URL-safe base64 of `seq|<number>`.
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("seq|{}", self.0))
    }

    /// The cursor a token names, or `None` for anything this service did not hand out.
    pub fn decode(token: &str) -> Option<SeqCursor> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        text.strip_prefix("seq|")?.parse().ok().map(SeqCursor)
    }
}

#[cfg(test)]
mod keyset_tests {
    use super::Keyset;

    #[test]
    fn a_sequence_cursor_survives_its_token_and_no_keyset_passes_for_one() {
        use super::SeqCursor;
        let c = SeqCursor(1_000_042);
        assert_eq!(SeqCursor::decode(&c.encode()), Some(c));
        let k = Keyset {
            created_at: chrono::Utc::now(),
            id: uuid::Uuid::new_v4(),
        };
        assert_eq!(SeqCursor::decode(&k.encode()), None);
        assert_eq!(Keyset::decode(&c.encode()), None);
        assert_eq!(SeqCursor::decode("seq|12"), None, "not base64 of it");
    }

    #[test]
    fn a_keyset_survives_its_token_and_anything_else_is_refused() {
        let k = Keyset {
            created_at: chrono::DateTime::parse_from_rfc3339("2026-11-30T23:59:58.123456789Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            id: uuid::Uuid::from_u128(42),
        };
        assert_eq!(Keyset::decode(&k.encode()), Some(k));
        for bad in ["", "not base64!", "bm9waXBl", "MjAyNnxub3QtYS11dWlk"] {
            assert_eq!(Keyset::decode(bad), None, "{bad}");
        }
    }
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
    /// `proposed`, `accepted` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}
