//! Rows as the store returns them, and the filters and scopes it takes.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::policy::{Policy, Route, RouteStep};
use crate::domain::request::{RequestFields, Status};
use crate::domain::workflow::StepState;

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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRecord {
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
    pub route: Option<Json<Route>>,
    pub created_by: String,
    pub submitted_by: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RequestRecord {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub status: Option<Status>,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    /// Only requests with a pending step of one of these kinds (the caller's decision queue).
    pub awaiting_kinds: Option<Vec<String>>,
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
}

impl StepRecord {
    pub fn state(&self) -> StepState {
        StepState::parse(&self.state).unwrap_or(StepState::Pending)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRecord {
    pub submission: i32,
    pub fields: Json<RequestFields>,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
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
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DismissalRecord {
    pub candidate_kind: String,
    pub candidate_id: String,
    pub reason: String,
    pub dismissed_by: String,
    pub dismissed_at: DateTime<Utc>,
}

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
    pub contact_email: String,
    pub contact_name: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// Which assessments and findings a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorScope {
    All,
    /// A buyer: the assessments of their department's requests.
    Department(String),
    /// A vendor: its own.
    Vendor(Uuid),
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AssessmentRecord {
    pub id: Uuid,
    pub request_id: Uuid,
    pub vendor_id: Uuid,
    pub template_id: String,
    pub template_version: String,
    pub status: String,
    pub due_date: chrono::NaiveDate,
    pub submission: i32,
    pub score: Option<Json<crate::domain::assessment::ScoreView>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AnswerRecord {
    pub question_id: String,
    pub value: Json<serde_json::Value>,
    pub comment: Option<String>,
    /// `vendor`, or where a derived answer came from (`caiq-v4:IAM-14.1`).
    pub source: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
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
    pub status: String,
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
